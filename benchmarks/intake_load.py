"""Submission intake under load (docs/design.md section 8): 200 concurrent uploads, none lost, p95 <= 300 ms to 202.

    .venv/bin/python benchmarks/intake_load.py [--database-url URL] [--runs 5] [--uploads 200] [--workers 3]
        [--threads 1] [--broker-url URL]

1. Creates the database if missing (default postgres://postgres@127.0.0.1:5432/chartbusters_intake_bench) and
   migrates it; makes one open Melody-Go-Round challenge and --uploads entrants with API tokens (quota large enough
   for every run: each entrant sends one entry per run).
2. Starts gunicorn (--workers sync workers, or gthread with --threads > 1) on 127.0.0.1 with DEBUG off, media
   in a temporary folder and the broker of --broker-url (default: the embedded filesystem transport in a temporary
   folder; redis://... to use Redis). Each accepted entry is published to the broker on commit, as in production.
3. Each run: --uploads client threads wait on a barrier, then each POSTs one multipart MIDI upload
   (POST /api/challenges/<slug>/submissions/, token auth) at once; the latency of each request to its 202 is
   timed. Afterwards the rows are counted: every 202 must be a new row, and nothing may be lost.
Prints one line per run and the median run. Target: all 202, rows == uploads, p95 <= 300 ms.
The rate limits are the defaults (RATE_LIMIT_UPLOAD 60/1h): signed-in uploads count per user, not per address
(issue 24), so 200 entrants sending from one address are 200 users, as a class behind one school address is.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/chartbusters_intake_bench"
SLUG = "bench-intake"
PORT = 8766


def midi_bytes() -> bytes:
    """A 16-note melody (about 200 bytes): the validation cost of a typical small entry."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=100.0)
    inst = pretty_midi.Instrument(program=0)
    for i in range(16):
        inst.notes.append(pretty_midi.Note(velocity=90, pitch=60 + (i * 5) % 12, start=i * 0.6, end=i * 0.6 + 0.5))
    pm.instruments.append(inst)
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def server_env(args, var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "chartbusters.settings.base",
        "SECRET_KEY": "benchmark-only-secret-key",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CHARTBUSTERS_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "CELERY_BROKER_URL": args.broker_url or "filesystem://",
        "LOG_LEVEL": "WARNING",
    }


def ensure_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(n_entrants: int) -> list[str]:
    """The challenge (open, huge quota) and ``n_entrants`` entrants; returns their API tokens."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from chartbusters.challenges.models import Challenge

    now = timezone.now()
    Challenge.objects.update_or_create(slug=SLUG, defaults={
        "title": "Intake benchmark", "kind": Challenge.Kind.MELODY_GO_ROUND, "published": True,
        "opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=30),
        "judging_ends_at": now + timedelta(days=40), "daily_quota": 100_000, "total_quota": 100_000,
    })
    user_model = get_user_model()
    tokens = []
    for i in range(n_entrants):
        user, created = user_model.objects.get_or_create(username=f"bench-entrant-{i:04d}")
        if created:
            user.set_unusable_password()
            user.save()
        tokens.append(Token.objects.get_or_create(user=user)[0].key)
    return tokens


def row_count() -> int:
    from submissions.models import Submission

    return Submission.objects.filter(challenge__slug=SLUG).count()


@dataclass
class RunResult:
    latencies_ms: list[float]
    statuses: dict[int, int]
    rows_added: int
    wall_s: float

    @property
    def ok(self) -> int:
        return self.statuses.get(202, 0)

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, round(q * (len(data) - 1)))]


def one_run(tokens: list[str], payload: bytes, concurrency: int | None = None) -> RunResult:
    """All uploads start together; at most ``concurrency`` are in flight (default: all of them)."""
    import requests

    url = f"http://127.0.0.1:{PORT}/api/challenges/{SLUG}/submissions/"
    barrier = threading.Barrier(len(tokens) + 1)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    in_flight = threading.Semaphore(concurrency or len(tokens))

    def client(token: str) -> None:
        session = requests.Session()
        files = {"composition": ("entry.mid", payload, "audio/midi")}
        data = {"title": "Benchmark entry", "accept_licence": "true"}
        headers = {"Authorization": f"Token {token}", "Connection": "close"}
        barrier.wait()
        with in_flight:
            started = time.perf_counter()
            try:
                status = session.post(url, data=data, files=files, headers=headers, timeout=60).status_code
            except requests.RequestException:
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            if status == 202:
                latencies.append(elapsed)

    before = row_count()
    threads = [threading.Thread(target=client, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return RunResult(latencies, statuses, row_count() - before, wall)


def start_gunicorn(args, env: dict[str, str]) -> subprocess.Popen:
    import requests

    worker_class = ["--worker-class", "gthread", "--threads", str(args.threads)] if args.threads > 1 else []
    command = [str(REPO / ".venv/bin/gunicorn"), "chartbusters.wsgi", "--bind", f"127.0.0.1:{PORT}",
               "--workers", str(args.workers), *worker_class, "--backlog", "2048", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{PORT}/api/challenges/", timeout=1)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--broker-url", default="")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=20, help="uploads sent before timing")
    parser.add_argument("--concurrency", type=int, default=0,
                        help="at most this many uploads in flight (default 0: all --uploads at once)")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="chartbusters-intake-bench-"))
    env = server_env(args, var_dir)
    os.environ.update(env)  # this process counts rows in the same database
    ensure_database(args.database_url)
    subprocess.run([str(REPO / ".venv/bin/python"), "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO,
                   env=env, check=True)
    import django

    django.setup()
    tokens = prepare(args.uploads)
    payload = midi_bytes()
    server = start_gunicorn(args, env)
    try:
        one_run(tokens[: args.warmup], payload, 4)  # warm the workers: imports, DB connections
        results = []
        mode = f"{args.workers} sync workers" if args.threads == 1 else f"{args.workers}x{args.threads} gthread"
        in_flight = args.concurrency or args.uploads
        print(f"\n{args.uploads} uploads per run, {in_flight} in flight at once, gunicorn {mode}, "
              f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}")
        print(f"{'run':>3} {'202':>5} {'other':>6} {'rows+':>6} {'lost':>5} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'max ms':>8} {'wall s':>7} {'req/s':>7}")
        for run in range(1, args.runs + 1):
            r = one_run(tokens, payload, args.concurrency or None)
            results.append(r)
            other = sum(v for k, v in r.statuses.items() if k != 202)
            print(f"{run:>3} {r.ok:>5} {other:>6} {r.rows_added:>6} {r.ok - r.rows_added:>5} {r.pct(.5):>8.0f} "
                  f"{r.pct(.95):>8.0f} {max(r.latencies_ms, default=0):>8.0f} {r.wall_s:>7.2f} "
                  f"{args.uploads / r.wall_s:>7.0f}")
            time.sleep(1)
        median = sorted(results, key=lambda r: r.pct(.95))[len(results) // 2]
        print(f"median run: p50 {median.pct(.5):.0f} ms, p95 {median.pct(.95):.0f} ms; "
              f"median p95 over runs {statistics.median(r.pct(.95) for r in results):.0f} ms; "
              f"all accepted and stored: {all(r.ok == args.uploads == r.rows_added for r in results)}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
