"""Memory of the platform's processes (docs/design.md section 8): resident set size (RSS, now and peak) of

- a scoring worker (queue scoring) after --entries composition entries and --entries checkpoint entries scored
  (every scoring model loaded: the discriminator, the reference statistics, the originality index);
- a generation worker (queues generation and audio, as in `make demo`) after --entries checkpoint entries run with
  the shipped AR-CNN (every default model the platform ships) on the demo's three hidden inputs, and every entry's
  and output's audio and piano roll rendered;
- the web process: `chartbusters.wsgi` imported, then the requests that made those entries (API uploads) and a few
  pages, through Django's test client in one process. It must not import torch.

Targets: scoring worker <= 600 MB, generation worker <= 1.5 GB, web <= 250 MB.

    .venv/bin/python benchmarks/worker_memory.py [--entries 50] [--iterations 100]

Everything runs in a temporary CHARTBUSTERS_VAR_DIR on the embedded default (SQLite + filesystem broker) unless
DATABASE_URL / CELERY_BROKER_URL are set; each worker is one process (``--pool solo``), so its RSS is the worker's.
Set CHARTBUSTERS_DATASET_DIR to reuse the chorale cache (otherwise it is built from music21's corpus first). Linux
only (reads /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS_MB = {"scoring worker": 600, "generation worker": 1536, "web process": 250}
PASSWORD = "benchmark-password"
PIECES = Path(os.environ.get("CHARTBUSTERS_VAR_DIR", "var")) / "benchmark-pieces"


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of ``pid`` in MB (VmRSS, VmHWM)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def manage(env: dict, *args: str) -> str:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True, capture_output=True,
                          text=True).stdout


def start_worker(env: dict, queues: str, name: str, log: Path, *, pool: tuple[str, ...] = ("--pool", "solo")
                 ) -> subprocess.Popen:
    """``celery -A chartbusters worker -Q QUEUES`` with ``pool`` (scripts/demo.sh runs ``--concurrency 1``); waits
    until it is ready."""
    command = [sys.executable, "-m", "celery", "-A", "chartbusters", "worker", "-Q", queues, *pool,
               "--hostname", f"{name}@%h", "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 180
    while " ready." not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker {name} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)
    return process


SETUP = """
from chartbusters.challenges.models import Challenge
from django.contrib.auth import get_user_model
Challenge.objects.update(daily_quota=100000, total_quota=100000)
params = {{"arcnn": {{"iterations": {iterations}, "seed": 1}}}}
Challenge.objects.filter(slug="melody-harvest").update(generation_params=params)
user = get_user_model().objects.get(username="entrant")
user.set_password("{password}")
user.save()
"""

PROGRESS = """
import json
from submissions.models import Submission
from evaluation.models import Rendering
rows = Submission.objects.values_list("status", flat=True)
renders = Rendering.objects.count()
print(json.dumps({"total": len(rows), "finished": sum(s in ("scored", "failed") for s in rows),
                  "failed": sum(s == "failed" for s in rows), "renderings": renders}))
"""


def write_pieces(folder: Path, n: int = 10) -> None:
    """Ten four-part test chorales (8 bars each) for the composition entries, written before the web process starts
    so that it reads uploads only."""
    from generation.engine.dataset import load_chorales, pieces_split
    from generation.engine.midi_io import write_midi

    folder.mkdir(parents=True, exist_ok=True)
    for i, piece in enumerate(pieces_split(load_chorales(), "test")[:n]):
        pm = piece.to_midi()
        for inst in pm.instruments:
            inst.notes = [note for note in inst.notes if note.start < 16.0]
        write_midi(pm, folder / f"piece-{i}.mid")


def web_client(entries: int) -> None:
    """The web process (run as a child of the benchmark): import the WSGI application, make the entries through the
    API, load a few pages, print its RSS as JSON."""
    from chartbusters.wsgi import application  # noqa: F401 - what gunicorn imports

    after_import = rss_mb(os.getpid())[0]
    from django.test import Client

    client = Client()
    token = client.post("/api/auth/token/", {"username": "entrant", "password": PASSWORD}).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    checkpoint = REPO / "generation" / "checkpoints" / "arcnn"
    codes = []
    for i in range(entries):
        with (PIECES / f"piece-{i % len(list(PIECES.iterdir()))}.mid").open("rb") as midi:
            codes.append(client.post("/api/challenges/melody-go-round/submissions/",
                                     {"title": f"Piece {i}", "accept_licence": "true", "composition": midi}, **auth)
                         .status_code)
        with (checkpoint / "model.safetensors").open("rb") as weights:
            codes.append(client.post("/api/challenges/melody-harvest/submissions/", {
                "title": f"Model {i}", "accept_licence": "true", "checkpoint": weights,
                "config": (checkpoint / "config.json").read_text(),
                "model_card": "The shipped AR-CNN, submitted by the memory benchmark.",
            }, **auth).status_code)
    for path in ("/challenges/", "/challenges/melody-go-round/leaderboard/", "/api/challenges/",
                 "/api/submissions/?mine=1", "/api/challenges/melody-go-round/leaderboard/", "/accounts/login/"):
        codes.append(client.get(path, **auth).status_code)
    current, peak = rss_mb(os.getpid())
    print(json.dumps({"after_import": after_import, "rss": current, "peak": peak, "torch": "torch" in sys.modules,
                      "codes": sorted(set(codes))}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=100, help="AR-CNN iterations of the harvest challenge")
    parser.add_argument("--web-client", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    if args.web_client is not None:
        web_client(args.web_client)
        return

    var = Path(tempfile.mkdtemp(prefix="chartbusters-memory-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chartbusters.settings.production",
           "SECRET_KEY": secrets.token_urlsafe(50),  # production settings refuse a short one
           "SECURE_SSL_REDIRECT": "0",  # the test client speaks plain HTTP
           "DEBUG": "0", "ALLOWED_HOSTS": "testserver,localhost", "CHARTBUSTERS_VAR_DIR": str(var),
           "LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO),
           "RATE_LIMIT_UPLOAD": "off"}  # one entrant uploads 2 x --entries entries in minutes
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    write_pieces(var / "benchmark-pieces")
    manage(env, "shell", "-c", SETUP.format(iterations=args.iterations, password=PASSWORD))
    workers = {
        "scoring worker": start_worker(env, "scoring", "memory-scoring", var / "scoring.log"),
        "generation worker": start_worker(env, "generation,audio", "memory-generation", var / "generation.log"),
    }
    idle = {name: rss_mb(p.pid)[0] for name, p in workers.items()}
    started = time.monotonic()
    try:
        web = json.loads(subprocess.run([sys.executable, __file__, "--web-client", str(args.entries)], cwd=REPO,
                                        env=env, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        expected_renderings = args.entries * (1 + 3)  # each composition entry, each output of a checkpoint entry
        while True:
            progress = json.loads(manage(env, "shell", "-c", PROGRESS).splitlines()[-1])
            print(f"  {time.monotonic() - started:6.0f} s: {progress}", flush=True)
            if progress["finished"] >= 2 * args.entries and progress["renderings"] >= expected_renderings - \
                    3 * progress["failed"]:
                break
            for name, process in workers.items():
                if process.poll() is not None:
                    raise SystemExit(f"the {name} died: see {var}")
            time.sleep(10)
        figures = {name: rss_mb(p.pid) for name, p in workers.items()}
    finally:
        for process in workers.values():
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    print(f"\n{args.entries} composition + {args.entries} checkpoint entries (AR-CNN, {args.iterations} iterations, "
          f"3 inputs), {expected_renderings} renderings, in {time.monotonic() - started:.0f} s; "
          f"load {os.getloadavg()[0]:.1f}; {progress['failed']} failed")
    print(f"{'process':<20}{'idle MB':>10}{'RSS MB':>10}{'peak MB':>10}{'target MB':>11}")
    figures["web process"] = (web["rss"], web["peak"])
    idle["web process"] = web["after_import"]
    for name, (current, peak) in figures.items():
        verdict = "met" if peak <= TARGETS_MB[name] else "NOT met"
        print(f"{name:<20}{idle[name]:>10.0f}{current:>10.0f}{peak:>10.0f}{TARGETS_MB[name]:>11}  {verdict}")
    print(f"web process imported torch: {web['torch']}; HTTP codes seen: {web['codes']}")
    shutil.rmtree(var, ignore_errors=True)  # kept only when something failed, with the workers' logs


if __name__ == "__main__":
    main()
