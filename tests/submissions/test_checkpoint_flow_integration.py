"""The whole Melody Harvest flow through a REAL Celery worker process: API intake of a tiny arcnn checkpoint ->
"submissions.run_checkpoint_entry" (generation queue) -> "evaluation.score_submission" (scoring queue) -> scored."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from submissions.models import Submission
from tests.submissions.conftest import input_melodies, tiny_arcnn_checkpoint

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_checkpoint_entry_is_generated_and_scored_by_a_real_worker(celery_worker_process, api, harvest, tmp_path):
    harvest.generation_params = {"arcnn": {"iterations": 3, "seed": 1}}
    harvest.save()
    input_melodies(harvest, 2)
    weights, config = tiny_arcnn_checkpoint(tmp_path / "ckpt")
    response = api("entrant").post("/api/challenges/harvest/submissions/", {
        "title": "Tiny model", "accept_licence": "true",
        "model_card": "An untrained tiny AR-CNN for the integration test; trained on nothing for no time.",
        "checkpoint": SimpleUploadedFile("model.safetensors", weights.read_bytes()),
        "config": SimpleUploadedFile("config.json", json.dumps(config).encode()),
    }, format="multipart")
    assert response.status_code == 202, response.content
    submission_id = response.json()["id"]

    def finished():
        submission = Submission.objects.get(pk=submission_id)
        return submission if submission.status in ("scored", "failed") else None

    submission = celery_worker_process.wait_for(finished, timeout=180, message="the checkpoint entry to finish")
    assert submission.status == "scored", f"{submission.error}\n{celery_worker_process.log_tail()}"
    assert submission.progress == 100
    assert sorted(o.input_name for o in submission.outputs.all()) == ["input-1.mid", "input-2.mid"]
    assert submission.score.automatic >= 0  # the results app's Score, through the reverse accessor
