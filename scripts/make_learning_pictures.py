"""Make the pictures of the learning pages (/learn/), written to generation/static/learn/ (PNG, each under 150 KB):

- ``<model>-before-after.png`` for each generator (arcnn, gan, transformer): a studio sample melody
  (generation/samples/amazing-grace.mid) as a piano roll, then what the shipped model returns for it through the one
  generation path (``pipeline.generate``, default parameters, fixed seed): the input's notes in grey, the notes the
  model added in colour, any note it removed as a red outline.
- ``<model>-loss.png`` for each shipped model (the three generators and the realness discriminator): the loss curve
  its training wrote beside the checkpoint (generation/checkpoints/<model>/loss.png), copied; ``gan-measures.png``:
  the GAN's validation measures over training (the drift after step 500).
- ``realness.png``: the shipped realness discriminator's score for real held-out Bach chorales (test split) and for
  each shipped generator's output on the same chorales (as ``generation.engine.negatives`` makes them for the
  discriminator's card), one dot a piece.
- ``training-when-to-stop.png``: a loss curve that shows when to stop: a tiny Transformer trained by the engine's own
  training code on three chorales only, so validation loss turns up while training loss keeps falling; the step with
  the best validation loss is marked "stop here".

    CHARTBUSTERS_DATASET_DIR=/work/datasets .venv/bin/python scripts/make_learning_pictures.py [--pieces 12]

Runs on one CPU thread in a few minutes (the chorales dataset is built first if it is not cached: ~75 s).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pretty_midi
from matplotlib import pyplot as plt
from matplotlib.patches import Patch, Rectangle

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "generation" / "static" / "learn"
SAMPLE = ROOT / "generation" / "samples" / "amazing-grace.mid"
SEED = 1
MODELS = ("arcnn", "gan", "transformer")
SHIPPED = ("arcnn", "gan", "transformer", "discriminator")
RUN_PARAMS = {"arcnn": {}, "gan": {}, "transformer": {"extension_seconds": 10}}
# What each generator is given in realness.png (as generation.engine.negatives gives it, for the discriminator's card)
REALNESS_LABELS = {"arcnn": "arcnn: the chorale,\nedited", "gan": "gan: parts for\nthe soprano",
                   "transformer": "transformer: 1st half,\ncontinued"}
DPI = 90
INPUT_COLOUR = "#8a8a96"
ADDED_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
REMOVED_COLOUR = "#d62728"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# ------------------------------------------------------------------------------------------------- piano rolls
def _notes(instrument: pretty_midi.Instrument) -> list[pretty_midi.Note]:
    return sorted(instrument.notes, key=lambda n: (n.start, n.pitch))


def _matches(note: pretty_midi.Note, others: list[pretty_midi.Note], tol: float) -> bool:
    return any(o.pitch == note.pitch and abs(o.start - note.start) < tol for o in others)


def _pitch_ticks(ax, low: int, high: int) -> None:
    ticks = [p for p in range(low, high + 1) if p % 12 in (0, 7)]  # every C and G
    ax.set_yticks(ticks)
    ax.set_yticklabels([pretty_midi.note_number_to_name(p) for p in ticks])


def _draw(ax, notes, colour, *, bar_seconds: float, outline: bool = False) -> None:
    for n in notes:
        ax.add_patch(Rectangle((n.start / bar_seconds, n.pitch - 0.4), (n.end - n.start) / bar_seconds, 0.8,
                               facecolor="none" if outline else colour, edgecolor=colour,
                               linewidth=1.2 if outline else 0.3))


def before_after(model_name: str, pm: pretty_midi.PrettyMIDI, out: pretty_midi.PrettyMIDI, path: Path) -> dict:
    """Two stacked piano rolls: the input, and the model's output with kept / added / removed notes told apart."""
    from generation.engine import registry
    from generation.engine.midi_io import first_tempo

    spec = registry.get_generator_spec(model_name)
    beats = pm.time_signature_changes[0].numerator if pm.time_signature_changes else 4
    bar_seconds = beats * 60.0 / first_tempo(pm)
    step = 60.0 / first_tempo(pm) / 4  # a sixteenth
    melody_in = _notes(pm.instruments[0])
    tol = step * 0.6
    melody_out = _notes(out.instruments[0])
    kept = [n for n in melody_out if _matches(n, melody_in, tol)]
    added_tracks: list[tuple[str, list]] = []
    edited_added = [n for n in melody_out if not _matches(n, melody_in, tol)]
    if edited_added:
        label = "notes the model added (after the tune)" if getattr(spec, "CONTINUES", False) else \
            "notes the model added"
        added_tracks.append((label, edited_added))
    names = getattr(spec, "VOICE_NAMES", ())
    for i, inst in enumerate(out.instruments[1:]):
        label = f"{names[i]} (added)" if i < len(names) else f"{inst.name or 'track'} (added)"
        added_tracks.append((label, _notes(inst)))
    removed = [n for n in melody_in if not _matches(n, melody_out, tol)]
    every = melody_in + [n for _, ns in added_tracks for n in ns]
    low = min(n.pitch for n in every) - 2
    high = max(n.pitch for n in every) + 2
    end = max(n.end for n in every) / bar_seconds + 0.3

    fig, axes = plt.subplots(2, 1, figsize=(9, 5.6), dpi=DPI, sharex=True,
                             gridspec_kw={"height_ratios": [1, 1.6]})
    _draw(axes[0], melody_in, "#333344", bar_seconds=bar_seconds)
    axes[0].set_title("Before: the melody you give (Amazing Grace, a studio sample)", fontsize=10, loc="left")
    _draw(axes[1], kept, INPUT_COLOUR, bar_seconds=bar_seconds)
    handles = [Patch(facecolor=INPUT_COLOUR, label="your notes, kept")]
    for (label, notes), colour in zip(added_tracks, ADDED_COLOURS, strict=False):
        _draw(axes[1], notes, colour, bar_seconds=bar_seconds)
        handles.append(Patch(facecolor=colour, label=label))
    if removed:
        _draw(axes[1], removed, REMOVED_COLOUR, bar_seconds=bar_seconds, outline=True)
        handles.append(Patch(facecolor="none", edgecolor=REMOVED_COLOUR, label="your notes the model removed"))
    if getattr(spec, "CONTINUES", False):
        input_end = max(n.end for n in melody_in) / bar_seconds
        axes[1].axvline(input_end, color="#444", linestyle="--", linewidth=1)
        axes[1].text(input_end, high - 1, " end of your input", fontsize=8, va="top")
    axes[1].set_title(f"After: what the shipped {model_name} returns (default parameters, seed {SEED})",
                      fontsize=10, loc="left")
    axes[1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    for ax in axes:
        ax.set_ylim(low, high)
        ax.set_xlim(0, end)
        _pitch_ticks(ax, low, high)
        ax.set_ylabel("pitch")
        ax.grid(axis="x", alpha=0.35)
        ax.set_xticks(range(int(end) + 1))
    axes[1].set_xlabel(f"bar ({beats}/4 at {first_tempo(pm):g} bpm)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return {"kept": len(kept), "added": sum(len(ns) for _, ns in added_tracks), "removed": len(removed)}


def make_before_after() -> None:
    from generation.engine.midi_io import load_midi
    from generation.engine.pipeline import generate

    pm = load_midi(SAMPLE)
    for name in MODELS:
        started = time.perf_counter()
        result = generate(name, pm, {**RUN_PARAMS[name], "seed": SEED})
        counts = before_after(name, pm, result.midi, OUT / f"{name}-before-after.png")
        say(f"{name}-before-after.png: {counts} ({time.perf_counter() - started:.1f} s)")


# ------------------------------------------------------------------------------------------------- loss curves
def copy_loss_curves() -> None:
    from generation.engine.loading import default_checkpoint_dir

    for name in SHIPPED:
        shutil.copyfile(default_checkpoint_dir(name) / "loss.png", OUT / f"{name}-loss.png")
        say(f"{name}-loss.png: copied from the checkpoint")
    shutil.copyfile(default_checkpoint_dir("gan") / "measures.png", OUT / "gan-measures.png")
    say("gan-measures.png: copied from the checkpoint")


# ------------------------------------------------------------------------------------------------- realness
def make_realness(n_pieces: int) -> None:
    """Realness of ``n_pieces`` test chorales and of each shipped generator's output on them (negatives.py)."""
    from generation.engine import loading
    from generation.engine.dataset import load_chorales, pieces_split
    from generation.engine.models.discriminator.model import realness
    from generation.engine.negatives import generator_family

    started = time.perf_counter()
    test = pieces_split(load_chorales(), "test")[:n_pieces]
    disc, _meta = loading.load_default_model("discriminator")
    real = [realness(disc, p.rolls, p.onsets) for p in test]
    scores: dict[str, list[float]] = {"real Bach chorales\n(test split)": real}
    for name in MODELS:
        model, _ = loading.load_default_model(name)
        corrupt = generator_family(name, model)
        rng = np.random.default_rng(0)
        values = []
        for piece in test:
            tracks, onsets = corrupt(piece, rng)
            values.append(realness(disc, tracks, onsets))
        scores[REALNESS_LABELS.get(name, name)] = values
        say(f"realness {name}: mean {np.mean(values):.3f} ({time.perf_counter() - started:.0f} s so far)")

    fig, ax = plt.subplots(figsize=(8, 3.8), dpi=DPI)
    rng = np.random.default_rng(0)
    colours = ["#333344", *ADDED_COLOURS]
    for i, values in enumerate(scores.values()):
        y = np.full(len(values), i) + rng.uniform(-0.18, 0.18, len(values))
        ax.scatter(values, y, s=22, color=colours[i % len(colours)], alpha=0.8, edgecolors="none")
        mean = float(np.mean(values))
        ax.plot([mean, mean], [i - 0.32, i + 0.32], color="black", linewidth=2)
        ax.text(1.02, i, f"mean {mean:.2f}", va="center", fontsize=8, transform=ax.get_yaxis_transform())
    ax.set_yticks(range(len(scores)))
    ax.set_yticklabels(list(scores))
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("realness: the discriminator's probability that the piece is a real chorale (one dot a piece)")
    ax.set_title(f"Realness of {len(test)} held-out Bach chorales and of each model's output on them",
                 fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.35)
    fig.tight_layout()
    fig.savefig(OUT / "realness.png")
    plt.close(fig)
    say(f"realness.png: {len(test)} pieces ({time.perf_counter() - started:.0f} s)")


# ------------------------------------------------------------------------------------------------- when to stop
def make_when_to_stop(steps: int) -> None:
    """A tiny Transformer on three chorales (two others for validation): it memorizes them, so validation turns up."""
    from generation.engine import training
    from generation.engine.dataset import load_chorales, pieces_split, split_of_name
    from generation.engine.models.transformer import train as transformer_train
    from generation.engine.models.transformer.spec import TransformerConfig

    started = time.perf_counter()
    chorales = pieces_split(load_chorales(), "train")
    wanted = {"train": 3, "valid": 2}
    histories = []
    real_fit = training.fit

    def recording_fit(*args, **kwargs):  # the train function's own loop; its history kept for this picture
        result = real_fit(*args, **kwargs)
        histories.append(result.history)
        return result

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        folder.mkdir()
        i, source = 0, iter(chorales)
        while any(wanted.values()):  # file names whose stable hash puts them in the split wanted
            name = f"chorale-{i:03d}.mid"
            i += 1
            split = split_of_name(name)
            if wanted.get(split, 0) > 0:
                next(source).to_midi().write(str(folder / name))
                wanted[split] -= 1
        model_config = TransformerConfig(context=128, d_model=64, n_layers=2, n_heads=2)
        train_config = transformer_train.TrainConfig(
            steps=steps, batch_size=8, lr=3e-3, weight_decay=0.0, warmup_steps=20, eval_every=10, max_transpose=0,
            stretch=(1.0, 1.0), single_voice_fraction=0.0, eval_stride=64, max_minutes=10.0)
        training.fit = recording_fit
        try:
            metrics = transformer_train.train(data=folder, out=Path(tmp) / "run", progress=False,
                                              model_config=model_config, train_config=train_config)
        finally:
            training.fit = real_fit
    history = histories[-1]
    best_step = int(metrics["best_step"])
    best = float(metrics["best_valid_nll"])

    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=DPI)
    k = 10
    smooth = np.convolve(history.train_loss, np.ones(k) / k, mode="valid")
    ax.plot(history.train_steps[k - 1:], smooth, label="training loss (the 3 pieces it learns from)",
            color="#1f77b4")
    ax.plot(history.valid_steps, history.valid_loss, "o-", markersize=3,
            label="validation loss (2 pieces it never trains on)", color="#ff7f0e")
    ax.axvline(best_step, color="#2ca02c", linestyle="--")
    ax.annotate(f"stop here (step {best_step}):\nvalidation is lowest", xy=(best_step, best),
                xytext=(best_step + steps * 0.03, best + 1.6), fontsize=9,
                arrowprops={"arrowstyle": "->", "color": "#2ca02c"}, color="#2ca02c")
    ax.axvspan(best_step, history.train_steps[-1], color="#d62728", alpha=0.06)
    ax.text(0.98, 0.97, "after it: overfitting, the model memorizes\nits pieces and gets worse on new music",
            transform=ax.transAxes, ha="right", va="top", fontsize=8, color="#a11")
    top = max(history.valid_loss[0], smooth[0])
    ax.set_ylim(0, top * 1.05)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (NLL, nats per event)")
    ax.set_title(f"A tiny Transformer trained on 3 chorales ({metrics['n_parameters']:,} parameters, "
                 f"{len(history.train_steps)} steps)", fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "training-when-to-stop.png")
    plt.close(fig)
    say(f"training-when-to-stop.png: best validation {best:.3f} at step {best_step} of {steps}, last "
          f"{history.valid_loss[-1]:.3f} ({time.perf_counter() - started:.0f} s)")


PARTS = ("before-after", "loss", "realness", "when-to-stop")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pieces", type=int, default=37,
                        help="test chorales scored for realness.png (the test split has 37)")
    parser.add_argument("--steps", type=int, default=500, help="steps of the tiny run in training-when-to-stop.png")
    parser.add_argument("--only", choices=PARTS, action="append", help="make only these pictures (repeatable)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    only = set(args.only or PARTS)
    if "loss" in only:
        copy_loss_curves()
    if "before-after" in only:
        make_before_after()
    if "realness" in only:
        make_realness(args.pieces)
    if "when-to-stop" in only:
        make_when_to_stop(args.steps)
    for png in sorted(OUT.glob("*.png")):
        say(f"  {png.name}: {png.stat().st_size / 1024:.0f} KB")
    say(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
