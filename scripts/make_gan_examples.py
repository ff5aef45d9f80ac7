"""Piano rolls of the shipped GAN's accompaniment on four melodies, to look at (and for
docs/models.md and the learning page):
a test-split chorale soprano, a held-out Essen folk tune, a minor tune in 3/4 and a major tune in 6/8 (the last two
written here note by note), each with seeds 1 and 2. Prints, per melody and seed, what a musician checks
(generation.engine.models.gan.musician) and how much the two seeds differ.

    .venv/bin/python scripts/make_gan_examples.py [--style chorale|renaissance] [--out docs/gan-examples.png]

A fifth row shows the no-melody mode: melody=generate, 8 bars in D minor (the soprano from the style's Markov chain).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pretty_midi
from matplotlib import pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLOURS = ("#333344", "#1f77b4", "#ff7f0e", "#2ca02c")
RANGES = [(57, 72), (52, 66), (38, 60)]  # chorale alto, tenor, bass (1st-99th percentile of the train split)


def tune(notes: list[tuple[int, float]], *, tempo: float, meter: tuple[int, int], key: int | None = None):
    """A one-track MIDI file from (pitch, length in quarter notes) pairs (pitch 0 = a rest)."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(*meter, 0.0))
    if key is not None:
        pm.key_signature_changes.append(pretty_midi.KeySignature(key, 0.0))
    inst = pretty_midi.Instrument(0, name="melody")
    beat, t = 60.0 / tempo, 0.0
    for pitch, length in notes:
        if pitch:
            inst.notes.append(pretty_midi.Note(90, pitch, t * beat, (t + length) * beat))
        t += length
    pm.instruments.append(inst)
    return pm


# D minor, 3/4, quarter = 96: a lament of 8 bars (D E F | G A . | Bb A G | A . . | ...)
MINOR_34 = [(62, 1), (64, 1), (65, 1), (67, 1), (69, 2), (70, 1), (69, 1), (67, 1), (69, 3),
            (65, 1), (67, 1), (69, 1), (67, 1), (65, 1), (64, 1), (62, 2), (61, 1), (62, 3)]
# G major, 6/8, dotted quarter = 100 (quarter = 150): a jig of 8 bars in quarter + eighth steps
MAJOR_68 = [(67, 1), (71, 0.5), (74, 1), (71, 0.5), (72, 1), (69, 0.5), (71, 1.5),
            (67, 1), (69, 0.5), (71, 1), (72, 0.5), (74, 1.5), (74, 1.5),
            (76, 1), (74, 0.5), (72, 1), (71, 0.5), (69, 1), (67, 0.5), (69, 1.5),
            (71, 1), (69, 0.5), (67, 1), (66, 0.5), (67, 3)]


def melodies() -> list[tuple[str, pretty_midi.PrettyMIDI]]:
    from generation.engine.dataset import load_chorales, pieces_split
    from generation.engine.folk import load_folk

    chorale = pieces_split(load_chorales(), "test")[0]
    pm = chorale.to_midi()
    pm.instruments = pm.instruments[:1]
    folk = next(t for t in sorted(load_folk(), key=lambda t: t.name)
                if t.split == "test" and t.time_signature == (4, 4) and 24 <= len(t.pitch) <= 40)
    return [(f"chorale soprano ({chorale.name}, test split)", pm),
            (f"Essen folk tune ({folk.name}, held out), 4/4", folk.to_midi()),
            ("a D minor lament in 3/4, ♩ = 96 (written here)", tune(MINOR_34, tempo=96, meter=(3, 4), key=14)),
            ("a G major jig in 6/8, ♩. = 100 (written here)", tune(MAJOR_68, tempo=150, meter=(6, 8))),
            (NO_MELODY_TITLE, pretty_midi.PrettyMIDI(initial_tempo=90.0))]


NO_MELODY_TITLE = "no melody: melody=generate, 8 bars, D minor (soprano from the Markov chain)"
NO_MELODY = {"melody": "generate", "bars": 8, "key": "D minor"}


def lines_of(pm: pretty_midi.PrettyMIDI, n_steps: int):
    from generation.engine.models.gan.encoding import top_line
    from generation.engine.representation import midi_to_rolls

    rolls = midi_to_rolls(pm, min_steps=n_steps)
    lines = [top_line(rolls.tracks[v][:n_steps], rolls.onsets[v][:n_steps]) for v in range(4)]
    return np.stack([p for p, _ in lines]), np.stack([o for _, o in lines])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="default: docs/gan-examples.png (chorale), docs/gan-examples-<style>.png")
    parser.add_argument("--style", default="chorale")
    args = parser.parse_args()
    args.out = args.out or str(ROOT / "docs" / ("gan-examples.png" if args.style == "chorale"
                                                 else f"gan-examples-{args.style}.png"))
    import torch

    from generation.engine.models.gan.encoding import key_of_histogram
    from generation.engine.models.gan.musician import notes_differing, notes_of, piece_counts, ratio
    from generation.engine.pipeline import generate
    from generation.engine.representation import midi_to_rolls

    torch.set_num_threads(1)
    items = melodies()
    fig, axes = plt.subplots(len(items), 1, figsize=(11, 3.0 * len(items)), dpi=80)
    for ax, (title, pm) in zip(axes, items, strict=True):
        extra = NO_MELODY if title == NO_MELODY_TITLE else {}
        n_steps = 16 * NO_MELODY["bars"] if extra else midi_to_rolls(pm).tracks.shape[1]
        outs = [lines_of(generate("gan", pm, {"seed": seed, "style": args.style, **extra}).midi, n_steps)
                for seed in (1, 2)]
        melody = outs[0][0][0]
        key = key_of_histogram(np.bincount(melody[melody >= 0] % 12, minlength=12).astype(float))
        counts = piece_counts(*outs[0], key=key, ranges=RANGES)
        differ = ratio(notes_differing(*outs))
        summary = (f"consonant beats {100 * ratio(counts['consonant_beats']):.0f} %, 2nd/7th "
                   f"{100 * ratio(counts['second_seventh_beats']):.0f} %, chords "
                   f"{100 * ratio(counts['chord_beats']):.0f} %, mean note {ratio(counts['note_beats']):.2f} beats, "
                   f"parallels {ratio(counts['parallels_per_100']):.1f}/100, seeds 1 and 2 differ in "
                   f"{100 * differ:.0f} % of part notes")
        sys.stdout.write(f"{title}: {summary}\n")
        lines, onsets = outs[0]
        for v in range(4):
            pitches, starts, lengths = notes_of(lines[v], onsets[v])
            for p, s, n in zip(pitches, starts, lengths, strict=True):
                ax.add_patch(plt.Rectangle((s / 4, p - 0.4), n / 4, 0.8, color=COLOURS[v], lw=0))
        steps_per_bar = 16 if extra else midi_to_rolls(pm).steps_per_bar
        for bar in range(0, n_steps + 1, steps_per_bar):
            ax.axvline(bar / 4, color="#ccc", lw=0.6, zorder=0)
        sounding = lines[lines >= 0]
        ax.set_xlim(0, n_steps / 4)
        ax.set_ylim(sounding.min() - 2, sounding.max() + 2)
        ax.set_title(f"{args.style} style: {title}, seed 1\n{summary}", fontsize=9, loc="left")
        ax.set_ylabel("MIDI pitch")
    axes[-1].set_xlabel("beat (quarter notes); grey lines: bars.  Melody black, alto blue, tenor orange, bass green")
    fig.tight_layout()
    fig.savefig(args.out)
    plt.close(fig)
    sys.stdout.write(f"wrote {args.out}\n")


if __name__ == "__main__":
    main()
