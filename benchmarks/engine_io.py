"""Engine I/O speed: MIDI parse + validation, piano rolls, events, on a 30-s 4-track piece and a real chorale.

    .venv/bin/python benchmarks/engine_io.py [--runs 7]

Prints the median (and min) over runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pretty_midi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.engine import dataset
from generation.engine.dataset import load_chorales
from generation.engine.events import decode, encode
from generation.engine.midi_io import load_midi, midi_to_bytes
from generation.engine.representation import midi_to_rolls, rolls_to_midi


def thirty_second_piece() -> bytes:
    """4 tracks, 120 bpm, 30 s (15 bars of 4/4): melody in eighths and sixteenths, three voices in quarters."""
    rng = np.random.default_rng(0)
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0))
    for track, (low, step) in enumerate([(64, 0.125), (57, 0.5), (50, 0.5), (38, 0.5)]):
        inst = pretty_midi.Instrument(program=0, name=f"v{track}")
        t = 0.0
        while t < 30.0:
            length = step * int(rng.integers(1, 3))
            inst.notes.append(pretty_midi.Note(80, int(low + rng.integers(0, 12)), t, min(t + length, 30.0)))
            t += length
        pm.instruments.append(inst)
    return midi_to_bytes(pm)


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    data = thirty_second_piece()
    pm = load_midi(data)
    rolls = midi_to_rolls(pm)
    tokens = encode(pm)
    chorale = load_chorales()[0]
    rows = [
        (f"30-s 4-track piece ({sum(len(i.notes) for i in pm.instruments)} notes): validate + parse bytes",
         lambda: load_midi(data)),
        ("  midi_to_rolls", lambda: midi_to_rolls(pm)),
        ("  validate + parse + midi_to_rolls", lambda: midi_to_rolls(load_midi(data))),
        ("  rolls_to_midi", lambda: rolls_to_midi(rolls)),
        (f"  events encode ({len(tokens)} tokens)", lambda: encode(pm)),
        ("  events decode", lambda: decode(tokens)),
        ("load_chorales() from the .npz disk cache (371 pieces)", lambda: (dataset._MEMORY_CACHE.clear(),
                                                                         load_chorales())),
        ("load_chorales() from the in-process cache", load_chorales),
        ("chorale r001 -> MIDI (Piece.to_midi)", chorale.to_midi),
    ]
    print(f"{'step':<70} {'median ms':>10} {'min ms':>8}")
    for name, fn in rows:
        median, best = timed(fn, runs)
        print(f"{name:<70} {median:>10.2f} {best:>8.2f}")


if __name__ == "__main__":
    main()
