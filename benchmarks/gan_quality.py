"""GAN accompaniment quality as a musician checks it (issue 20, docs/design.md section 8), per style.

Two input sets, each melody alone as a one-track MIDI file through the one generation path (`pipeline.generate`,
what a user gets), seeds --seed and --seed + 1:
- the style's test split sopranos (chorale: r % 10 == 0; renaissance: the Palestrina subset's file index % 10 == 0,
  first 32 bars): the model's parts beside the real ones (Bach's, or Palestrina's own reduced to four voices: the
  "Bach-chord" row then means Palestrina's chord), a rule baseline and a random-in-key baseline;
- 40 held-out Essen folk melodies (the folk test split, every k-th by name so that several collections and meters
  come in): no real parts exist, so the Bach-chord row is not measured.
The key is the file's key signature, else estimated from the melody (Krumhansl-Schmuckler); the cached corpora carry
no key signature, so here it is estimated, as the sampler does for such a file.
Baselines: "rule" puts I, IV or V (the first of the previous chord, I, V, IV that holds the melody note) under each
beat in close position below the melody, root in the bass; "random" draws, each beat and voice, a random note of the
key inside the voice's range. The measures are `generation.engine.models.gan.musician` (one place):

    consonant beats      every sounding part consonant with the melody (3rds, 6ths, 4th, 5th, 8ve)   >= 75 %
    2nd/7th beats        a part a second or seventh from the melody                                 <= 20 %
    chord beats          melody + parts form a triad or seventh chord (>= 2 parts sounding)         >= 85 %
    Bach-chord notes     part notes whose pitch class sounds in Bach's chord at their start         >= 55 %
    note length          mean part note, in beats                                                    >= 0.7
    crossing beats       a lower voice above the one over it (S-A, A-T, T-B)                         <= 8 %
    bass leaps           bass moves over an octave                                                  <= 2 %
    in range             part notes inside the voice's real range (1st-99th percentile, train)     >= 97 %
    parallels /100       parallel 5ths/8ves per 100 moves where both voices move, any two voices    <= 1
    in key               part notes in the key (minor: natural + raised 6th and 7th)                >= 92 %
    seeds differ         part notes of seed s not in seed s + 1 (voice, start, pitch)                >= 25 %
    worst input          the lowest consonant-beat share and highest 2nd/7th share of one input    >= 65 % / <= 30 %

    .venv/bin/python benchmarks/gan_quality.py [--style chorale|renaissance] [--checkpoint DIR] [--seed 0] [--threads 1]
        [--json] [--card MODEL_CARD.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pretty_midi
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.engine.dataset import Piece, load_chorales, load_palestrina, pieces_split
from generation.engine.folk import load_folk
from generation.engine.loading import default_checkpoint_dir, load_checkpoint
from generation.engine.models.gan import spec
from generation.engine.models.gan.encoding import REST, key_of_histogram, key_of_signature, top_line
from generation.engine.models.gan.musician import (
    key_pitch_classes,
    notes_differing,
    piece_counts,
    pooled,
    ratio,
)
from generation.engine.models.gan.sampler import MAX_BARS
from generation.engine.pipeline import checkpoint_variant, generate
from generation.engine.representation import STEPS_PER_BEAT, midi_to_rolls

N_FOLK = 40
CARD_START, CARD_END = "<!-- gan_quality:start -->", "<!-- gan_quality:end -->"
# (measure, label, target, "min" | "max")
TARGETS = (
    ("consonant_beats", "consonant beats", 0.75, "min"),
    ("second_seventh_beats", "2nd/7th beats", 0.20, "max"),
    ("chord_beats", "triad/seventh beats", 0.85, "min"),
    ("bach_chord_notes", "notes in Bach's chord", 0.55, "min"),
    ("note_beats", "mean note (beats)", 0.70, "min"),
    ("crossing_beats", "crossing beats", 0.08, "max"),
    ("bass_leaps", "bass leaps > 8ve", 0.02, "max"),
    ("in_range", "notes in voice range", 0.97, "min"),
    ("parallels_per_100", "parallel 5ths/8ves /100 moves", 1.0, "max"),
    ("in_key", "notes in key", 0.92, "min"),
    ("seeds_differ", "seeds differ (notes)", 0.25, "min"),
    ("worst_consonant", "worst input: consonant beats", 0.65, "min"),
    ("worst_clash", "worst input: 2nd/7th beats", 0.30, "max"),
)
PERCENT = {m for m, *_ in TARGETS} - {"note_beats", "parallels_per_100"}


# ------------------------------------------------------------------------------------------------------ inputs
class Input:
    """One melody: lines on the grid, its MIDI file, key, and (chorales) the real four lines."""

    def __init__(self, name: str, pm: pretty_midi.PrettyMIDI, real: tuple[np.ndarray, np.ndarray] | None):
        self.name, self.pm, self.real = name, pm, real
        rolls = midi_to_rolls(pm)
        self.steps_per_bar = rolls.steps_per_bar
        self.melody = top_line(rolls.tracks[0], rolls.onsets[0])
        sounding = self.melody[0][self.melody[0] >= 0]
        self.key = (key_of_signature(pm.key_signature_changes[0].key_number) if pm.key_signature_changes
                    else key_of_histogram(np.bincount(sounding % 12, minlength=12).astype(np.float64)))


CORPORA = {"chorale": (load_chorales, "chorales", "Bach"), "renaissance": (load_palestrina, "Palestrina", "Palestrina")}


def chorale_inputs(style: str = "chorale") -> list[Input]:
    """The style's corpus, test split: each soprano alone, with the real four lines; a piece longer than the
    sampler's MAX_BARS is cut there (the accompaniment covers that much)."""
    out = []
    for piece in pieces_split(CORPORA[style][0](), "test"):
        t = MAX_BARS * piece.steps_per_bar
        if piece.rolls.shape[1] > t:
            piece = replace(piece, rolls=piece.rolls[:, :t], onsets=piece.onsets[:, :t])
        pm = piece.to_midi()
        pm.instruments = pm.instruments[:1]
        lines = [top_line(piece.rolls[v], piece.onsets[v]) for v in range(4)]
        out.append(Input(piece.name, pm, (np.stack([p for p, _ in lines]), np.stack([o for _, o in lines]))))
    return out


def folk_inputs(n: int = N_FOLK) -> list[Input]:
    tunes = sorted((t for t in load_folk() if t.split == "test"), key=lambda t: t.name)
    step = max(1, len(tunes) // n)
    return [Input(t.name, t.to_midi(), None) for t in tunes[::step][:n]]


def voice_ranges(train: list[Piece]) -> list[tuple[int, int]]:
    """Alto, tenor and bass real ranges: 1st-99th percentile of their sounding pitches over the train split."""
    out = []
    for v in range(1, 4):
        pitches = np.concatenate([np.nonzero(p.rolls[v])[1] for p in train])
        out.append((int(np.percentile(pitches, 1)), int(np.percentile(pitches, 99))))
    return out


# ------------------------------------------------------------------------------------------------------ writers
def model_writer(model, style: str = "chorale"):
    def write(item: Input, seed: int) -> tuple[np.ndarray, np.ndarray]:
        out = generate("gan", item.pm, {"programs": "0,0,0", "seed": seed, "style": style}, model=model).midi
        rolls = midi_to_rolls(out, min_steps=len(item.melody[0]))
        t = len(item.melody[0])
        lines = [top_line(rolls.tracks[v][:t], rolls.onsets[v][:t]) for v in range(4)]
        return np.stack([p for p, _ in lines]), np.stack([o for _, o in lines])
    return write


def bach_writer(item: Input, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return item.real


def _beat_lines(item: Input, choose) -> tuple[np.ndarray, np.ndarray]:
    """Parts that change at most once a beat: choose(beat index, melody pitch at the beat, previous (3,) pitches)
    -> (3,) pitches (REST allowed); a pitch equal to the previous beat's is held."""
    pitch, _ = item.melody
    t = len(pitch)
    parts = np.full((3, t), REST)
    onsets = np.zeros((3, t), dtype=bool)
    previous = np.full(3, REST)
    for b, start in enumerate(range(0, t, STEPS_PER_BEAT)):
        span = pitch[start:start + STEPS_PER_BEAT]
        if (span < 0).all():
            previous = np.full(3, REST)
            continue
        m = span[span >= 0][0]
        now = np.asarray(choose(b, int(m), previous))
        parts[:, start:start + STEPS_PER_BEAT] = now[:, None]
        onsets[:, start] = (now >= 0) & (now != previous)
        previous = now
    return np.concatenate([pitch[None], parts]), np.concatenate([item.melody[1][None], onsets])


def rule_writer(item: Input, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """I, IV or V under each beat: the previous chord if it holds the melody note, else the first of I, V, IV that
    does (else the previous); alto and tenor the next chord tones below the melody, the root in the bass."""
    root, mode = item.key
    third = 4 if mode == "major" else 3
    chords = {"I": (0, third, 7), "V": (7, 11, 2), "IV": (5, 5 + third, 0)}
    state = {"chord": "I"}

    def choose(_b: int, m: int, previous: np.ndarray) -> np.ndarray:
        pc = (m - root) % 12
        for name in (state["chord"], "I", "V", "IV"):
            if pc in chords[name]:
                state["chord"] = name
                break
        tones = {(root + d) % 12 for d in chords[state["chord"]]}
        below = [p for p in range(m - 1, m - 25, -1) if p % 12 in tones]
        bass_root = (root + chords[state["chord"]][0]) % 12
        bass = min((p for p in range(36, 56) if p % 12 == bass_root), key=lambda p: abs(p - 46))
        return np.array([below[0], below[1], bass])

    return _beat_lines(item, choose)


def random_writer(ranges: list[tuple[int, int]]):
    def write(item: Input, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        scale = key_pitch_classes(*item.key)
        pools = [np.array([p for p in range(lo, hi + 1) if scale[p % 12]]) for lo, hi in ranges]
        return _beat_lines(item, lambda _b, _m, _prev: np.array([rng.choice(pool) for pool in pools]))
    return write


# ------------------------------------------------------------------------------------------------------ measuring
def measure(write, inputs: list[Input], ranges, seed: int) -> dict[str, float]:
    rows, differ, worst_cons, worst_clash = [], [0.0, 0.0], 1.0, 0.0
    for i, item in enumerate(inputs):
        first = write(item, seed + 2 * i)
        second = write(item, seed + 2 * i + 1)
        real = None if item.real is None else item.real[0]
        counts = piece_counts(*first, key=item.key, ranges=ranges, real=real)
        rows.append(counts)
        d = notes_differing(first, second)
        differ = [differ[0] + d[0], differ[1] + d[1]]
        if counts["consonant_beats"][1]:
            worst_cons = min(worst_cons, ratio(counts["consonant_beats"]))
            worst_clash = max(worst_clash, ratio(counts["second_seventh_beats"]))
    out = pooled(rows)
    out.update(seeds_differ=ratio(tuple(differ)), worst_consonant=worst_cons, worst_clash=worst_clash)
    return out


def verdict(value: float, target: float, kind: str) -> str:
    if value != value:  # NaN
        return "-"
    return "met" if (value >= target if kind == "min" else value <= target) else "MISSED"


def fmt(measure_name: str, value: float) -> str:
    if value != value:
        return "-"
    return f"{100 * value:.1f} %" if measure_name in PERCENT else f"{value:.2f}"


def table(results: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """results[input set][writer] -> measures; one row a measure, the model's verdict per input set."""
    sets = list(results)
    writers = {s: list(results[s]) for s in sets}
    head = ["measure", "target"]
    for s in sets:
        head += [f"{w} ({s})" for w in writers[s]] + [f"verdict ({s})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m, label, target, kind in TARGETS:
        cells = [label, ("≥ " if kind == "min" else "≤ ") + fmt(m, target)]
        for s in sets:
            cells += [fmt(m, results[s][w].get(m, float("nan"))) for w in writers[s]]
            cells.append(verdict(results[s]["model"].get(m, float("nan")), target, kind))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_card(card: Path, lines: list[str], header: str) -> None:
    text = card.read_text()
    block = "\n".join([CARD_START, "## Quality as a musician checks it (benchmarks/gan_quality.py)", "", header, "",
                       *lines, CARD_END])
    if CARD_START in text:
        head, _, rest = text.partition(CARD_START)
        text = head + block + rest.partition(CARD_END)[2]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    card.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default=spec.DEFAULT_STYLE, choices=list(spec.STYLES))
    parser.add_argument("--checkpoint", help="checkpoint folder (default: the style's shipped one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--card", help="write the table into this model card (between markers)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = default_checkpoint_dir("gan", checkpoint_variant(spec, {"style": args.style}))
    model, _meta = load_checkpoint(args.checkpoint or folder, architecture="gan")
    load, set_name, real_name = CORPORA[args.style]
    ranges = voice_ranges(pieces_split(load(), "train"))
    started = time.perf_counter()
    chorales, folk = chorale_inputs(args.style), folk_inputs()
    results = {
        set_name: {real_name: measure(bach_writer, chorales, ranges, args.seed),
                   "rule I-IV-V": measure(rule_writer, chorales, ranges, args.seed),
                   "random in key": measure(random_writer(ranges), chorales, ranges, args.seed),
                   "model": measure(model_writer(model, args.style), chorales, ranges, args.seed)},
        "folk": {"rule I-IV-V": measure(rule_writer, folk, ranges, args.seed),
                 "random in key": measure(random_writer(ranges), folk, ranges, args.seed),
                 "model": measure(model_writer(model, args.style), folk, ranges, args.seed)},
    }
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps(results, indent=2))
        return
    meters = sorted({f"{i.pm.time_signature_changes[0].numerator}/{i.pm.time_signature_changes[0].denominator}"
                     for i in folk if i.pm.time_signature_changes})
    header = (f"Style {args.style}: {len(chorales)} test-split {set_name} sopranos (first {MAX_BARS} bars; the "
              f"{real_name} column: the real parts) and {len(folk)} held-out Essen folk "
              f"tunes (meters {', '.join(meters)}), seeds {args.seed} and {args.seed + 1} (seeds differ: each input "
              f"with both); {platform.machine()} CPU, torch threads {args.threads}, {elapsed:.0f} s in all. "
              "Voice ranges (alto, tenor, bass): " + ", ".join(f"{lo}-{hi}" for lo, hi in ranges) + ".")
    lines = table(results)
    print(header)
    print("\n".join(lines))
    if args.card:
        write_card(Path(args.card), lines, header + f"\n\n    .venv/bin/python benchmarks/gan_quality.py --style "
                                                   f"{args.style} --seed {args.seed} --threads {args.threads}")


if __name__ == "__main__":
    main()
