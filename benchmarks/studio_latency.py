"""Studio latency (issue 13): from clicking Generate to hearing an 8-bar AR-CNN result, through the API.

One run = ``POST /api/generate/`` (an 8-bar melody as the piano roll's notes, the AR-CNN's default parameters), then
``GET /api/jobs/{id}/`` every 50 ms until it is done, then the audio file is downloaded: the time the page needs
before its player can start. A real generation worker (queues generation and audio, ``--pool solo``, as in
`make demo`) runs the jobs on the embedded default (SQLite + filesystem broker, which polls every 0.5 s) or on
DATABASE_URL / CELERY_BROKER_URL when set. The first run loads the model (reported apart); target: median <= 3 s.

    .venv/bin/python benchmarks/studio_latency.py [--runs 10] [--iterations 100]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET_SECONDS = 3.0
PASSWORD = "benchmark-password"

from benchmarks.worker_memory import manage, start_worker  # noqa: E402

SETUP = """
from django.contrib.auth import get_user_model
user = get_user_model().objects.get(username="entrant")
user.set_password("{password}")
user.save()
"""


def eight_bars() -> str:
    """Ode to Joy's first eight bars (4/4, 100 bpm) as the studio's notes JSON: 30 notes."""
    from generation.engine.midi_io import load_midi
    from generation.notes import midi_to_notes
    from generation.selectors import sample_bytes

    notes = midi_to_notes(load_midi(sample_bytes("ode-to-joy")))
    notes["tracks"][0]["notes"] = [n for n in notes["tracks"][0]["notes"] if n[1] < 8 * 16]
    notes["tempo"] = 100
    return json.dumps(notes)


def audio_format() -> str:
    """The format the worker renders (STUDIO_AUDIO_FORMAT, else the settings' default)."""
    from django.conf import settings

    return str(settings.STUDIO_AUDIO_FORMAT).lower()


def one_run(client, auth: dict, notes: str, iterations: int) -> dict:
    started = time.perf_counter()
    response = client.post("/api/generate/", {"model": "arcnn", "notes": notes,
                                              "params": json.dumps({"iterations": iterations})}, **auth)
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    while True:
        job = client.get(f"/api/jobs/{job_id}/", **auth).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    if job["status"] != "done":
        raise SystemExit(f"job {job_id} failed: {job['error']}")
    audio = client.get(job["audio_url"], **auth)
    size = sum(len(chunk) for chunk in audio.streaming_content)
    total = time.perf_counter() - started
    return {"total": total, "model": job["seconds"], "audio_bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=100, help="AR-CNN sampling iterations (default: 100)")
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="chartbusters-studio-latency-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chartbusters.settings.production",
           "SECRET_KEY": secrets.token_urlsafe(50),  # production settings refuse a short one
           "SECURE_SSL_REDIRECT": "0",  # the test client speaks plain HTTP
           "DEBUG": "0", "ALLOWED_HOSTS": "testserver,localhost", "CHARTBUSTERS_VAR_DIR": str(var),
           "LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO), "RATE_LIMIT_GENERATE": "off",
           "STUDIO_JOBS_PER_HOUR": "100000"}
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    manage(env, "shell", "-c", SETUP.format(password=PASSWORD))
    worker = start_worker(env, "generation,audio", "latency-generation", var / "generation.log")
    os.environ.update(env)
    try:
        import django

        django.setup()
        from django.test import Client

        client = Client()
        token = client.post("/api/auth/token/", {"username": "entrant", "password": PASSWORD}).json()["token"]
        auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
        notes = eight_bars()
        first = one_run(client, auth, notes, args.iterations)
        runs = [one_run(client, auth, notes, args.iterations) for _ in range(args.runs)]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    totals = sorted(r["total"] for r in runs)
    median = statistics.median(totals)
    print(f"8 bars (30 notes), AR-CNN {args.iterations} iterations, {args.runs} runs after a first one; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"first run (model loaded): {first['total']:.2f} s")
    print(f"click to audio: median {median:.2f} s, min {totals[0]:.2f} s, max {totals[-1]:.2f} s "
          f"(model alone: median {statistics.median(r['model'] for r in runs):.2f} s; "
          f"audio {runs[-1]['audio_bytes'] / 1024:.0f} KiB, {audio_format()})")
    print(f"target <= {TARGET_SECONDS:g} s: {'met' if median <= TARGET_SECONDS else 'NOT met'}")
    shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
