"""A piano-roll PNG for any validated MIDI: one colour per track, time in seconds from 0 to the piece's end, pitch on
the y axis, the plot always at AXES_BOX (matplotlib Agg). No torch, no Django."""

from __future__ import annotations

from pathlib import Path

from generation.engine.midi_io import load_midi

FIGSIZE = (10.0, 4.0)
DPI = 100
# Where the plot lies in the image (left, bottom, width, height as shares of it): fixed, so that a page can mark a
# span of seconds on the picture (evaluation.views.charts.passage_marks)
AXES_BOX = (0.07, 0.12, 0.91, 0.84)
DRUM_COLOUR = (0.3, 0.3, 0.3)


def render_pianoroll_png(midi_path: str | Path, out_path: str | Path) -> Path:
    """Write a PNG of every note of ``midi_path`` (drums in grey) and return its path."""
    import matplotlib  # here, not at import: pages read AXES_BOX without loading matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # after matplotlib.use: the backend must be chosen first
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    colours = plt.get_cmap("tab10").colors
    pm = load_midi(midi_path)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig = plt.figure(figsize=FIGSIZE, dpi=DPI)
    ax = fig.add_axes(AXES_BOX)
    handles = []
    low, high = 127, 0
    for index, inst in enumerate(i for i in pm.instruments if i.notes):
        colour = DRUM_COLOUR if inst.is_drum else colours[index % len(colours)]
        boxes = [[(n.start, n.pitch - 0.4), (n.end, n.pitch - 0.4), (n.end, n.pitch + 0.4), (n.start, n.pitch + 0.4)]
                 for n in inst.notes]  # fmt: skip
        ax.add_collection(PolyCollection(boxes, facecolors=[colour], edgecolors="none"))
        low = min(low, *(n.pitch for n in inst.notes))
        high = max(high, *(n.pitch for n in inst.notes))
        label = inst.name or ("drums" if inst.is_drum else f"track {index + 1}")
        handles.append(Patch(color=colour, label=label[:30]))
    ax.set_xlim(0, max(pm.get_end_time(), 1e-3))
    ax.set_ylim(low - 2, high + 2)
    ax.set_xlabel("seconds")
    ax.set_ylabel("MIDI pitch")
    ax.legend(handles=handles, loc="upper right", fontsize="small")
    fig.savefig(out_path, format="png")
    plt.close(fig)
    return out_path
