"""Transformer speed (docs/design.md section 8): a 30-s extension of an 8-bar input, median of >= 5 runs, on one thread.

The input: the first 8 bars of a test-split chorale, its four voices merged into one piano track (DeepComposer's
single track), at 100 bpm (19.2 s of 4/4); the whole input is the prompt. Timed: `pipeline.generate` end to end with
the shipped checkpoint and default parameters (nucleus .95, temperature .95, max rest 2 s, max note 3 s) with the
key/value cache, and the same sampler without the cache (the whole window recomputed for every token), and the ratio.

    .venv/bin/python benchmarks/transformer_speed.py [--runs 5] [--uncached-runs 3] [--threads 1] [--checkpoint DIR]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import pretty_midi
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.engine.dataset import load_chorales, pieces_split
from generation.engine.models.transformer.spec import n_parameters
from generation.engine.pipeline import generate
from generation.engine.representation import roll_to_notes

TARGET_SECONDS = 3.0
EXTENSION_SECONDS = 30.0
TEMPO_BPM = 100.0


def eight_bar_input() -> pretty_midi.PrettyMIDI:
    piece = pieces_split(load_chorales(), "test")[0]
    step = 60.0 / TEMPO_BPM / 4
    pm = pretty_midi.PrettyMIDI(initial_tempo=TEMPO_BPM)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    piano = pretty_midi.Instrument(program=0, name="piano")
    for voice in range(4):
        pitches, starts, ends = roll_to_notes(piece.rolls[voice][:128], piece.onsets[voice][:128])
        piano.notes += [pretty_midi.Note(80, int(p), s * step, e * step)
                        for p, s, e in zip(pitches.tolist(), starts.tolist(), ends.tolist(), strict=True)]
    piano.notes.sort(key=lambda n: (n.start, n.pitch))
    pm.instruments.append(piano)
    return pm


def time_runs(fn, runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, this process's CPU seconds) of each run after a warm-up: on a shared machine the CPU time is
    what the run costs unloaded (one thread: CPU time <= wall time), the wall time what it took under the load."""
    fn()  # warm-up
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return times, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uncached-runs", type=int, default=3, help="runs without the cache (slow; for the ratio)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--checkpoint", default=None, help="checkpoint folder (default: the shipped one)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from generation.engine.loading import default_checkpoint_dir, load_checkpoint
    from generation.engine.models.transformer.sampler import prompt_tokens, sample_extension

    model, _meta = load_checkpoint(args.checkpoint or default_checkpoint_dir("transformer"),
                                   architecture="transformer")
    pm = eight_bar_input()
    params = {"extension_seconds": EXTENSION_SECONDS, "seed": 0}
    prompt, velocity = prompt_tokens(pm.instruments[0].notes, input_end=pm.get_end_time(), prompt_seconds=30)

    def core(use_cache: bool):
        return lambda: sample_extension(model, prompt, extension_seconds=EXTENSION_SECONDS, max_rest_seconds=2,
                                        max_note_seconds=3, velocity=velocity, use_cache=use_cache,
                                        generator=torch.Generator().manual_seed(0))

    rows = [("generate() end to end, cached", time_runs(lambda: generate("transformer", pm, params, model=model),
                                                        args.runs)),
            ("sampler core, cached", time_runs(core(True), args.runs)),
            ("sampler core, without cache", time_runs(core(False), args.uncached_runs))]
    state = core(True)()
    out = generate("transformer", pm, params, model=model).midi
    print(f"Transformer speed: 30-s extension of 8 bars ({pm.get_end_time():.1f} s at {TEMPO_BPM:g} bpm, "
          f"{len(pm.instruments[0].notes)} notes, prompt {len(prompt)} tokens) on {platform.machine()}, "
          f"{args.threads} thread(s), median of {args.runs} runs; model {n_parameters(model.config):,} parameters, "
          f"context {model.config.context}")
    print(f"sampler core (no input limits): {len(state.tokens)} tokens sampled, {len(state.notes)} notes; "
          f"generate(): {sum(len(i.notes) for i in out.instruments) - len(pm.instruments[0].notes)} notes")
    print(f"{'run':<34}{'runs':>5}{'median s':>10}{'min s':>8}{'CPU s':>8}")
    for name, (times, cpu) in rows:
        print(f"{name:<34}{len(times):>5}{statistics.median(times):>10.3f}{min(times):>8.3f}"
              f"{statistics.median(cpu):>8.3f}")
    ratio = statistics.median(rows[2][1][1]) / statistics.median(rows[1][1][1])
    wall, cpu = statistics.median(rows[0][1][0]), statistics.median(rows[0][1][1])
    print(f"cache speed-up (CPU s): {ratio:.1f}x; target <= {TARGET_SECONDS:g} s (generate end to end): "
          f"{'met' if wall <= TARGET_SECONDS else 'NOT met'} in wall time, "
          f"{'met' if cpu <= TARGET_SECONDS else 'NOT met'} in CPU time")


if __name__ == "__main__":
    main()
