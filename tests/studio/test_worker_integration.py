"""A studio job through a REAL Celery worker process: POST /api/generate/ -> "generation.run_job" on the generation
queue -> done, with its result and audio downloadable by its owner only."""

from __future__ import annotations

import json

import pytest

from chartbusters.accounts.roles import Role
from generation.models import GenerationJob
from tests.studio.conftest import notes_json
from tests.submissions.conftest import token_client

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_studio_job_runs_on_a_real_worker(celery_worker_process, make_user):
    owner, other = make_user("composer", role=Role.ENTRANT), make_user("nosy", role=Role.ENTRANT)
    response = token_client(owner).post("/api/generate/", {
        "model": "arcnn", "notes": notes_json(16), "params": json.dumps({"iterations": 10, "seed": 5}),
        "variations": 2}, format="multipart")
    assert response.status_code == 202, response.content
    ids = [j["id"] for j in response.json()["jobs"]]

    def finished():
        jobs = list(GenerationJob.objects.filter(pk__in=ids))
        return jobs if all(j.finished for j in jobs) else None

    jobs = celery_worker_process.wait_for(finished, timeout=180, message="the studio jobs to finish")
    for job in jobs:
        assert job.status == "done", f"{job.error}\n{celery_worker_process.log_tail()}"
        detail = token_client(owner).get(f"/api/jobs/{job.pk}/").json()
        assert detail["progress"] == 100
        assert token_client(owner).get(detail["audio_url"]).status_code == 200
        assert token_client(other).get(detail["audio_url"]).status_code == 404
    assert sorted(j.seed for j in jobs) == [5, 6]
