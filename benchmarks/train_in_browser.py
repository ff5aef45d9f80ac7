"""Training in the browser (issue 15): a custom AR-CNN trained from the Train page's API on 30 folk melodies, its wall
time on this machine, and what it does to a user's melody against the shipped model.

One run = ``POST /api/trainings/`` (30 Essen folk tunes of the train split, examples/folk/reference, as MIDI
uploads; the AR-CNN with the Train page's defaults unless ``--param NAME=VALUE``: fine-tuning the shipped model),
then ``GET /api/trainings/{id}/`` every second until it is done, on a REAL training worker (queue ``user-training``,
``--pool solo``, as in `make demo`) on the embedded default (SQLite + filesystem broker). Wall time: from the POST
to the model listed in ``GET /api/models/``. Then Engine II's melody table (benchmarks/arcnn_quality.py
``melody_tables``: the first 8 bars of the 40 held-out folk tunes of the test split, which no model trains on, and of
the test chorale sopranos) for the custom model and the shipped one, at the user defaults; and the repair table: the
same 40 held-out folk tunes with half their notes removed (whole notes) and short random notes on 1 % of the empty
cells in their pitch span (arcnn_quality's note-level corruption, on the user's style instead of the chorales),
edited 100 times: how often and how much closer to the tune each model gets. Target: a useful model in at most 10
minutes on the 2-core demo machine.

    .venv/bin/python benchmarks/train_in_browser.py [--files 30] [--param steps=200 ...] [--folk 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.worker_memory import manage, start_worker  # noqa: E402

TARGET_SECONDS = 600.0
PASSWORD = "benchmark-password"
FOLK = sorted((REPO / "examples" / "folk" / "reference").glob("*.mid"))
SETUP = """
from django.contrib.auth import get_user_model
from chartbusters.accounts.roles import Role
from chartbusters.accounts.services import user_add_role
user_add_role(user=get_user_model().objects.create_user("trainer", password="{password}"), role=Role.ENTRANT)
"""


def train_through_the_api(client, auth: dict, files: list[Path], params: dict) -> dict:
    uploads = [open(path, "rb") for path in files]  # noqa: SIM115 - closed below
    try:
        started = time.perf_counter()
        response = client.post("/api/trainings/", {"model": "arcnn", "files": uploads, "params": json.dumps(params),
                                                   "name": f"AR-CNN on {len(files)} folk tunes"}, **auth)
    finally:
        for handle in uploads:
            handle.close()
    assert response.status_code == 202, response.content
    run_id, last = response.json()["id"], None
    while True:
        body = client.get(f"/api/trainings/{run_id}/", **auth).json()
        if body["status"] in ("done", "failed", "cancelled"):
            break
        if body["steps_done"] != last:
            last = body["steps_done"]
            print(f"  {body['status']}: {body['steps_done']}/{body['steps_total']} steps, "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
        time.sleep(1.0)
    if body["status"] != "done":
        raise SystemExit(f"training {run_id} ended {body['status']}: {body['error']}")
    models = client.get("/api/models/", **auth).json()["results"]
    assert body["checkpoint"] in [m["id"] for m in models]
    return {"seconds": time.perf_counter() - started, "body": body}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a training parameter")
    parser.add_argument("--folk", type=int, default=40, help="held-out folk tunes in the melody table")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    params = dict(item.split("=", 1) for item in args.param)
    var = Path(tempfile.mkdtemp(prefix="chartbusters-train-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chartbusters.settings.production",
           "SECRET_KEY": secrets.token_urlsafe(50),  # production settings refuse a short one
           "SECURE_SSL_REDIRECT": "0",  # the test client speaks plain HTTP
           "DEBUG": "0", "ALLOWED_HOSTS": "testserver,localhost", "CHARTBUSTERS_VAR_DIR": str(var),
           "LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO), "RATE_LIMIT_UPLOAD": "off"}
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", SETUP.format(password=PASSWORD))
    worker = start_worker(env, "user-training", "bench-user-training", var / "training.log")
    os.environ.update(env)
    try:
        import django

        django.setup()
        from django.test import Client

        client = Client()
        token = client.post("/api/auth/token/", {"username": "trainer", "password": PASSWORD}).json()["token"]
        auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
        print(f"training the AR-CNN on {args.files} folk tunes through the API (params {params or 'defaults'})")
        run = train_through_the_api(client, auth, FOLK[: args.files], params)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=120)

    import torch

    from benchmarks.arcnn_quality import (
        corrupt_notes,
        default_params,
        edit_metrics,
        melodies,
        melody_tables,
        run_sampler,
    )
    from generation.engine.loading import default_checkpoint_dir, load_checkpoint
    from generation.models import UserCheckpoint

    torch.set_num_threads(1)
    custom = UserCheckpoint.objects.get(pk=run["body"]["checkpoint"])
    folder = var / "custom"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(custom.config))
    shutil.copy(custom.weights.path, folder / "model.safetensors")
    sampler = default_params()
    tables, repairs = {}, {}
    folk = melodies("test", args.folk)["folk"]
    folk_rolls, folk_onsets = folk["rolls"], folk["onsets"]
    damaged = corrupt_notes(folk_rolls, folk_onsets, seed=0)
    for name, path in (("shipped", default_checkpoint_dir("arcnn")), ("custom", folder)):
        model, _meta = load_checkpoint(path, architecture="arcnn")
        tables[name] = melody_tables(model, "test", args.folk, sampler, 0, [])
        edited = run_sampler(model, damaged, sampler, 1, keys=folk["keys"])
        repairs[name] = edit_metrics(folk_rolls, damaged, edited, int(sampler["iterations"]))
    body = run["body"]
    result = {"seconds": round(run["seconds"], 1), "params": body["params"], "steps": body["steps_done"],
              "files_used": len(body["files"]["used"]), "load": round(os.getloadavg()[0], 1),
              "train_seconds": custom.metrics.get("train_seconds"), "valid_loss": custom.metrics.get("best_valid_loss"),
              "initial_valid_loss": custom.metrics.get("initial_valid_loss"), "tables": tables, "repairs": repairs}
    shutil.rmtree(var, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"\nAR-CNN trained from the API on {result['files_used']} folk tunes: {result['steps']} steps, params "
          f"{result['params']}; {os.cpu_count()} CPUs, load {result['load']}")
    print(f"wall time, POST to model listed: {result['seconds']:.0f} s (training loop {result['train_seconds']} s); "
          f"target <= {TARGET_SECONDS:.0f} s: {'met' if result['seconds'] <= TARGET_SECONDS else 'NOT met'}")
    print(f"validation loss on the held-out uploaded tunes: shipped weights {result['initial_valid_loss']}, "
          f"after training {result['valid_loss']}\n")
    print(f"repair of {args.folk} held-out folk tunes (half the notes removed, random notes added; 100 edits)"
          f"{'shipped':>10}{'custom':>10}")
    for label, key in (("windows improved", "improved_fraction"), ("mean Jaccard gain", "mean_gain"),
                       ("precision of added cells", "precision_added"),
                       ("precision of removed cells", "precision_removed")):
        print(f"  {label:<86}" + "".join(f"{repairs[m][key]:>10.3f}" for m in ("shipped", "custom")))
    print()
    rows = [("input notes kept", "notes_kept", ">= 0.95"), ("time with >= 2 notes sounding", "time_two_plus", ""),
            ("added notes", "added_notes", ""), ("added notes in key", "added_in_key", ">= 0.90"),
            ("notes shorter than a beat after", "short_after", "")]
    for source in ("folk", "soprano"):
        print(f"{source} melodies (first 8 bars, test split)   {'shipped':>10}{'custom':>10}{'target':>10}")
        for label, key, target in rows:
            values = [tables[m][source][key] for m in ("shipped", "custom")]
            cells = "".join(f"{v:>10}" if isinstance(v, int) else f"{v:>10.3f}" for v in values)
            print(f"  {label:<40}{cells}{target:>10}")
        print()


if __name__ == "__main__":
    main()
