"""Amazing Grace through each shipped model at its defaults, seed 1, as piano rolls one above the other
(docs/models-amazing-grace.png, shown by README and docs/models.md): the input's notes grey, what each model added in
colour, what it removed as outlined boxes. Prints, per model, how many input notes were kept and how many added.

    .venv/bin/python scripts/make_models_picture.py [--out docs/models-amazing-grace.png] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pretty_midi
from matplotlib import pyplot as plt
from matplotlib.patches import Patch, Rectangle

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SAMPLE = REPO / "generation" / "samples" / "amazing-grace.mid"
MODELS = ("arcnn", "gan", "transformer")
INPUT_COLOUR, ADDED_COLOUR = "#9a9a9a", "#d9534f"
PART_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")


def _key(note: pretty_midi.Note) -> tuple[int, float, float]:
    return note.pitch, round(note.start, 3), round(note.end, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "models-amazing-grace.png"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import torch

    from generation.engine.pipeline import generate

    torch.set_num_threads(1)
    tune = pretty_midi.PrettyMIDI(str(SAMPLE))
    given = {_key(n) for inst in tune.instruments for n in inst.notes}
    fig, axes = plt.subplots(len(MODELS), 1, figsize=(11, 3.0 * len(MODELS)), dpi=90, layout="tight")
    said = []
    for name, ax in zip(MODELS, axes, strict=True):
        out = generate(name, tune, {"seed": args.seed}).midi
        made = [(i, n) for i, inst in enumerate(out.instruments) if not inst.is_drum for n in inst.notes]
        kept = sum(_key(n) in given for _i, n in made)
        removed = given - {_key(n) for _i, n in made}
        handles = [Patch(facecolor=INPUT_COLOUR, label="the tune")]
        colours = {}
        for i, n in made:
            if _key(n) in given:
                colour = INPUT_COLOUR
            else:
                colour = colours.setdefault(i, PART_COLOURS[len(colours) % len(PART_COLOURS)] if name == "gan"
                                            else ADDED_COLOUR)
            ax.add_patch(Rectangle((n.start, n.pitch - 0.4), n.end - n.start, 0.8, linewidth=0.3,
                                   facecolor=colour, edgecolor="#222"))
        for pitch, start, end in removed:
            ax.add_patch(Rectangle((start, pitch - 0.4), end - start, 0.8, fill=False, linestyle="--", linewidth=1))
        for i, colour in colours.items():
            label = out.instruments[i].name if name == "gan" else "added"
            handles.append(Patch(facecolor=colour, label=label or f"track {i + 1}"))
        if removed:
            handles.append(Patch(fill=False, linestyle="--", label="removed"))
        pitches = [n.pitch for _i, n in made] + [p for p, _s, _e in removed]
        ax.set_xlim(0, max(n.end for _i, n in made) + 0.2)
        ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
        added = len(made) - kept
        line = f"{name}: {kept} of {len(given)} tune notes kept, {added} added, {len(removed)} removed"
        ax.set(title=f"{line} (defaults, seed {args.seed})", ylabel="MIDI pitch")
        ax.title.set(fontsize=10, horizontalalignment="left", x=0.0)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        ax.grid(axis="x", alpha=0.4)
        said.append(line)
    axes[-1].set_xlabel("seconds (Amazing Grace, 3/4, as the studio's sample)")
    fig.savefig(args.out, bbox_inches="tight")
    plt.close(fig)
    sys.stdout.write("\n".join([*said, f"wrote {args.out}"]) + "\n")


if __name__ == "__main__":
    main()
