"""How soon limits act (issue 27: the figures that tests no longer time, since a shared machine makes them flaky).

    .venv/bin/python benchmarks/limits.py [--runs 5]

Prints one table, median of --runs runs (wall milliseconds), one torch thread:
- the generation time limit (generation.engine.pipeline.time_limit, SIGALRM in the main thread, as in a prefork
  worker): a sampler made to sleep 3 s, stopped at 0.5 s (the studio's case in tests/engine/test_pipeline.py) and at
  1 s (a Melody Harvest entry's, tests/submissions/test_checkpoint_entries.py), and the real AR-CNN sampler
  (100 iterations on 8 bars) stopped at 0.1 s: how long past the limit the call returns;
- the Train page's upload check (generation.services.training.checked_training_files) on a zip of 20,000 and of
  200,000 hidden members, refused from the zip's end record (tests/training/test_training_api.py), beside what
  parsing every member header with zipfile would cost.
Other figures the tests used to time live in midi_validation.py (the MIDI reader's refusals and the files at every
limit), engine_io.py (the chorale cache), scoring_speed.py (the originality check) and audio_speed.py --k80.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")

import django

django.setup()

import pretty_midi  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402

from generation.engine import pipeline  # noqa: E402
from generation.engine.models.arcnn import sampler as arcnn_sampler  # noqa: E402
from generation.services.training import checked_training_files  # noqa: E402


def median_seconds(fn, runs: int) -> tuple[float, str]:
    """The median wall time of ``fn`` after one warm-up run, and what its last run gave (finished, or the error's
    code)."""
    times, outcome = [], ""
    for run in range(runs + 1):
        started = time.perf_counter()
        try:
            fn()
            outcome = "finished"
        except Exception as exc:  # the error type is the code under test's; only its code is printed
            outcome = f"refused: {getattr(exc, 'code', type(exc).__name__)}"
        if run:
            times.append(time.perf_counter() - started)
    return statistics.median(times), outcome


def melody(bars: int = 8) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0))
    track = pretty_midi.Instrument(program=0, name="melody")
    track.notes = [pretty_midi.Note(90, 60 + (2 * i) % 12, i * 0.5, i * 0.5 + 0.45) for i in range(bars * 4)]
    pm.instruments.append(track)
    return pm


def generation_rows(runs: int) -> list[tuple[str, float, float | None, str]]:
    pm, params = melody(), {"iterations": 100, "seed": 0}
    def generate(limit: float | None):
        return lambda: pipeline.generate("arcnn", pm, params, time_limit_seconds=limit)

    unlimited, outcome = median_seconds(generate(None), runs)
    rows = [("AR-CNN 100 iterations, 8 bars, no limit", unlimited, None, outcome)]
    rows.append(("AR-CNN 100 iterations, 8 bars, limit 0.1 s", *_row(generate(0.1), 0.1, runs)))
    real_sampler = arcnn_sampler.generate

    def slow(model, pm, params, seed):
        time.sleep(3)
        return real_sampler(model, pm, params, seed)

    arcnn_sampler.generate = slow  # the pipeline looks the sampler up when it runs
    try:
        for limit in (0.5, 1.0):
            rows.append((f"sampler sleeping 3 s, limit {limit:g} s", *_row(generate(limit), limit, runs)))
    finally:
        arcnn_sampler.generate = real_sampler
    return rows


def _row(fn, limit: float, runs: int) -> tuple[float, float, str]:
    seconds, outcome = median_seconds(fn, runs)
    return seconds, limit, outcome


def hidden_members_zip(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(count):
            archive.writestr(f".{i}", b"")
    return buffer.getvalue()


def upload_rows(runs: int) -> list[tuple[str, float, float | None, str]]:
    rows = []
    for count in (20_000, 200_000):
        data = hidden_members_zip(count)
        upload = SimpleUploadedFile("tunes.zip", data, content_type="application/zip")
        checked = median_seconds(lambda upload=upload: checked_training_files(model_name="arcnn", files=[upload]),
                                 runs)
        parsed = median_seconds(lambda data=data: zipfile.ZipFile(io.BytesIO(data)).infolist(), runs)
        rows.append((f"training upload, zip of {count:,} hidden members", checked[0], None, checked[1]))
        rows.append((f"(zipfile parsing its {count:,} member headers)", parsed[0], None, "for comparison"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    import torch

    torch.set_num_threads(1)
    print(f"median of {runs} runs; load {os.getloadavg()[0]:.1f}; torch threads {torch.get_num_threads()}")
    print("| case | wall ms | past the limit ms | outcome |")
    print("|---|---:|---:|---|")
    for name, seconds, limit, outcome in generation_rows(runs) + upload_rows(runs):
        past = "-" if limit is None else f"{(seconds - limit) * 1000:.1f}"
        print(f"| {name} | {seconds * 1000:.1f} | {past} | {outcome} |")


if __name__ == "__main__":
    main()
