"""Scoring speed (docs/design.md section 8, issue 23 item 7): one 30-s four-track piece, scored as a warm worker does
(discriminator and originality index already loaded, one torch thread), median of --runs runs; target total <= 30 ms
(the design's budget is 150 ms; issue 23 asks 30 so that entries are scored as they arrive).

The piece is the first test chorale of at least 30 s (4 voices, 120 bpm), cut to 30 s. Stages: MIDI load and
validation, the thirteen metrics, the discriminator's realness, the originality check against the whole
training set (every chorale); "score_midi_paths" is the whole public call (the stages + reference figures + score).
With --entries N the call is also made as the scoring task makes it, on a scratch SQLite database: for a challenge
with N earlier entries (other entrants' random-walk pieces, fingerprints registered), the originality check then
queries their n-grams and registers the new entry.

    .venv/bin/python benchmarks/scoring_speed.py [--runs 7] [--entries 500]
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
if "--entries" in sys.argv:  # a scratch database, never the development one
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='chartbusters-bench-')}/bench.sqlite3"

import django

django.setup()

from evaluation.automatic import score_midi_paths  # noqa: E402
from evaluation.metrics import compute_metrics  # noqa: E402
from evaluation.originality import originality_check, training_index  # noqa: E402
from evaluation.realness import load_model, realness_of, realness_windows  # noqa: E402
from generation.engine.dataset import load_chorales, pieces_split  # noqa: E402
from generation.engine.midi_io import load_midi, write_midi  # noqa: E402

TARGET_MS = 30.0
SECONDS = 30.0


def thirty_second_piece(path: Path) -> Path:
    test = pieces_split(load_chorales(), "test")
    pm = next(p for p in test if p.rolls.shape[1] >= 240).to_midi()  # the first test chorale of at least 30 s
    for inst in pm.instruments:
        inst.notes = [n for n in inst.notes if n.start < SECONDS]
        for n in inst.notes:
            n.end = min(n.end, SECONDS)
    return write_midi(pm, path)


def challenge_with_entries(n: int):
    """A challenge with ``n`` registered earlier entries by distinct entrants; returns (challenge, new submission)."""
    from datetime import timedelta

    import numpy as np
    import pretty_midi
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from chartbusters.challenges.models import Challenge
    from evaluation.originality import originality_register
    from submissions.models import Submission

    call_command("migrate", verbosity=0)
    now = timezone.now()
    challenge = Challenge.objects.create(slug="bench", title="Bench", opens_at=now - timedelta(days=1),
                                         closes_at=now + timedelta(days=1), judging_ends_at=now + timedelta(days=2))
    rng = np.random.default_rng(0)
    for i in range(n + 1):
        user = get_user_model().objects.create_user(username=f"entrant{i}", password="x")
        sub = Submission.objects.create(challenge=challenge, entrant=user, kind="composition", title=f"e{i}",
                                        licence="CC BY 4.0")
        if i == n:
            return challenge, sub
        pm = pretty_midi.PrettyMIDI(initial_tempo=120)
        for t in range(4):
            inst = pretty_midi.Instrument(0, name=f"voice {t}")
            pitch, start = 72 - 7 * t, 0.0
            while start < SECONDS:
                length = float(rng.choice([0.25, 0.5, 1.0]))
                pitch = int(np.clip(pitch + rng.integers(-4, 5), 36, 84))
                inst.notes.append(pretty_midi.Note(80, pitch, start, start + length))
                start += length
            pm.instruments.append(inst)
        originality_register(submission_id=sub.pk, pms=[pm])
    raise AssertionError("unreachable")


def median_ms(fn, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU (this process's) milliseconds: on a shared machine the CPU time is what the stage
    costs, the wall time adds the wait for a core."""
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(times), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--entries", type=int, default=0, help="also score for a challenge with N earlier entries")
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
            ("13 metrics", median_ms(lambda: compute_metrics(pm), args.runs)),
            ("realness (discriminator)", median_ms(lambda: realness_of(pm), args.runs)),
            ("originality (all chorales)", median_ms(lambda: originality_check([pm]), args.runs)),
            ("score_midi_paths (total)", median_ms(lambda: score_midi_paths([path]), args.runs)),
        ]
        if args.entries:
            challenge, sub = challenge_with_entries(args.entries)
            task_call = lambda: score_midi_paths([path], challenge=challenge, exclude_submission_id=sub.pk)  # noqa: E731
            task_call()
            rows.append((f"... + challenge, {args.entries} entries", median_ms(task_call, args.runs)))
    import torch

    model = load_model()
    windows = len(realness_windows(pm, model)[1])
    print(f"piece: {pm.get_end_time():.1f} s, {len(pm.instruments)} tracks, {n_notes} notes; "
          f"index: {len(training_index())} lines; median of {args.runs} runs; load {os.getloadavg()[0]:.1f}; "
          f"realness: {windows} windows of {model.config.window_steps} steps x {model.config.n_pitches} pitches, "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'stage':<32}{'wall ms':>9}{'CPU ms':>9}")
    for name, (ms, cpu) in rows:
        print(f"{name:<32}{ms:>9.1f}{cpu:>9.1f}")
    total, total_cpu = max(v for name, v in rows if "score_midi_paths" in name or "challenge" in name)
    print(f"target <= {TARGET_MS:.0f} ms: wall {'met' if total <= TARGET_MS else 'NOT met'}, "
          f"CPU {'met' if total_cpu <= TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
