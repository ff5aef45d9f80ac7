"""GAN accompaniment quality (DESIGN section 8, issue 11): generated vs real alto, tenor and bass on the test split.

Every test-split chorale (r % 10 == 0): its soprano alone, as a one-track MIDI file, goes through the one generation
path, `pipeline.generate` (what a user gets: the transposition into the model's range and back, the window walk, the
decoding) with the default parameters and seed --seed + the piece's index. The generated and the real parts are
then measured the same way, from their rolls:

- per track, issue 11's four measures (mean over pieces): in-key rate (share of notes in the key the soprano gives,
  Krumhansl-Schmuckler), pitches used, polyphony (mean pitches sounding where any sounds), empty-bar rate; the
  relative difference generated vs real per track and measure (target <= 15 %, aim 10 %);
- what a music teacher checks, each for generated and real parts:
  voice ranges -- share of each part's notes inside that voice's real range (the 1st-99th percentile of its pitches
  in the train split);
  voice crossings -- share of steps, with both voices sounding, where a lower voice of an adjacent pair (S-A, A-T,
  T-B) is above the upper one;
  parallel fifths and octaves -- per 100 moves where both voices of an adjacent pair change pitch in the same
  direction, the moves from a perfect fifth (or octave/unison) to the same interval class;
  harmony -- share of beats (melody sounding, at least two parts sounding) whose four pitch classes all belong to one
  major or minor triad or dominant seventh chord: the parts' chord contains the melody note as a chord tone;
  rhythm -- each part's mean note length in sixteenth steps.

    .venv/bin/python benchmarks/gan_quality.py [--checkpoint DIR] [--seed 0] [--threads 1] [--json]
        [--png FILE] [--card MODEL_CARD.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pretty_midi
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.engine.dataset import Piece, load_chorales, pieces_split
from generation.engine.loading import load_checkpoint
from generation.engine.models.gan.encoding import (
    TRACK_MEASURES,
    estimate_key,
    mean_measures,
    relative_difference,
    top_line,
    track_measures,
)
from generation.engine.models.gan.spec import VOICE_NAMES
from generation.engine.pipeline import generate
from generation.engine.representation import midi_to_rolls, roll_to_notes

TARGET, AIM = 0.15, 0.10
DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "generation" / "checkpoints" / "gan"
CARD_START, CARD_END = "<!-- gan_quality:start -->", "<!-- gan_quality:end -->"
VOICES4 = ("Soprano", *VOICE_NAMES)

# chord templates (pitch-class sets, root 0): major, minor, dominant seventh; every transposition
_TEMPLATES = [frozenset((root + d) % 12 for d in chord) for root in range(12)
              for chord in ((0, 4, 7), (0, 3, 7), (0, 4, 7, 10))]


def soprano_midi(piece: Piece) -> pretty_midi.PrettyMIDI:
    pm = piece.to_midi()
    pm.instruments = pm.instruments[:1]
    return pm


def generated_rolls(model, piece: Piece, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(4, T, 128) rolls and onsets of the soprano + generated parts, on the piece's grid."""
    out = generate("gan", soprano_midi(piece), {"programs": "0,0,0", "seed": seed}, model=model).midi
    rolls = midi_to_rolls(out, min_steps=piece.rolls.shape[1])
    t = piece.rolls.shape[1]
    return rolls.tracks[:, :t], rolls.onsets[:, :t]


def voice_ranges(train: list[Piece]) -> list[tuple[int, int]]:
    """Each voice's real range: 1st-99th percentile of its sounding pitches over the train split."""
    out = []
    for v in range(4):
        pitches = np.concatenate([np.nonzero(p.rolls[v])[1] for p in train])
        out.append((int(np.percentile(pitches, 1)), int(np.percentile(pitches, 99))))
    return out


def teacher_counts(rolls: np.ndarray, onsets: np.ndarray, ranges: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    """Counts for the teacher's checks on one piece's four tracks (numerators and denominators, summed later)."""
    lines = [top_line(rolls[v], onsets[v])[0] for v in range(4)]  # (T,) each, -1 = rest
    c: dict[str, np.ndarray] = {}
    in_range = np.zeros((3, 2))
    for v in range(1, 4):
        pitch, onset = top_line(rolls[v], onsets[v])
        notes = pitch[onset]
        low, high = ranges[v]
        in_range[v - 1] = (((notes >= low) & (notes <= high)).sum(), len(notes))
    c["in_range"] = in_range
    lengths = np.zeros((3, 2))
    for v in range(1, 4):
        _pitches, starts, ends = roll_to_notes(rolls[v], onsets[v])
        lengths[v - 1] = ((ends - starts).sum(), len(starts))
    c["note_length"] = lengths
    crossings = np.zeros((3, 2))
    parallels = np.zeros((3, 2))
    for k in range(3):
        upper, lower = lines[k], lines[k + 1]
        both = (upper >= 0) & (lower >= 0)
        crossings[k] = ((lower > upper)[both].sum(), both.sum())
        pairs = np.stack([upper[both], lower[both]], axis=1)
        if len(pairs) > 1:
            change = np.any(pairs[1:] != pairs[:-1], axis=1)
            seq = np.concatenate([pairs[:1], pairs[1:][change]])
            a, b = seq[:-1], seq[1:]
            moves_u, moves_l = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
            similar = (moves_u != 0) & (moves_l != 0) & (np.sign(moves_u) == np.sign(moves_l))
            ia, ib = (a[:, 0] - a[:, 1]) % 12, (b[:, 0] - b[:, 1]) % 12
            perfect = similar & (ia == ib) & ((ia == 7) | (ia == 0))
            parallels[k] = (perfect.sum(), similar.sum())
    c["crossings"], c["parallels"] = crossings, parallels
    beats = np.arange(0, rolls.shape[1], 4)
    harmonic = 0
    counted = 0
    for t in beats:
        if lines[0][t] < 0:
            continue
        parts = [lines[v][t] for v in range(1, 4) if lines[v][t] >= 0]
        if len(parts) < 2:
            continue
        classes = frozenset(p % 12 for p in [lines[0][t], *parts])
        counted += 1
        harmonic += any(classes <= chord for chord in _TEMPLATES)
    c["harmony"] = np.array([harmonic, counted])
    return c


def _sum_counts(rows: list[dict]) -> dict[str, np.ndarray]:
    return {key: np.sum([r[key] for r in rows], axis=0) for key in rows[0]}


def _ratio(pair: np.ndarray) -> float:
    return float(pair[..., 0].sum() / max(pair[..., 1].sum(), 1))


def measure(model, seed: int) -> dict:
    pieces = load_chorales()
    test, train = pieces_split(pieces, "test"), pieces_split(pieces, "train")
    ranges = voice_ranges(train)
    gen_rows: dict[str, list] = {n: [] for n in VOICE_NAMES}
    real_rows: dict[str, list] = {n: [] for n in VOICE_NAMES}
    gen_counts, real_counts, seconds = [], [], []
    for i, piece in enumerate(test):
        started = time.perf_counter()
        rolls, onsets = generated_rolls(model, piece, seed + i)
        seconds.append(time.perf_counter() - started)
        key = estimate_key(piece.rolls[0])
        for v, name in enumerate(VOICE_NAMES):
            gen_rows[name].append(track_measures(rolls[1 + v], onsets[1 + v], key, piece.steps_per_bar))
            real_rows[name].append(track_measures(piece.rolls[1 + v], piece.onsets[1 + v], key, piece.steps_per_bar))
        gen_counts.append(teacher_counts(rolls, onsets, ranges))
        real_counts.append(teacher_counts(piece.rolls, piece.onsets, ranges))
    gen = {n: mean_measures(r) for n, r in gen_rows.items()}
    real = {n: mean_measures(r) for n, r in real_rows.items()}
    g, r = _sum_counts(gen_counts), _sum_counts(real_counts)
    pair_names = [f"{VOICES4[k]}-{VOICES4[k + 1]}" for k in range(3)]
    teacher = {
        "voice_range": {VOICE_NAMES[v]: (_ratio(g["in_range"][v]), _ratio(r["in_range"][v])) for v in range(3)},
        "voice_crossings": {pair_names[k]: (_ratio(g["crossings"][k]), _ratio(r["crossings"][k])) for k in range(3)},
        "parallels_per_100_moves": {pair_names[k]: (100 * _ratio(g["parallels"][k]), 100 * _ratio(r["parallels"][k]))
                                    for k in range(3)},
        "harmony": (_ratio(g["harmony"]), _ratio(r["harmony"])),
        "note_length": {VOICE_NAMES[v]: (_ratio(g["note_length"][v]), _ratio(r["note_length"][v])) for v in range(3)},
    }
    return {"n_pieces": len(test), "ranges": {VOICES4[v]: ranges[v] for v in range(4)}, "generated": gen,
            "real": real, "teacher": teacher, "median_generate_ms": 1000 * float(np.median(seconds))}


def tables(result: dict) -> list[str]:
    lines = ["| track | measure | generated | real (test) | relative difference | target <= 15 % |",
             "|---|---|---:|---:|---:|---|"]
    worst = 0.0
    for name in VOICE_NAMES:
        for m in TRACK_MEASURES:
            g, r = result["generated"][name][m], result["real"][name][m]
            rel = relative_difference(g, r)
            worst = max(worst, rel)
            verdict = "met" if rel <= TARGET else "missed"
            lines.append(f"| {name} | {m} | {g:.3f} | {r:.3f} | {100 * rel:.1f} % | {verdict} |")
    lines += ["", f"Worst relative difference: {100 * worst:.1f} %.", "",
              "| teacher's check | generated | real (test) |", "|---|---:|---:|"]
    t = result["teacher"]
    for name, (g, r) in t["voice_range"].items():
        lo, hi = result["ranges"][name]
        lines.append(f"| {name} notes inside the real {name.lower()} range ({lo}-{hi}) | {100 * g:.1f} % | "
                     f"{100 * r:.1f} % |")
    for pair, (g, r) in t["voice_crossings"].items():
        lines.append(f"| {pair} crossings (share of steps) | {100 * g:.2f} % | {100 * r:.2f} % |")
    for pair, (g, r) in t["parallels_per_100_moves"].items():
        lines.append(f"| {pair} parallel fifths/octaves per 100 similar moves | {g:.1f} | {r:.1f} |")
    g, r = t["harmony"]
    lines.append(f"| beats whose chord holds the melody note (triad or V7) | {100 * g:.1f} % | {100 * r:.1f} % |")
    for name, (g, r) in t["note_length"].items():
        lines.append(f"| {name} mean note length (sixteenths; rhythm) | {g:.2f} | {r:.2f} |")
    return lines


def save_png(model, seed: int, path: Path) -> None:
    """Piano roll of the first test chorale: real parts above, generated below (soprano in black)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    piece = pieces_split(load_chorales(), "test")[0]
    rolls, _ = generated_rolls(model, piece, seed)
    fig, axes = plt.subplots(2, 1, figsize=(14, 7), sharex=True)
    colours = ("black", "C0", "C1", "C2")
    for ax, source, title in ((axes[0], piece.rolls, "real"), (axes[1], rolls, "generated")):
        for v in range(4):
            t, p = np.nonzero(source[v])
            ax.scatter(t, p, s=6, marker="s", color=colours[v], label=VOICES4[v])
        ax.set_title(f"{piece.name}: {title} alto, tenor, bass under the soprano")
        ax.set_ylabel("MIDI pitch")
        ax.grid(alpha=0.3)
        for bar in range(0, source.shape[1], piece.steps_per_bar):
            ax.axvline(bar, color="grey", linewidth=0.3)
    axes[0].legend(loc="upper right", fontsize=7)
    axes[1].set_xlabel("step (sixteenth notes)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_card(card: Path, lines: list[str], command: str) -> None:
    text = card.read_text()
    block = "\n".join([CARD_START, "## Quality on the test split (benchmarks/gan_quality.py)", "", f"    {command}", "",
                       *lines, CARD_END])
    if CARD_START in text:
        head, _, rest = text.partition(CARD_START)
        text = head + block + rest.partition(CARD_END)[2]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    card.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--png", help="write a piano roll of the first test chorale, real vs generated")
    parser.add_argument("--card", help="write the tables into this model card (between markers)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, _meta = load_checkpoint(args.checkpoint, architecture="gan")
    result = measure(model, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    lines = tables(result)
    print(f"{result['n_pieces']} test chorales, seed {args.seed}, {platform.machine()}, torch threads {args.threads};"
          f" median generate {result['median_generate_ms']:.1f} ms a chorale")
    print("\n".join(lines))
    if args.png:
        save_png(model, args.seed, Path(args.png))
    if args.card:
        write_card(Path(args.card), lines, f".venv/bin/python benchmarks/gan_quality.py --seed {args.seed} "
                                           f"--threads {args.threads}")


if __name__ == "__main__":
    main()
