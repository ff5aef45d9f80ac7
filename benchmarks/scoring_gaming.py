"""Can the automatic judge be gamed? (issue "An automatic judge that cannot be gamed"; docs/design.md sections 5 and 8.)

Builds at least 12 trivial or degenerate families from scratch (generation/engine/trivial_music.py: held chords,
long notes, scales, arpeggios, chord and cadence loops, repeated notes, two pitches, sparse notes, random notes; rhythm
erased and one window repeated are made from held-out pieces the models never trained on), 30 s each, and scores
them as entries, next to real held-out music, in two challenges on a scratch database:

- "bach": no reference set: the default Bach reference figures and realness model; real = the 37 test-split chorales.
- "folk": a reference set of Essen folk tunes (music21's essenFolksong, generation/engine/folk.py, split by a hash of
  the name): its train tunes (``--folk-reference N`` of them) uploaded as reference files, its realness model trained
  by the same service the worker runs; real = the held-out (test split) tunes.

Table 1: each family's mean and max automatic score as the entry gets it (after the copy penalty: held-out chorales
are in the originality index, so recombinations of them are copies) and, in brackets, before the penalty (what
the same recombination of music the index does not know would get), against the 10th percentile of real held-out
music of the style. Target: every family's mean <= 40 and its max below that percentile.
The recombined families (generation/engine/recombined_music.py: retrogrades,
inversions, shifted voices, Markov chains over chords, patchworks, interleaved pieces) are built from held-out
pieces only, with seeds the training never used. Table 1b: the adversarial entrant: a hill-climb of
``--climb-steps`` single-note changes from a parallel-harmony scale, each kept when the whole automatic score
(``score_pieces``, in-process) does not drop, for ``--climbs`` held-out seeds; target: below the real 10th
percentile after every step count; with the folk challenge, the climbed pieces are also scored by the folk
challenge's own realness model (transfer). Table 5: real held-out chorales as performed (staccato, other tempi,
humanized timing, wrong notes): within 10 points of the quantized original (wrong notes may cost proportionately
more). Table 2: real music of other styles (Mozart, Beethoven, Haydn, Joplin, and each corpus in the other
challenge). Table 3: invariances on real pieces (same audio in other note values and tempo markings; transposition
within a fifth). Table 4: the thresholds of the content check, measured.

    .venv/bin/python benchmarks/scoring_gaming.py [--per-family 8] [--folk-reference 120] [--climbs 3]
        [--climb-steps 1500] [--only climb,performed]   (--folk-reference 0: the bach challenge only)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")
_SCRATCH = tempfile.mkdtemp(prefix="chartbusters-gaming-")
os.environ["DATABASE_URL"] = f"sqlite:///{_SCRATCH}/bench.sqlite3"  # never the development database
os.environ["MEDIA_ROOT"] = f"{_SCRATCH}/media"

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pretty_midi  # noqa: E402

from evaluation.automatic import ScoringError, score_pieces  # noqa: E402
from generation.engine.dataset import load_chorales, pieces_split  # noqa: E402
from generation.engine.folk import load_folk  # noqa: E402
from generation.engine.hill_climb import HELD_OUT_SEEDS, climb  # noqa: E402
from generation.engine.recombined_music import CORPUS, DERIVED, corpus_sources  # noqa: E402
from generation.engine.trivial_music import DERIVED_FAMILIES, SCRATCH_FAMILIES, as_midi  # noqa: E402

SECONDS = 30
STEPS = SECONDS * 8
TARGET = 40.0
OTHER_STYLES = {
    "Mozart K155 i": "mozart/k155/movement1",
    "Mozart K458 i": "mozart/k458/movement1",
    "Beethoven Op. 18/1 i": "beethoven/opus18no1/movement1",
    "Haydn Op. 74/1 i": "haydn/opus74no1/movement1",
    "Joplin Maple Leaf Rag": "joplin/maple_leaf_rag",
}


CLIMB_SEED = HELD_OUT_SEEDS  # the climbs' seeds (7000, 7001, ...): no adversarial round (climb_scorer) uses them
CLIMB_CHECKPOINTS = (0, 50, 200, 500, 1000, 1500)


def families(per_family: int, held_out: list) -> dict[str, list[pretty_midi.PrettyMIDI]]:
    """Every family, ``per_family`` pieces of 30 s (seed 2026: not a training seed); derived and corpus families are
    made from the held-out pieces only."""
    rng = np.random.default_rng(2026)
    out = {name: [as_midi(*fn(STEPS, rng)) for _ in range(per_family)] for name, fn in SCRATCH_FAMILIES.items()}
    for name, fn in {**DERIVED_FAMILIES, **DERIVED}.items():
        out[name] = [as_midi(*fn(p.rolls[:, :STEPS], p.onsets[:, :STEPS], rng)) for p in held_out[:per_family]]
    corpus = corpus_sources(held_out)
    for name, fn in CORPUS.items():
        out[name] = [as_midi(*fn(corpus, STEPS, rng)) for _ in range(per_family)]
    return out


def automatic_of(tracks: np.ndarray, onsets: np.ndarray, challenge=None) -> float:
    """The adversary's objective: the automatic score before the copy penalty, in-process (0 when refused)."""
    try:
        return score_pieces([as_midi(tracks, onsets)], challenge=challenge).automatic_unpenalized
    except ScoringError:
        return 0.0


def hill_climbs(n: int, steps: int) -> list[dict]:
    """``n`` climbs (held-out seeds) against the bach scorer: the score at each checkpoint and the final piece."""
    out = []
    for k in range(n):
        trace: dict[int, float] = {}

        def note(climber, trace=trace):
            if climber.steps in CLIMB_CHECKPOINTS:
                trace[climber.steps] = climber.score

        started = time.perf_counter()
        climber = climb(automatic_of, STEPS, steps, np.random.default_rng(CLIMB_SEED + k), on_step=note)
        trace[0] = automatic_of(*climb(automatic_of, STEPS, 0, np.random.default_rng(CLIMB_SEED + k)).piece())
        out.append({"seed": CLIMB_SEED + k, "trace": trace, "final": climber.score, "piece": as_midi(*climber.piece()),
                    "seconds": time.perf_counter() - started})
    return out


def performed_midi(pm: pretty_midi.PrettyMIDI, *, articulation: float = 1.0, tempo_factor: float = 1.0,
                   jitter_s: float = 0.0, wrong_share: float = 0.0, seed: int = 0) -> pretty_midi.PrettyMIDI:
    """The piece as a performer plays it, in seconds (not on any grid): each note ``articulation`` of its length,
    every time ``tempo_factor`` times as long, onsets moved up to +- ``jitter_s``, ``wrong_share`` of the notes a
    semitone or a tone off."""
    rng = np.random.default_rng(seed)
    out = pretty_midi.PrettyMIDI()
    for inst in pm.instruments:
        new = pretty_midi.Instrument(program=inst.program, is_drum=inst.is_drum, name=inst.name)
        for n in inst.notes:
            start = max(0.0, n.start * tempo_factor + (rng.uniform(-jitter_s, jitter_s) if jitter_s else 0.0))
            length = (n.end - n.start) * tempo_factor * articulation
            pitch = n.pitch
            if wrong_share and rng.random() < wrong_share:
                pitch = int(np.clip(pitch + rng.choice([-2, -1, 1, 2]), 0, 127))
            new.notes.append(pretty_midi.Note(n.velocity, pitch, start, start + max(length, 0.02)))
        out.instruments.append(new)
    return out


PERFORMANCES = {
    "staccato (50 % of each note)": {"articulation": 0.5},
    "staccatissimo (40 %)": {"articulation": 0.4},
    "at 60 bpm (half speed)": {"tempo_factor": 2.0},
    "at 160 bpm": {"tempo_factor": 0.75},
    "humanized +- 20 ms": {"jitter_s": 0.02},
    "humanized +- 30 ms, 90 % legato": {"jitter_s": 0.03, "articulation": 0.9},
    "1 % wrong notes": {"wrong_share": 0.01},
    "5 % wrong notes": {"wrong_share": 0.05},
}
PERFORMED_TARGET = 10.0


def other_styles(cache: Path) -> dict[str, pretty_midi.PrettyMIDI | str]:
    """music21 corpus pieces written to MIDI by music21 and read back through the engine's loader (cached)."""
    from generation.engine.errors import EngineError
    from generation.engine.midi_io import load_midi

    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, pretty_midi.PrettyMIDI | str] = {}
    for label, path in OTHER_STYLES.items():
        file = cache / (path.replace("/", "_") + ".mid")
        try:
            if not file.exists():
                from music21 import corpus

                corpus.parse(path).write("midi", fp=str(file))
            out[label] = load_midi(file)
        except EngineError as exc:
            out[label] = f"refused by the loader: {exc.message}"
        except Exception as exc:  # music21 cannot write some scores (badly formed repeats)
            out[label] = f"music21 cannot write it as MIDI: {exc}"
    return out


def folk_challenge(reference: list, *, slug: str):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from chartbusters.challenges.models import Challenge, ReferenceFile
    from evaluation.models import RealnessModel
    from evaluation.services.realness_models import realness_model_train
    from generation.engine.midi_io import midi_to_bytes

    now = timezone.now()
    challenge = Challenge.objects.create(slug=slug, title=slug, opens_at=now, closes_at=now + timedelta(days=7),
                                         judging_ends_at=now + timedelta(days=14))  # fmt: skip
    for tune in reference:
        ref = ReferenceFile(challenge=challenge, name=tune.name)
        ref.midi.save(f"{tune.name.split('/')[-1].replace('#', '-')}.mid", ContentFile(midi_to_bytes(tune.to_midi())),
                      save=False)
        ref.save()
    started = time.perf_counter()
    realness_model_train(challenge_id=challenge.pk)
    row = RealnessModel.objects.get(challenge=challenge)
    print(
        f"[{slug}] realness model: {row.status} in {time.perf_counter() - started:.0f} s on "
        f"{len(reference)} reference tunes; held-out AUC per family:"
    )
    for family, auc in sorted(row.metrics.get("auc", {}).items()):
        print(f"    {family:<20} {auc:.3f}")
    print(f"    real held-out mean realness {row.metrics.get('mean_realness', {}).get('real', float('nan')):.3f}")
    return challenge


def scores(pms: list[pretty_midi.PrettyMIDI], challenge, *, entered: bool = False) -> np.ndarray:
    """Automatic scores before the copy penalty (``entered``: as the entry gets it, after the penalty); music the
    scorer refuses (e.g. empty) counts as 0, as an entry the platform refuses ranks nowhere."""
    return scores_both(pms, challenge)[1 if entered else 0]


def scores_both(pms: list[pretty_midi.PrettyMIDI], challenge) -> tuple[np.ndarray, np.ndarray]:
    """(before the copy penalty, as entered) for each piece: one scoring each."""
    before, after = [], []
    for pm in pms:
        try:
            result = score_pieces([pm], challenge=challenge)
        except ScoringError:
            before.append(0.0)
            after.append(0.0)
            continue
        before.append(result.automatic_unpenalized)
        after.append(result.automatic)
    return np.array(before), np.array(after)


def transposed(pm: pretty_midi.PrettyMIDI, semitones: int) -> pretty_midi.PrettyMIDI:
    out = pretty_midi.PrettyMIDI()
    for inst in pm.instruments:
        new = pretty_midi.Instrument(program=inst.program, is_drum=inst.is_drum, name=inst.name)
        new.notes = [
            pretty_midi.Note(n.velocity, min(127, max(0, n.pitch + semitones)), n.start, n.end) for n in inst.notes
        ]
        out.instruments.append(new)
    return out


def renotated(pm: pretty_midi.PrettyMIDI, factor: int = 2) -> pretty_midi.PrettyMIDI:
    """The same audio written with every note value ``factor`` times as long at ``factor`` times the tempo."""
    from generation.engine.midi_io import load_midi, midi_to_bytes

    tempo = pm.get_tempo_changes()[1][0] if len(pm.get_tempo_changes()[1]) else 120.0
    out = pretty_midi.PrettyMIDI(initial_tempo=float(tempo) * factor, resolution=pm.resolution)
    for inst in pm.instruments:
        new = pretty_midi.Instrument(program=inst.program, is_drum=inst.is_drum, name=inst.name)
        new.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start, n.end) for n in inst.notes]
        out.instruments.append(new)
    return load_midi(midi_to_bytes(out))  # written and read back: the file says 2x tempo and 2x the ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-family", type=int, default=8)
    parser.add_argument("--folk-reference", type=int, default=120,
                        help="folk train tunes in the reference set (0: no folk challenge)")
    parser.add_argument("--climbs", type=int, default=3, help="hill-climbs (held-out seeds)")
    parser.add_argument("--climb-steps", type=int, default=1500)
    parser.add_argument("--only", default="", help="comma-separated tables to print: families, climb, performed, "
                                                   "others, invariance, content (default: all)")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))

    def wanted(table: str) -> bool:
        return not only or table in only

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    chorales = load_chorales()
    bach_test = pieces_split(chorales, "test")
    folk = load_folk()
    folk_train = [t for t in folk if t.split == "train"][: args.folk_reference]
    folk_test = [t for t in folk if t.split == "test"]
    challenges = {"bach": None}
    real = {"bach": [p.to_midi() for p in bach_test]}
    if args.folk_reference:
        challenges["folk"] = folk_challenge(folk_train, slug="folk")
        real["folk"] = [t.to_midi() for t in folk_test]
    real_scores = {style: scores(real[style], challenges[style]) for style in challenges}
    p10 = {style: float(np.percentile(real_scores[style], 10)) for style in challenges}
    for style in challenges:
        r = real_scores[style]
        print(f"real held-out {style} ({len(r)}): mean {r.mean():.1f}, min {r.min():.1f}, 10th percentile "
              f"{p10[style]:.1f}")

    if wanted("families"):
        fams = {"bach": families(args.per_family, bach_test)}
        if "folk" in challenges:
            from generation.engine.models.discriminator.train import sounded_piece

            folk_pieces = []  # folk tunes as Pieces for the derived families
            for t in folk_test:
                piece = sounded_piece(t.to_midi(), t.name)
                if piece is not None and piece.rolls.shape[1] >= 32:  # derived families keep the tune's own length
                    folk_pieces.append(piece)
            fams["folk"] = families(args.per_family, folk_pieces)
        print(
            f"\nTable 1: automatic score (0-100) as the entry gets it (after the copy penalty: a recombination of "
            f"indexed pieces is a copy) and, in brackets, before the penalty; {args.per_family} pieces of {SECONDS} s "
            f"per family; target: mean <= {TARGET:.0f} and max below the 10th percentile of real held-out music"
        )
        head = " | ".join(f"{style} mean | {style} max | {style} flagged" for style in challenges)
        print(f"| family | {head} | verdict |\n|---|{'---:|---:|---:|' * len(challenges)}---|")
        all_ok = True
        for name in fams["bach"]:
            row, ok = [], True
            for style in challenges:
                before, sc = scores_both(fams[style][name], challenges[style])
                row += [f"{sc.mean():.1f} ({before.mean():.1f})", f"{sc.max():.1f} ({before.max():.1f})",
                        f"{int((sc < before - 1e-9).sum())}/{len(sc)}"]
                ok &= bool(sc.mean() <= TARGET and sc.max() < p10[style])
            all_ok &= ok
            print(f"| {name} | {' | '.join(row)} | {'meets' if ok else 'MISSES'} |")
        print(f"every family meets the target: {all_ok}")

    if wanted("climb") and args.climbs:
        climbs = hill_climbs(args.climbs, args.climb_steps)
        marks = [k for k in CLIMB_CHECKPOINTS if k <= args.climb_steps]
        print(f"\nTable 1b: hill-climb against the bach scorer (automatic score before the copy penalty), "
              f"{args.climbs} held-out seeds; target: below the real 10th percentile ({p10['bach']:.1f}) throughout")
        columns = " | ".join(f"step {k}" for k in marks)
        print(f"| seed | {columns} | s | verdict |\n|---|{'---:|' * (len(marks) + 1)}---|")
        for c in climbs:
            cells = [f"{c['trace'].get(k, float('nan')):.1f}" for k in marks]
            ok = max(c["trace"].values()) < p10["bach"]
            print(f"| {c['seed']} | {' | '.join(cells)} | {c['seconds']:.0f} | {'meets' if ok else 'MISSES'} |")
        if "folk" in challenges:
            transfer = scores([c["piece"] for c in climbs], challenges["folk"])
            print(f"transfer: the climbed pieces in the folk challenge (its own realness model): "
                  f"{', '.join(f'{x:.1f}' for x in transfer)}; folk 10th percentile {p10['folk']:.1f}: "
                  f"{'meets' if transfer.max() < p10['folk'] else 'MISSES'}")

    if wanted("performed"):
        base = real_scores["bach"]
        print("\nTable 5: held-out chorales as performed (automatic score before the copy penalty); target: within "
              f"{PERFORMED_TARGET:.0f} points of the quantized original (wrong notes: proportionately more)")
        print("| performance | mean | mean change | max drop | within 10 | verdict |\n|---|---:|---:|---:|---:|---|")
        print(f"| as written ({len(base)} chorales) | {base.mean():.1f} | | | | |")
        for label, how in PERFORMANCES.items():
            sc = scores([performed_midi(pm, seed=i, **how) for i, pm in enumerate(real["bach"])], None)
            change = sc - base
            within = float((np.abs(change) <= PERFORMED_TARGET).mean())
            ok = abs(change.mean()) <= PERFORMED_TARGET
            print(f"| {label} | {sc.mean():.1f} | {change.mean():+.1f} | {-change.min():.1f} | {within:.0%} | "
                  f"{'meets' if ok else 'MISSES'} (mean) |")

    if wanted("others"):
        other_styles_table(challenges, real)
    if wanted("invariance"):
        invariance_table(challenges, real)
    if wanted("content"):
        content_table(chorales, folk)
    print(f"\n{time.perf_counter() - started:.0f} s in all")


def other_styles_table(challenges: dict, real: dict) -> None:
    print("\nTable 2: real music of other styles (automatic score before the copy penalty; realness)")
    print("| piece | bach challenge | realness | folk challenge | realness |\n|---|---:|---:|---:|---:|")
    others = other_styles(Path(_SCRATCH).parent / "chartbusters-other-styles")
    for label, pm in others.items():
        if isinstance(pm, str):
            print(f"| {label} | {pm} | | | |")
            continue
        cells = []
        for style in challenges:
            result = score_pieces([pm], challenge=challenges[style])
            cells += [f"{result.automatic_unpenalized:.1f}", f"{result.realness:.2f}"]
        print(f"| {label} | {' | '.join(cells)} |")
    if "folk" not in challenges:
        return
    cross = {
        "folk tunes (held out) in the bach challenge": scores(real["folk"], None),
        "chorales (held out) in the folk challenge": scores(real["bach"], challenges["folk"]),
    }
    for label, s in cross.items():
        print(f"| {label} | mean {s.mean():.1f} | | min {s.min():.1f} | |")


def invariance_table(challenges: dict, real: dict) -> None:
    print("\nTable 3: invariance on real held-out pieces (automatic score, points)")
    print("| check | style | pieces | max abs change | mean abs change |\n|---|---|---:|---:|---:|")
    for style in challenges:
        sample = real[style][:12]
        base = scores(sample, challenges[style])
        notation = scores([renotated(pm) for pm in sample], challenges[style])
        d = np.abs(notation - base)
        print(f"| note values x2 at tempo x2 (same audio) | {style} | {len(sample)} | {d.max():.2f} | {d.mean():.2f} |")
        worst = np.zeros(len(sample))
        for shift in (-7, -5, -3, 3, 5, 7):
            worst = np.maximum(
                worst, np.abs(scores([transposed(pm, shift) for pm in sample], challenges[style]) - base)
            )
        print(f"| transposed -7..+7 semitones | {style} | {len(sample)} | {worst.max():.2f} | {worst.mean():.2f} |")


def content_table(chorales: list, folk: list) -> None:
    print("\nTable 4: the content check's measures on all real pieces (thresholds in evaluation/content.py)")
    print("| corpus | pieces | min s | min notes | min pitches | repetition median | 95th pct | max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    from evaluation.content import content_check

    for label, pms in (
        ("chorales (all 371)", [p.to_midi() for p in chorales]),
        ("folk (all)", [t.to_midi() for t in folk]),
    ):
        checks = [content_check(pm) for pm in pms]
        rep = np.array([c.repetition for c in checks])
        print(
            f"| {label} | {len(checks)} | {min(c.seconds for c in checks):.1f} | {min(c.notes for c in checks)} | "
            f"{min(c.pitches for c in checks)} | {np.median(rep):.2f} | {np.percentile(rep, 95):.2f} | "
            f"{rep.max():.2f} |"
        )


if __name__ == "__main__":
    main()
