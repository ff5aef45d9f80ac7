"""Scoring speed (DESIGN section 8): one 30-s four-track piece, scored as a warm worker does (discriminator and
originality index already loaded), median of --runs runs; target total <= 150 ms.

The piece is the first test chorale (4 voices, 120 bpm) cut to 30 s. Stages: MIDI load and validation, the twelve
muspy metrics, the discriminator's realness, the originality check against the whole training set (every chorale);
"score_midi_paths" is the whole public call (the stages + reference figures + the score).

    .venv/bin/python benchmarks/scoring_speed.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")

import django

django.setup()

from evaluation.automatic import score_midi_paths  # noqa: E402
from evaluation.metrics import compute_metrics  # noqa: E402
from evaluation.originality_check import originality_check, training_index  # noqa: E402
from evaluation.realness import load_model, realness_of  # noqa: E402
from generation.engine.dataset import load_chorales, pieces_split  # noqa: E402
from generation.engine.midi_io import load_midi, write_midi  # noqa: E402

TARGET_MS = 150.0
SECONDS = 30.0


def thirty_second_piece(path: Path) -> Path:
    pm = pieces_split(load_chorales(), "test")[0].to_midi()
    for inst in pm.instruments:
        inst.notes = [n for n in inst.notes if n.start < SECONDS]
        for n in inst.notes:
            n.end = min(n.end, SECONDS)
    return write_midi(pm, path)


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = thirty_second_piece(Path(tmp) / "piece.mid")
        pm = load_midi(path)
        load_model()
        training_index()
        score_midi_paths([path])  # warm-up: imports, caches
        n_notes = sum(len(i.notes) for i in pm.instruments)
        rows = [
            ("load + validate MIDI", median_ms(lambda: load_midi(path), args.runs)),
            ("12 muspy metrics", median_ms(lambda: compute_metrics(pm), args.runs)),
            ("realness (discriminator)", median_ms(lambda: realness_of(pm), args.runs)),
            ("originality (all chorales)", median_ms(lambda: originality_check([pm]), args.runs)),
            ("score_midi_paths (total)", median_ms(lambda: score_midi_paths([path]), args.runs)),
        ]
    print(f"piece: {pm.get_end_time():.1f} s, {len(pm.instruments)} tracks, {n_notes} notes; "
          f"index: {len(training_index())} lines; median of {args.runs} runs; load {os.getloadavg()[0]:.1f}")
    print(f"{'stage':<30}{'ms':>8}")
    for name, ms in rows:
        print(f"{name:<30}{ms:>8.1f}")
    total = rows[-1][1]
    print(f"target <= {TARGET_MS:.0f} ms: {'met' if total <= TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
