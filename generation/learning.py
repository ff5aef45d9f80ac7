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
from generation.engine.params import describe_params

STUDIO_PATH = "/studio/"
TRAIN_PATH = "/train/"  # the Train page (generation.training_views)

# slug -> the page: its title, the registered model it explains (None: the training page), the index paragraph
# and the picture that goes with it.
TOPICS: dict[str, dict[str, Any]] = {
    "arcnn": {
        "title": "AR-CNN: the editor",
        "model": "arcnn",
        "summary": "Keeps your tune and writes held notes under it: a U-Net looks at the whole piano roll and "
                   "says which note to add or take away, then looks again, and stops when it has nothing it is "
                   "sure of left to change (DeepComposer's AR-CNN). In key and fast; a thin accompaniment, not "
                   "four-part Bach.",
        "picture": "learn/arcnn-before-after.png",
        "alt": "Piano roll of Amazing Grace before and after the AR-CNN: the tune is kept and held notes are "
               "added under it",
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
        "summary": "Listens to the end of your music and keeps playing, up to 30 s more, in your tempo, key and "
                   "voices, one event at a time (a note starts, a note stops, time moves on), each chosen from what "
                   "it predicts comes next. A melody goes on as a melody, a four-voice chorale in four voices.",
        "picture": "learn/transformer-before-after.png",
        "alt": "Piano roll of Amazing Grace before and after the Transformer: the tune unchanged and ten seconds "
               "of new melody in G major on the tune's beat after its end",
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
        "temperature": "At 2-6 the added notes also spread wider from the melody. At any temperature notes are "
                       "only added inside the range the model was trained on (pitches 31-87) and in your "
                       "melody's key (or on a pitch class your track already uses).",
    },
    "gan": {
        "style": "Which shipped GAN writes the parts; each was trained on its own corpus. chorale (the default) "
                 "sounds like a hymn: a chord on each beat and clear cadences. renaissance sounds like a Palestrina "
                 "mass: longer notes, smoother lines that move more on their own, fewer chord changes.",
        "melody": "The made-up tune is not the GAN's own work: it steps through pitches and note lengths as the "
                  "chorale or Palestrina tunes it learned from do, and ends on the tonic. Any tracks of yours stay "
                  "in the file.",
        "bars": "Used with melody=generate only. The last of them closes on the tonic, held for a half note.",
        "key": "Used with melody=generate only; it is also written into the file as its key signature.",
        "programs": "The studio lists the 128 General MIDI instruments by name (the API takes their numbers): "
                    "0 Acoustic Grand Piano (the default), 48 String Ensemble 1, 52 Choir Aahs, 19 Church Organ. "
                    "It changes the sound, not the notes: the same seed writes the same parts.",
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
        "extension_seconds": "Shorter continuations stay closer to the style: measured realness of the added music "
                             "is 0.64 over 10 s and 0.34 over 20 s "
                             "(real chorales: 0.83-0.87).",
        "max_rest_seconds": "The model is not allowed to stop playing for longer than this.",
        "max_note_seconds": "Keeps the model from holding one note for ever.",
    },
}
# Check your understanding: a few questions at the end of each page, as DeepComposer's learning capsules had, each
# with its answer behind a click. (question, answer)
QUESTIONS: dict[str, list[tuple[str, str]]] = {
    "arcnn": [
        ("You want the AR-CNN to keep your tune exactly and only add notes under it. Which parameter do you lower?",
         "max_remove_pct: at 0 it may not take away any of your notes; it can still add up to max_add cells."),
        ("Why does a second run with a new seed give a different accompaniment for the same melody?",
         "Each edit is drawn from the model's prediction of which cell to flip; the seed fixes those draws. The "
         "same seed and input give the same output."),
        ("You asked for 10 iterations and got almost nothing new. Why?",
         "Each iteration adds or removes one cell (one pitch for one sixteenth): 10 edits are two or three short "
         "notes. Around 100 iterations write a light harmony under an 8-bar tune."),
    ],
    "gan": [
        ("The GAN has two networks. Which one does the studio run, and what was the other one for?",
         "The studio runs the generator, which writes alto, tenor and bass. The discriminator only served in "
         "training: it learned to tell Bach's parts from the generator's, and the generator learned to fool it."),
        ("While a GAN trains, its generator loss goes up and down instead of falling. Is the training broken?",
         "Not necessarily: the two networks play against each other, so neither loss has to fall. Judge the run by "
         "the music instead: the per-part measures (notes in key, pitches used) against your data's values."),
        ("You like the parts but want them played by strings. What do you change, and do the notes change?",
         "The instruments (programs), e.g. String Ensemble 1 for each part. Only the sound changes: the same seed "
         "writes the same notes."),
    ],
    "transformer": [
        ("What does the Transformer predict at each step?",
         "The next event: a note starting, a note stopping, or time moving on, given everything before it (your "
         "track's end and what it has written so far)."),
        ("Your continuation drifts away from the chorale style after a while. Which settings help?",
         "A shorter extension_seconds (the added music stays closer to the style over 10 s than over 20 s), and a "
         "lower temperature or a nucleus p of 0.8-0.9 for safer choices."),
        ("With sampling=topk and k=1 the music loops. Why?",
         "k=1 always takes the single most likely event, so once a pattern is likely it keeps repeating; a larger "
         "k (40) or nucleus sampling leaves room for variety."),
    ],
    "training": [
        ("The training loss keeps falling but the validation loss has started to rise. What is happening, and "
         "which weights should you keep?",
         "The model has started to memorize your training pieces. Keep the weights from where the validation loss "
         "was lowest; more steps will not help."),
        ("Your loss curve jumps about and rises in the first hundred steps. What do you change?",
         "Lower the learning rate: each update is too big."),
        ("Why does fine-tuning the shipped model need fewer of your files than training from scratch?",
         "The shipped model already knows Bach's chorales; fine-tuning only bends it toward your music, while a "
         "model from scratch knows only your files."),
    ],
}

SEED_NOTE = "Use it to come back to a result you liked; leave it empty for a new one each time."

# Notes on training parameters (the spec's TRAIN_PARAMS, when a model has them), by common name.
TRAIN_PARAM_NOTES: dict[str, str] = {  # only what the one-line help (the spec's) does not already say
    "steps": "Whether the music gets better is what the validation loss tells you (see the training page).",
    "learning_rate": "Watch the first hundred steps of the loss curve: a jagged or rising line means lower it.",
    "batch_size": "Each example is a window of a few bars cut from your files.",
    "model_size": "A bigger network also needs more data, and memorizes a small data set sooner.",
    "start": "Without the shipped weights it needs more files and more steps before it writes anything useful.",
    "seed": "It fixes which windows are drawn, and in which order.",
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
    for row in describe_params(specs):
        note = notes.get(row["name"], SEED_NOTE if row["name"] == "seed" else "")
        rows.append({**row, "default_text": _default_text(row), "note": note})
    return rows


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
        "questions": QUESTIONS.get(topic, []),
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
