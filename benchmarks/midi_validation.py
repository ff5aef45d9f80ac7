"""MIDI validation cost (issue 9): time and peak memory of ``validate_midi_bytes`` on the worst files within 2 MiB.

    .venv/bin/python benchmarks/midi_validation.py [--runs 5]

Prints a table: median time over runs (ms) and the peak of Python-tracked memory (tracemalloc, numpy included)
during one validation (MB), with the outcome. Target: at most 0.5 s and 100 MB for any file within 2 MiB.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.engine.errors import MidiValidationError
from generation.engine.midi_io import MAX_EVENTS, MAX_MIDI_BYTES, MAX_NOTES, validate_midi_bytes

DATA = Path(__file__).resolve().parents[1] / "tests/engine/data"


def smf(body: bytes, ticks_per_beat: int = 480) -> bytes:
    return (b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + (1).to_bytes(2, "big")
            + ticks_per_beat.to_bytes(2, "big") + b"MTrk" + len(body).to_bytes(4, "big") + body)


def cases() -> dict[str, bytes]:
    fill = (MAX_MIDI_BYTES - 100) // 3
    at_limits = b"".join(b"\x0a\x90" + bytes([40 + i % 40, 64]) + b"\x0a\x80" + bytes([40 + i % 40, 0])
                         for i in range(MAX_NOTES))
    at_limits += b"\x00\xb0\x07\x40" + b"\x00\x07\x40" * (MAX_EVENTS - 2 * MAX_NOTES - 2) + b"\x00\xff\x2f\x00"
    return {
        "2 MiB of running-status note-ons": smf(b"\x00\x90\x3c\x40" + b"\x00\x3c\x40" * fill),
        "2 MiB of running-status control changes": smf(b"\x00\xb0\x07\x40" + b"\x00\x07\x40" * fill),
        "2 MiB of one long sysex": smf(b"\x00\xf0" + bytes([0x80 | (fill * 3 >> 14), 0x80 | (fill * 3 >> 7 & 0x7F),
                                                              fill * 3 & 0x7F]) + b"\x01" * (fill * 3)),
        f"{MAX_NOTES:,} notes + CCs up to {MAX_EVENTS:,} events": smf(at_limits),
        "music21 Beethoven op. 18/1 i (10,080 tpb)": (DATA / "music21-beethoven-opus18no1-movement1.mid").read_bytes(),
        "music21 Haydn op. 74/1 ii (10,080 tpb)": (DATA / "music21-haydn-opus74no1-movement2.mid").read_bytes(),
    }


def outcome(data: bytes) -> str:
    try:
        info = validate_midi_bytes(data)
    except MidiValidationError as exc:
        return f"refused: {exc.code}"
    return f"read: {info.n_notes:,} notes, {info.seconds:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    print(f"| file | bytes | median ms ({runs} runs) | peak MB | outcome |")
    print("|---|---:|---:|---:|---|")
    for name, data in cases().items():
        result = outcome(data)  # warm-up
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            outcome(data)
            samples.append((time.perf_counter() - started) * 1000)
        tracemalloc.start()
        outcome(data)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(f"| {name} | {len(data):,} | {statistics.median(samples):.0f} | {peak:.1f} | {result} |")


if __name__ == "__main__":
    main()
