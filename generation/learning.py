"""The learning pages (/learn/): one per model and one on training, public (no login). What the model does to music,
how it works, its measured strengths and weaknesses, and every user parameter -- the tables are built from the
registry (each spec's ``PARAMS``, and ``TRAIN_PARAMS`` where a spec has them), so a new parameter shows up here
without an edit; the longer musical notes below are added where written. The pictures are the project's own
(generation/static/learn/, made by scripts/make_learning_pictures.py). No torch: the registry and specs are
torch-free."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from generation.engine import registry
from generation.engine.params import NumberParam, describe_params

STUDIO_PATH = "/studio/"
TRAIN_PATH = "/train/"  # the Train page (generation.training_views)

# slug -> the page: its title, the registered model it explains (None: the training page), the index paragraph
# and the picture that goes with it.
TOPICS: dict[str, dict[str, Any]] = {
    "arcnn": {
        "title": "AR-CNN: the editor",
        "model": "arcnn",
        "summary": "Keeps your tune and writes lines under it, one grid cell at a time: a U-Net looks at the whole "
                   "piano roll and says which cell to flip, add a note or take one away, then looks again "
                   "(DeepComposer's AR-CNN). In key and fast; a thin accompaniment, not four-part Bach.",
        "picture": "learn/arcnn-before-after.png",
        "alt": "Piano roll of Amazing Grace before and after the AR-CNN: the tune is kept and a few lower notes "
               "are added under it",
    },
    "gan": {
        "title": "GAN: the accompanist",
        "model": "gan",
        "summary": "Writes alto, tenor and bass under your melody, four bars at a time: a generator trained on "
                   "Bach's parts while a second network (the discriminator) learned to tell its parts from Bach's. "
                   "Held chords that fit the tune, a chord on every beat; each seed a different accompaniment.",
        "picture": "learn/gan-before-after.png",
        "alt": "Piano roll of Amazing Grace before and after the GAN: three added parts, alto, tenor and bass, "
               "in held notes under the melody",
    },
    "transformer": {
        "title": "Transformer: the continuer",
        "model": "transformer",
        "summary": "Listens to the end of your track and keeps playing, up to 30 s more, one event at a time "
                   "(a note starts, a note stops, time moves on), each chosen from what it predicts comes next. "
                   "Sounds like a chorale at first and drifts away from the style the longer it plays: 20 s out, "
                   "it seldom sounds like Bach.",
        "picture": "learn/transformer-before-after.png",
        "alt": "Piano roll of Amazing Grace before and after the Transformer: the tune unchanged and ten seconds "
               "of new melody after its end",
    },
    "training": {
        "title": "Training: reading a loss curve",
        "model": None,
        "summary": "What training does, what its knobs (steps, learning rate, batch size, model size) change, and "
                   "how to read a loss curve to decide when to stop: when the validation line turns up while the "
                   "training line keeps falling, the model has started to memorize.",
        "picture": "learn/training-when-to-stop.png",
        "alt": "Loss curve of a tiny model: training loss keeps falling while validation loss turns up; the "
               "lowest validation point is marked stop here",
    },
}

# Longer musical explanations, by model and parameter name. A parameter missing here still gets its table row (name,
# range, default, one-line help) from the registry.
PARAM_NOTES: dict[str, dict[str, str]] = {
    "arcnn": {
        "max_remove_pct": "A cell is one pitch for one sixteenth. At 10 your tune stays: at least nine tenths of it "
                          "is kept at any temperature, and at the defaults 99-100 % of a melody's notes come back "
                          "whole. Raise it to let the model \"correct\" notes it finds un-Bach-like; at 100 it may "
                          "rewrite the line.",
        "max_add": "At 100 iterations it never binds (each edit adds at most one cell); lower it (50) for a sparser "
                   "accompaniment.",
        "iterations": "Each added cell is held as a note up to your melody's next note (half a bar at most), so 100 "
                      "edits write roughly 20-30 harmony notes under an 8-bar tune; at the defaults two or more "
                      "notes sound together about half of the time. Fewer iterations, lighter harmony.",
        "temperature": "Low values pick the most likely chord tones close to the melody; high values (2-6) pick "
                       "more surprising notes, spread wider. At any temperature notes are only added inside the "
                       "range the model was trained on (pitches 31-87) and in your melody's key (or on a pitch "
                       "class your track already uses).",
    },
    "gan": {
        "style": "Which shipped GAN writes the parts; each was trained on its own corpus. chorale (the default) "
                 "sounds like a hymn: a chord on each beat and clear cadences. renaissance sounds like a Palestrina "
                 "mass: longer notes, smoother lines that move more on their own, fewer chord changes.",
        "melody": "generate writes a soprano too (from a small Markov chain over pitches and note lengths fitted to "
                  "the style's training sopranos: not the GAN), then the GAN accompanies it; your tracks are kept. "
                  "An input with no notes does the same.",
        "bars": "Only when the soprano is written (melody=generate): how many bars of 4/4. It ends on the key's "
                "tonic, a half note.",
        "key": "Only when the soprano is written: its key, and the file's key signature. A melody of yours keeps "
               "its own key.",
        "programs": "0,0,0 is piano (the default), 48,48,48 strings, 52,52,52 choir, 19,19,19 organ. It changes "
                    "the sound, not the notes: the same seed writes the same parts.",
    },
    "transformer": {
        "sampling": "How the next event is drawn from the model's prediction. topk: among the k most likely "
                    "events; nucleus: among the fewest most likely events that together hold probability p, so the "
                    "choice is narrow where the model is sure (a cadence) and wide where it is not.",
        "k": "Only with sampling=topk. 1 always takes the single most likely event (repetitive, can loop); 40 "
             "(the default) leaves room for variety; very high values let unlikely events through (wrong notes).",
        "p": "Only with sampling=nucleus. 0.95 (the default) cuts the unlikely tail; lower (0.8-0.9) plays safer, "
             "more chorale-like; 1 keeps every event, however unlikely.",
        "temperature": "Below 1 sharpens the model's prediction before the draw, above 1 flattens it. Low: "
                       "predictable lines, risk of repeating itself; high: more surprising, more chromatic, "
                       "further from the style.",
        "prompt_seconds": "Use it to make the continuation follow only your last phrase: the model hears just "
                          "that much of your track's end. The model attends to about 18 s of chorale at once "
                          "anyway.",
        "extension_seconds": "How much new music is added after your input. Shorter continuations stay closer to "
                             "the style: measured realness of the added music is 0.64 over 10 s and 0.34 over 20 s "
                             "(real chorales: 0.83-0.87).",
        "max_rest_seconds": "The model is not allowed to stop playing for longer than this.",
        "max_note_seconds": "Keeps the model from holding one note for ever.",
    },
}
SEED_NOTE = "Use it to come back to a result you liked; leave it empty for a new one each time."

# Notes on training parameters (the spec's TRAIN_PARAMS, when a model has them), by common name.
TRAIN_PARAM_NOTES: dict[str, str] = {
    "steps": "How many updates training makes. More steps, lower training loss; whether the music gets better "
             "is what the validation loss tells you (see the training page).",
    "learning_rate": "The size of each update. Too high: the loss jumps about or blows up; too low: it falls very "
                     "slowly.",
    "batch_size": "How many examples each update looks at. Larger batches give a smoother loss curve and cost "
                  "more time per step.",
    "model_size": "How big the network is. A bigger model can learn more, needs more data and time, and "
                  "memorizes a small data set sooner.",
    "start": "Fine-tuning the shipped model (shipped) keeps what it learned from the Bach chorales and bends it "
             "toward your music in a few minutes; from scratch it knows only your files, so it needs more of "
             "them and more steps.",
    "seed": "Fixes the random draws of the run (which windows, in which order): the same seed, data and settings "
            "give the same model on the same machine.",
}


def _default_text(row: dict[str, Any]) -> str:
    default = row["default"]
    if default is None:
        return "random" if row["name"] == "seed" else "automatic"
    if isinstance(default, list):
        return ",".join(str(v) for v in default)
    return f"{default:g}" if isinstance(default, float) else str(default)


def param_rows(specs, notes: dict[str, str]) -> list[dict[str, Any]]:
    """Table rows from a spec's parameters: name, range, default, one-line help (the registry's) and a note."""
    rows = []
    for spec, row in zip(specs, describe_params(specs), strict=True):
        note = notes.get(row["name"], SEED_NOTE if row["name"] == "seed" else "")
        rows.append({**row, "range": range_text(spec), "default_text": _default_text(row), "note": note})
    return rows


def range_text(spec) -> str:
    """The registry's range text, with whole-number ranges written out in full (the seed's 0-4294967295, where
    the registry's short form says 4.29497e+09)."""
    if isinstance(spec, NumberParam) and spec.integer:
        return f"{int(spec.low)}-{int(spec.high)}"
    return spec.range_text


def model_params(name: str) -> list[dict[str, Any]]:
    return param_rows(registry.get_generator_spec(name).PARAMS, PARAM_NOTES.get(name, {}))


def model_train_params(name: str) -> list[dict[str, Any]]:
    """The spec's TRAIN_PARAMS as rows; empty while a spec has none."""
    return param_rows(getattr(registry.get_generator_spec(name), "TRAIN_PARAMS", ()) or (), TRAIN_PARAM_NOTES)


def _nav() -> list[dict[str, str]]:
    return [{"slug": slug, "title": topic["title"]} for slug, topic in TOPICS.items()]


def learn_index(request: HttpRequest) -> HttpResponse:
    topics = [{"slug": slug, **topic} for slug, topic in TOPICS.items()]
    return render(request, "generation/learn/index.html", {
        "topics": topics, "nav": _nav(), "studio_path": STUDIO_PATH, "train_path": TRAIN_PATH,
    })


def learn_topic(request: HttpRequest, topic: str) -> HttpResponse:
    if topic not in TOPICS:
        raise Http404("No such learning page.")
    page = TOPICS[topic]
    context: dict[str, Any] = {
        "topic": {"slug": topic, **page}, "nav": _nav(), "studio_path": STUDIO_PATH, "train_path": TRAIN_PATH,
    }
    if page["model"]:
        spec = registry.get_generator_spec(page["model"])
        context.update(description=spec.DESCRIPTION, params=model_params(page["model"]),
                       train_params=model_train_params(page["model"]))
    else:
        context["models_train_params"] = [
            {"name": slug, "title": t["title"], "rows": model_train_params(t["model"])}
            for slug, t in TOPICS.items() if t["model"]
        ]
    return render(request, f"generation/learn/{topic}.html", context)
