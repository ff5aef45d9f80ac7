"""A fair share of the model workers (issue 24): one account's studio jobs must not delay another account's Melody
Harvest entry by more than 10 s.

    .venv/bin/python benchmarks/worker_share.py [--alone 3] [--flooded 5] [--gap 15] [--variations 4]
        [--iterations 20]

1. A scratch database and broker (the embedded default: SQLite + the filesystem broker, in a temporary folder, as
   `make demo`), migrated; an open Melody Harvest challenge with three input melodies (the studio's samples, run with
   the AR-CNN at --iterations), an entrant and a "flooder", each with an API token; default limits and rate limits.
2. The workers as scripts/demo.sh starts them (its commands, one process each, concurrency 1): scoring,
   generation + audio, entries.
3. The flooder uploads a slow but valid checkpoint through the models API (an AR-CNN at the largest channel
   counts its config bounds allow: ~9 M parameters, every value small; ~15 s for 2 bars at 100 edits on this CPU) and
   starts --variations studio variations of an 8-bar melody with it (100 edits each: every one runs to the studio's
   60-s time limit), as the attack in the issue did.
4. The entrant's entry (the shipped AR-CNN checkpoint, through POST /api/challenges/<slug>/submissions/) is timed
   from its 202 until it is scored: --alone times with nothing else running, then --flooded times while the flood
   keeps the generation worker busy (each sent --gap seconds after the previous one is scored, so that they span
   more than one of the flood's jobs).
Prints a table (entry latency alone and with the flood, the flood's state) and whether the median delay is <= 10 s.
--shared runs the same with one worker for studio jobs and entries (queues generation, audio and entries), as before
issue 24: the comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.worker_memory import start_worker as start_celery_worker  # noqa: E402

TARGET_DELAY_SECONDS = 10.0
SLUG = "share-harvest"
SLOW_ARCNN = {"base_channels": 64, "levels": 3, "max_channels": 256, "convs_per_level": 4, "window_steps": 128}
MODEL_CARD = "The shipped AR-CNN checkpoint, entered by the worker-share benchmark (trained on Bach chorales)."
# scripts/demo.sh's workers (the periodic reaper, -B, is left out: nothing here is stuck)
WORKERS = {"scoring": "scoring", "generation": "generation,audio", "entries": "entries"}
# --shared: the set-up before issue 24, one model worker for studio jobs and entries alike (what the fix is measured
# against)
SHARED_WORKERS = {"scoring": "scoring", "generation": "generation,audio,entries"}


def start_worker(env: dict, queues: str, name: str, log: Path) -> subprocess.Popen:
    """``celery -A chartbusters worker -Q QUEUES --concurrency 1`` as scripts/demo.sh runs it; waits until ready."""
    return start_celery_worker(env, queues, f"share-{name}", log, pool=("--concurrency", "1"))


def setup(iterations: int) -> tuple[str, str]:
    """The challenge, its three inputs and the two accounts; returns (entrant token, flooder token)."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from chartbusters.accounts.roles import Role
    from chartbusters.accounts.services import user_add_role
    from chartbusters.challenges.models import Challenge, InputMelody
    from generation.selectors import sample_bytes

    now = timezone.now()
    challenge = Challenge.objects.create(
        slug=SLUG, title="Worker share", kind=Challenge.Kind.MELODY_HARVEST, opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=7), judging_ends_at=now + timedelta(days=14), daily_quota=1000,
        total_quota=1000, generation_params={"arcnn": {"iterations": iterations, "seed": 1}})
    for name in ("ode-to-joy", "twinkle", "frere-jacques"):
        InputMelody.objects.create(challenge=challenge, name=f"{name}.mid",
                                   midi=ContentFile(sample_bytes(name), name=f"{name}.mid"))
    tokens = []
    for username in ("entrant", "flooder"):
        user = get_user_model().objects.create_user(username=username, email=f"{username}@example.com")
        user_add_role(user=user, role=Role.ENTRANT)
        tokens.append(Token.objects.create(user=user).key)
    return tokens[0], tokens[1]


def slow_checkpoint(folder: Path) -> tuple[Path, Path]:
    import torch

    from generation.engine.checkpoint import save_checkpoint
    from generation.engine.models.arcnn import spec
    from generation.engine.models.arcnn.model import build_model

    torch.manual_seed(0)
    weights = save_checkpoint(build_model(dict(SLOW_ARCNN)), spec=spec, config=dict(SLOW_ARCNN), out_dir=folder,
                              trained_on="nothing: an untrained model made slow on purpose")
    return weights, folder / "config.json"


def flood(client, token: str, folder: Path, variations: int) -> list[int]:
    """The flooder's slow checkpoint through the models API, then ``variations`` studio variations with it."""
    from generation.selectors import sample_bytes

    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    weights, config = slow_checkpoint(folder)
    with weights.open("rb") as w, config.open("rb") as c:
        response = client.post("/api/models/", {"name": "slow", "checkpoint": w, "config": c}, **auth)
    assert response.status_code == 201, response.content
    checkpoint_id = response.json()["id"]
    (folder / "input.mid").write_bytes(sample_bytes("ode-to-joy"))
    with (folder / "input.mid").open("rb") as fh:
        response = client.post("/api/generate/", {
            "model": "arcnn", "input": fh, "checkpoint": checkpoint_id, "variations": variations,
            "params": json.dumps({"iterations": 100})}, **auth)
    assert response.status_code == 202, response.content
    return [row["id"] for row in response.json()["jobs"]]


def flood_state(job_ids: list[int]) -> str:
    """How many of the flood's jobs are queued / running (and since when) / done / failed."""
    from django.utils import timezone

    from generation.models import GenerationJob

    jobs = list(GenerationJob.objects.filter(pk__in=job_ids))
    parts = []
    for status in ("done", "failed", "running", "queued"):
        rows = [j for j in jobs if j.status == status]
        if rows:
            since = [(timezone.now() - j.started_at).total_seconds() for j in rows if j.started_at]
            parts.append(f"{len(rows)} {status}" + (f" ({max(since):.0f} s)" if status == "running" and since else ""))
    return ", ".join(parts)


def one_entry(client, token: str, shipped: Path, n: int) -> float:
    """Seconds from the entry's 202 until it is scored."""
    from submissions.models import Submission

    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    with (shipped / "model.safetensors").open("rb") as w, (shipped / "config.json").open("rb") as c:
        started = time.perf_counter()
        response = client.post(f"/api/challenges/{SLUG}/submissions/", {
            "title": f"Entry {n}", "accept_licence": "true", "model_card": MODEL_CARD, "checkpoint": w,
            "config": c}, **auth)
    assert response.status_code == 202, response.content
    submission_id = response.json()["id"]
    while True:
        submission = Submission.objects.get(pk=submission_id)
        if submission.status in ("scored", "failed"):
            break
        if time.perf_counter() - started > 900:
            raise SystemExit(f"entry {submission_id} not scored after 900 s ({submission.status})")
        time.sleep(0.1)
    if submission.status != "scored":
        raise SystemExit(f"entry {submission_id} failed: {submission.error}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alone", type=int, default=3, help="entries timed with nothing else running")
    parser.add_argument("--flooded", type=int, default=5, help="entries timed while the studio flood runs")
    parser.add_argument("--gap", type=float, default=15.0,
                        help="seconds between flooded entries, so that they span the flood's jobs")
    parser.add_argument("--variations", type=int, default=4, help="studio variations in the flood (1-4)")
    parser.add_argument("--iterations", type=int, default=20, help="the challenge's AR-CNN edits per input")
    parser.add_argument("--shared", action="store_true",
                        help="one worker for studio jobs and entries, as before issue 24 (the comparison)")
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="chartbusters-worker-share-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chartbusters.settings.base", "DEBUG": "0",
           "SECRET_KEY": "worker-share-benchmark-" + "k" * 40, "ALLOWED_HOSTS": "testserver,localhost",
           "CHARTBUSTERS_VAR_DIR": str(var), "MEDIA_ROOT": str(var / "media"), "CELERY_BROKER_URL": "filesystem://",
           "LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.test import Client

    from generation.engine.loading import default_checkpoint_dir

    entrant, flooder = setup(args.iterations)
    shipped = Path(default_checkpoint_dir("arcnn"))
    layout = SHARED_WORKERS if args.shared else WORKERS
    workers = [start_worker(env, queues, name, var / f"{name}.log") for name, queues in layout.items()]
    client = Client()
    try:
        one_entry(client, entrant, shipped, 0)  # loads the model and the scorer in the workers
        alone = [one_entry(client, entrant, shipped, n) for n in range(1, args.alone + 1)]
        load_before = os.getloadavg()[0]
        job_ids = flood(client, flooder, var / "slow", args.variations)
        time.sleep(2)  # the first variation is running on the generation worker
        flooded, states = [], []
        for n in range(args.flooded):
            if n:
                time.sleep(args.gap)
            flooded.append(one_entry(client, entrant, shipped, 100 + n))
            states.append(flood_state(job_ids))
        load_after = os.getloadavg()[0]
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
    delay = statistics.median(flooded) - statistics.median(alone)
    print(f"\nMelody Harvest entry (shipped AR-CNN, {args.iterations} edits on each of 3 inputs, then scored) by one "
          f"account; flood: {args.variations} studio variations of another account's slow checkpoint "
          f"(100 edits on 8 bars). Workers: {'; '.join(layout.values())}. {os.cpu_count()} CPUs, "
          f"load average {load_before:.1f} before the flood, "
          f"{load_after:.1f} at the end.")
    print(f"{'entry':<22} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7}")
    print(f"{'alone':<22} {len(alone):>4} {statistics.median(alone):>9.1f} {min(alone):>7.1f} {max(alone):>7.1f}")
    print(f"{'with the studio flood':<22} {len(flooded):>4} {statistics.median(flooded):>9.1f} {min(flooded):>7.1f} "
          f"{max(flooded):>7.1f}")
    each = "; ".join(f"{t:.1f} s [{state}]" for t, state in zip(flooded, states, strict=True))
    print(f"each entry with the flood: {each}")
    print(f"delay (median with - median alone): {delay:+.1f} s; target <= {TARGET_DELAY_SECONDS:g} s: "
          f"{'met' if delay <= TARGET_DELAY_SECONDS else 'NOT met'}")
    shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
