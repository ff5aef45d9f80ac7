"""Can the automatic judge be gamed? (issue "An automatic judge that cannot be gamed"; DESIGN sections 5 and 8.)

Builds at least 12 trivial or degenerate families from scratch (generation/engine/trivial_music.py: held chords,
long notes, scales, arpeggios, chord and cadence loops, repeated notes, two pitches, sparse notes, random notes; rhythm
erased and one window repeated are made from held-out pieces the models never trained on), 30 s each, and scores
them as entries, next to real held-out music, in two challenges on a scratch database:

- "bach": no reference set: the default Bach reference figures and realness model; real = the 37 test-split chorales.
- "folk": a reference set of Essen folk tunes (music21's essenFolksong, generation/engine/folk.py, split by a hash of
  the name): its train tunes (``--folk-reference N`` of them) uploaded as reference files, its realness model trained
  by the same service the worker runs; real = the held-out (test split) tunes.

Table 1: each family's mean and max automatic score (before the copy penalty: held-out chorales are in the
originality index) against the 10th percentile of real held-out music of the style. Target: every family <= 40 and
below that percentile. Table 2: real music of other styles (Mozart, Beethoven, Haydn, Joplin, and each corpus in the
other challenge). Table 3: invariances on real pieces (same audio in other note values and tempo markings;
transposition within a fifth). Table 4: the thresholds of the content check, measured.

    .venv/bin/python benchmarks/scoring_gaming.py [--per-family 8] [--folk-reference 120]
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


def families(per_family: int, held_out: list) -> dict[str, list[pretty_midi.PrettyMIDI]]:
    rng = np.random.default_rng(2026)
    out = {name: [as_midi(*fn(STEPS, rng)) for _ in range(per_family)] for name, fn in SCRATCH_FAMILIES.items()}
    for name, fn in DERIVED_FAMILIES.items():
        out[name] = [as_midi(*fn(p.rolls[:, :STEPS], p.onsets[:, :STEPS], rng)) for p in held_out[:per_family]]
    return out


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


def scores(pms: list[pretty_midi.PrettyMIDI], challenge) -> np.ndarray:
    """Automatic scores before the copy penalty; music the scorer refuses (e.g. empty) counts as 0, as an entry the
    platform refuses ranks nowhere."""
    out = []
    for pm in pms:
        try:
            out.append(score_pieces([pm], challenge=challenge).automatic_unpenalized)
        except ScoringError:
            out.append(0.0)
    return np.array(out)


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
    parser.add_argument("--folk-reference", type=int, default=120, help="folk train tunes in the reference set")
    args = parser.parse_args()
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
    challenges = {"bach": None, "folk": folk_challenge(folk_train, slug="folk")}
    real = {"bach": [p.to_midi() for p in bach_test], "folk": [t.to_midi() for t in folk_test]}
    fams = {"bach": families(args.per_family, bach_test), "folk": None}
    folk_pieces = []  # folk tunes as Pieces for the derived families
    from generation.engine.models.discriminator.train import sounded_piece

    for t in folk_test:
        piece = sounded_piece(t.to_midi(), t.name)
        if piece is not None and piece.rolls.shape[1] >= 32:  # derived families keep the tune's own length
            folk_pieces.append(piece)
    fams["folk"] = families(args.per_family, folk_pieces)

    real_scores = {style: scores(real[style], challenges[style]) for style in challenges}
    p10 = {style: float(np.percentile(real_scores[style], 10)) for style in challenges}
    print(
        f"\nTable 1: automatic score (0-100, before the copy penalty), {args.per_family} pieces of {SECONDS} s "
        f"per family; target: mean and max <= {TARGET:.0f} and max below the 10th percentile of real held-out music"
    )
    print("| family | bach mean | bach max | folk mean | folk max | verdict |\n|---|---:|---:|---:|---:|---|")
    all_ok = True
    for name in fams["bach"]:
        row, ok = [], True
        for style in challenges:
            s = scores(fams[style][name], challenges[style])
            row += [s.mean(), s.max()]
            ok &= bool(s.max() <= TARGET and s.max() < p10[style])
        all_ok &= ok
        print(f"| {name} | {row[0]:.1f} | {row[1]:.1f} | {row[2]:.1f} | {row[3]:.1f} | {'meets' if ok else 'MISSES'} |")
    for style in challenges:
        r = real_scores[style]
        print(
            f"| real held-out {style} ({len(r)}) | mean {r.mean():.1f} | min {r.min():.1f} | 10th percentile "
            f"{p10[style]:.1f} | | |"
        )
    print(f"every family meets the target: {all_ok}")

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
    cross = {
        "folk tunes (held out) in the bach challenge": scores(real["folk"], None),
        "chorales (held out) in the folk challenge": scores(real["bach"], challenges["folk"]),
    }
    for label, s in cross.items():
        print(f"| {label} | mean {s.mean():.1f} | | min {s.min():.1f} | |")

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
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
