"""GAN accompaniment speed (docs/design.md §8): 8 and 32 bars, median of >= 5 runs, on this CPU (one thread default).

Times `pipeline.generate` end to end (parameters, the sampler: melody choice, rolls, the window walk, MIDI out, and
the pipeline's restoring of the input's tempo, meter and tracks) on the first
test chorale's soprano cut or repeated to 8 and 32 bars of 4/4, and the window walk alone (`accompany`).

    .venv/bin/python benchmarks/gan_speed.py [--checkpoint DIR] [--runs 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pretty_midi
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.engine.dataset import load_chorales, pieces_split
from generation.engine.loading import load_checkpoint
from generation.engine.models.gan.encoding import melody_for_model, top_line
from generation.engine.models.gan.model import accompany
from generation.engine.models.gan.spec import n_parameters
from generation.engine.pipeline import generate
from generation.engine.representation import Rolls, midi_to_rolls, rolls_to_midi

TARGET_MS, AIM_MS = 100.0, 50.0
DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "generation" / "checkpoints" / "gan"


def melody_of_bars(n_bars: int) -> pretty_midi.PrettyMIDI:
    """The first 4/4 test chorale's soprano, repeated as needed and cut to ``n_bars`` bars (16 steps each)."""
    piece = next(p for p in pieces_split(load_chorales(), "test") if p.steps_per_bar == 16)
    n = n_bars * 16
    reps = -(-n // piece.rolls.shape[1])
    soprano = np.concatenate([piece.rolls[0]] * reps)[:n]
    onsets = np.concatenate([piece.onsets[0]] * reps)[:n]
    return rolls_to_midi(Rolls(tracks=soprano[None], programs=[0], is_drum=[False], names=["Soprano"],
                               tempo_bpm=piece.tempo_bpm, time_signature=(4, 4), steps_per_bar=16,
                               onsets=onsets[None]))


def time_runs(fn, runs: int) -> list[float]:
    fn()  # warm-up (allocator, oneDNN kernels)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, _meta = load_checkpoint(args.checkpoint, architecture="gan")
    print(f"{platform.machine()} CPU, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"generator {n_parameters(model.config):,} parameters, median of {args.runs} runs")
    print("| bars | generate (end to end) ms | window walk ms | windows | target |")
    print("|---:|---:|---:|---:|---|")
    for n_bars in (8, 32):
        pm = melody_of_bars(n_bars)
        full = statistics.median(time_runs(lambda pm=pm: generate("gan", pm, {"seed": 0}, model=model), args.runs))
        rolls = midi_to_rolls(pm)
        pitch, onset = top_line(rolls.tracks[0], rolls.onsets[0])
        line = melody_for_model(pitch, model.config)[0]
        walk = statistics.median(time_runs(
            lambda line=line, onset=onset: accompany(model, line[None], onset[None], 16,
                                                     torch.Generator().manual_seed(0)), args.runs))
        cfg = model.config
        windows = 1 + max(0, -(-(n_bars * 16 - cfg.window_steps) // (cfg.window_steps - cfg.context_steps)))
        verdict = ("met" if full * 1000 <= TARGET_MS else "missed") if n_bars == 8 else "-"
        print(f"| {n_bars} | {1000 * full:.1f} | {1000 * walk:.1f} | {windows} | {verdict} |")


if __name__ == "__main__":
    main()
