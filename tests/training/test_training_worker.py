"""Training in the browser through a REAL Celery worker process: POST /api/trainings/ -> "generation.train_model" on
the training queue -> one of the user's models -> a studio generation with it; and a run cancelled while it trains."""

from __future__ import annotations

import json

import pytest

from generation.models import GenerationJob, TrainingJob, UserCheckpoint
from tests.studio.conftest import notes_json
from tests.submissions.conftest import token_client
from tests.training.conftest import TINY_PARAMS, folk_uploads, params_json, stored_files

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_upload_train_then_generate_with_the_new_model(celery_worker_process, make_user):
    from chartbusters.accounts.roles import Role

    owner = make_user("trainer", role=Role.ENTRANT)
    client = token_client(owner)
    response = client.post("/api/trainings/", {"model": "arcnn", "files": folk_uploads(4),
                                               "params": params_json(TINY_PARAMS)}, format="multipart")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]

    def finished():
        body = client.get(f"/api/trainings/{run_id}/").json()
        return body if body["status"] in ("done", "failed", "cancelled") else None

    body = celery_worker_process.wait_for(finished, timeout=240, message="the training run to finish")
    assert body["status"] == "done", f"{body['error']}\n{celery_worker_process.log_tail()}"
    assert body["progress"] == 100
    assert body["checkpoint"] is not None
    assert [v for v in body["metrics"]["train_loss"] if v is not None]
    assert [m["id"] for m in client.get("/api/models/").json()["results"]] == [body["checkpoint"]]

    generated = client.post("/api/generate/", {
        "model": "arcnn", "checkpoint": body["checkpoint"], "notes": notes_json(16),
        "params": json.dumps({"iterations": 8, "seed": 3})}, format="multipart")
    assert generated.status_code == 202, generated.content
    job_id = generated.json()["id"]
    job = celery_worker_process.wait_for(
        lambda: (j := GenerationJob.objects.get(pk=job_id)).finished and j, timeout=180,
        message="the generation with the new model")
    assert job.status == "done", f"{job.error}\n{celery_worker_process.log_tail()}"
    assert job.checkpoint_id == body["checkpoint"]


def test_cancel_a_run_while_it_trains(celery_worker_process, make_user, settings):
    from chartbusters.accounts.roles import Role

    owner = make_user("canceller", role=Role.ENTRANT)
    client = token_client(owner)
    response = client.post("/api/trainings/", {
        "model": "arcnn", "files": folk_uploads(4),
        "params": params_json({**TINY_PARAMS, "steps": 3000, "batch_size": 1})}, format="multipart")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    celery_worker_process.wait_for(lambda: TrainingJob.objects.get(pk=run_id).steps_done > 0, timeout=180,
                                   message="the run's first progress report")
    cancelled = client.post(f"/api/trainings/{run_id}/cancel/")
    assert cancelled.status_code == 202
    assert cancelled.json()["cancel_requested"] is True
    run = celery_worker_process.wait_for(
        lambda: (r := TrainingJob.objects.get(pk=run_id)).finished and r, timeout=60, message="the run to stop")
    assert run.status == "cancelled"
    assert run.checkpoint is None
    assert run.steps_done < 3000
    assert not run.data
    assert not UserCheckpoint.objects.filter(owner=owner).exists()
    from pathlib import Path

    assert not [p for p in stored_files(Path(settings.MEDIA_ROOT)) if "trainings" in p.parts]
