"""Transformer continuations against the real ones (issue 12's second quality table).

For each test-split chorale (r % 10 == 0) long enough: its four voices merged into one track (as the model was mostly
trained) up to --bars bars are the prompt; the shipped Transformer adds --seconds through the one generation path
(`pipeline.generate`, default sampling, seed = the piece's index); the real continuation is the chorale's next
--seconds. On the added part only: in-key rate (in the prompt's key, Krumhansl-Schmuckler), pitches used, note
density (notes a second) and realness (the shipped discriminator, which reads the pooled notes as four voices).

    .venv/bin/python benchmarks/transformer_continuations.py [--bars 4] [--seconds 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")


def _melody(notes, start: float, end: float, tempo: float):
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start - start, min(n.end, end) - start)
                  for n in notes if start <= n.start < end]
    pm.instruments.append(inst)
    return pm


def _measures(pm, key) -> dict[str, float]:
    import muspy

    from evaluation.metrics import music_from_pretty_midi
    from evaluation.realness import realness_of

    notes = pm.instruments[0].notes
    seconds = max((n.end for n in notes), default=0.0)
    music = music_from_pretty_midi(pm)
    return {
        "in_key": float(muspy.pitch_in_scale_rate(music, *key)) if notes else float("nan"),
        "pitches_used": float(len({n.pitch for n in notes})),
        "notes_per_second": len(notes) / seconds if seconds else 0.0,
        "realness": realness_of(pm),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=4)
    parser.add_argument("--pieces", type=int, default=37, help="at most this many test chorales")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import django

    django.setup()
    import torch

    from evaluation.metrics import estimate_key, music_from_pretty_midi
    from generation.engine.dataset import load_chorales, pieces_split
    from generation.engine.pipeline import generate

    torch.set_num_threads(args.threads)
    rows = {"generated": [], "real": []}
    for index, piece in enumerate(pieces_split(load_chorales(), "test")[: args.pieces]):
        pm = piece.to_midi()
        soprano = sorted((n for inst in pm.instruments for n in inst.notes), key=lambda n: (n.start, n.pitch))
        tempo = piece.tempo_bpm
        prompt_end = args.bars * piece.steps_per_bar * 60.0 / tempo / 4
        if max(n.end for n in soprano) < prompt_end + args.seconds:
            continue  # too short for a real continuation of that length
        prompt = _melody(soprano, 0.0, prompt_end, tempo)
        key = estimate_key(music_from_pretty_midi(prompt))
        out = generate("transformer", prompt, {"extension_seconds": args.seconds, "seed": index}).midi
        rows["generated"].append(_measures(_melody(out.instruments[0].notes, prompt_end, prompt_end + args.seconds,
                                                   tempo), key))
        rows["real"].append(_measures(_melody(soprano, prompt_end, prompt_end + args.seconds, tempo), key))
    n = len(rows["real"])
    print(f"Transformer continuations: {n} test chorales, their first {args.bars} bars (4 voices in one track) as the "
          f"prompt, {args.seconds:g} s added (generated) vs the chorale's next {args.seconds:g} s (real)")
    print(f"{'measure':<20}{'generated':>11}{'real':>9}{'rel. diff':>11}")
    for name in ("in_key", "pitches_used", "notes_per_second", "realness"):
        gen = float(np.nanmean([r[name] for r in rows["generated"]]))
        real = float(np.nanmean([r[name] for r in rows["real"]]))
        diff = abs(gen - real) / abs(real) if real else float("nan")
        print(f"{name:<20}{gen:>11.3f}{real:>9.3f}{100 * diff:>10.1f}%")


if __name__ == "__main__":
    main()
