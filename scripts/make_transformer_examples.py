"""The Transformer's examples (docs/models.md and its learning page): three inputs continued by the shipped model
through the
one generation path (default parameters, ``extension_seconds`` 10, seed 1), as piano rolls one above the other:

- a monophonic tune: Amazing Grace (the studio sample, 3/4, ♩ = 80);
- a chorale half: the first 8 bars of the first test-split chorale, soprano, alto, tenor and bass as four tracks, at
  100 bpm;
- a 6/8 tune: the D dorian tune written for the tests (tests/engine/tunes.py, ♩ = 180).

Input notes grey, the added notes coloured by voice, a dashed line at the input's end. Writes
generation/static/learn/transformer-examples.png and docs/transformer-examples.png (the same picture), and the three
continuations as MIDI files into --midi-dir (default: a temporary folder) to listen to.

    .venv/bin/python scripts/make_transformer_examples.py [--midi-dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pretty_midi
from matplotlib import pyplot as plt
from matplotlib.patches import Patch, Rectangle

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "generation" / "static" / "learn" / "transformer-examples.png"
DOCS = ROOT / "docs" / "transformer-examples.png"
SEED = 1
EXTENSION = 10.0
INPUT_COLOUR = "#8a8a96"
VOICE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")


def inputs() -> list[tuple[str, pretty_midi.PrettyMIDI]]:
    from generation.engine.dataset import load_chorales, pieces_split
    from generation.engine.midi_io import load_midi
    from tests.engine.tunes import tune_midi

    tune = load_midi(ROOT / "generation" / "samples" / "amazing-grace.mid")
    piece = pieces_split(load_chorales(), "test")[0]
    chorale = piece.to_midi()
    scale = piece.tempo_bpm / 100.0  # played at 100 bpm
    bar = 4 * 60.0 / 100.0
    half = pretty_midi.PrettyMIDI(initial_tempo=100.0)
    half.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    for inst, name in zip(chorale.instruments, ("soprano", "alto", "tenor", "bass"), strict=False):
        voice = pretty_midi.Instrument(0, name=name)
        voice.notes = [pretty_midi.Note(80, n.pitch, n.start * scale, min(n.end * scale, 8 * bar))
                       for n in inst.notes if n.start * scale < 8 * bar - 1e-6]
        half.instruments.append(voice)
    return [("Amazing Grace (monophonic, 3/4, ♩ = 80)", tune),
            (f"a chorale's first 8 bars ({piece.name}, 4 voices in 4 tracks, ♩ = 100)", half),
            ("a D dorian tune (6/8, ♩ = 180, written for the tests)", tune_midi("d_dorian_6_8_180"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi-dir", default=None)
    args = parser.parse_args()
    import torch

    from generation.engine.midi_io import first_tempo, write_midi
    from generation.engine.pipeline import generate

    torch.set_num_threads(1)
    midi_dir = Path(args.midi_dir or tempfile.mkdtemp(prefix="transformer-examples-"))
    midi_dir.mkdir(parents=True, exist_ok=True)
    examples = inputs()
    fig, axes = plt.subplots(len(examples), 1, figsize=(10, 3.1 * len(examples)), dpi=90)
    for index, ((title, pm), ax) in enumerate(zip(examples, axes, strict=True)):
        out = generate("transformer", pm, {"extension_seconds": EXTENSION, "seed": SEED}).midi
        write_midi(out, midi_dir / f"example-{index + 1}.mid")
        end = max(n.end for inst in pm.instruments for n in inst.notes)
        pitched = [i for i, inst in enumerate(pm.instruments) if not inst.is_drum and inst.notes]
        handles = [Patch(facecolor=INPUT_COLOUR, label="the input")]
        every = []
        for k, i in enumerate(pitched):
            colour = VOICE_COLOURS[k % len(VOICE_COLOURS)]
            for n in out.instruments[i].notes:
                new = n.start >= end - 1e-6
                ax.add_patch(Rectangle((n.start, n.pitch - 0.4), n.end - n.start, 0.8, linewidth=0.3,
                                       facecolor=colour if new else INPUT_COLOUR, edgecolor="#222"))
                every.append(n)
            name = out.instruments[i].name or "melody"
            handles.append(Patch(facecolor=colour, label=f"added: {name}" if len(pitched) > 1 else "added"))
        ax.axvline(end, color="#444", linestyle="--", linewidth=1)
        start = max(0.0, end - 20.0)
        ax.set_xlim(start, end + EXTENSION + 0.2)
        low, high = min(n.pitch for n in every) - 2, max(n.pitch for n in every) + 2
        ax.set_ylim(low, high)
        ticks = [p for p in range(low, high + 1) if p % 12 in (0, 4, 7)]  # every C, E and G
        ax.set_yticks(ticks)
        ax.set_yticklabels([pretty_midi.note_number_to_name(p) for p in ticks], fontsize=8)
        ts = pm.time_signature_changes[0] if pm.time_signature_changes else None
        bar = (ts.numerator * 4 / ts.denominator if ts else 4) * 60.0 / first_tempo(pm)
        ax.set_xticks([k * bar for k in range(int((end + EXTENSION) / bar) + 1) if k * bar >= start])
        ax.set_xticklabels([str(k + 1) for k in range(int((end + EXTENSION) / bar) + 1) if k * bar >= start],
                           fontsize=8)
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylabel("pitch")
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        ax.grid(axis="x", alpha=0.5)
    axes[-1].set_xlabel(f"bar (the last 20 s of each input, then {EXTENSION:g} s added; seed {SEED})")
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT)
    plt.close(fig)
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(OUT, DOCS)
    sys.stdout.write(f"{OUT} and {DOCS}; MIDI in {midi_dir}\n")


if __name__ == "__main__":
    main()
