"""The studio's reapers: stuck jobs fail with a reason; unsaved jobs are deleted with their files after
STUDIO_JOB_KEEP_HOURS; saved ones (and the versions they came from) are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from chartbusters.jobs import reap_stuck_jobs
from generation.models import GenerationJob
from generation.services.cleanup import (
    STUCK_RUNNING_MESSAGE,
    generation_job_delete_expired,
    generation_job_fail_stuck,
)
from generation.services.jobs import job_create
from generation.services.studio import studio_save
from tests.studio.conftest import midi_bytes, notes_json, stored_files

pytestmark = pytest.mark.django_db


def test_the_reapers_are_connected():
    names = {name.rpartition(".")[2] for name in reap_stuck_jobs()}
    assert {"generation_job_fail_stuck", "training_fail_stuck", "generation_job_delete_expired"} <= names


def test_a_silent_running_job_and_a_job_nobody_picked_up_fail_with_a_reason(users, media_root, sent, settings):
    running, queued, fresh = (job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json())[0]
                              for _ in range(3))
    past = timezone.now() - timedelta(seconds=settings.STUDIO_JOB_STUCK_AFTER_SECONDS + 5)
    GenerationJob.objects.filter(pk=running.pk).update(status="running", updated_at=past)
    GenerationJob.objects.filter(pk=queued.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.STUDIO_JOB_QUEUED_STUCK_AFTER_SECONDS + 5))
    GenerationJob.objects.filter(pk=fresh.pk).update(status="running")
    result = reap_stuck_jobs()
    assert result["generation.services.cleanup.generation_job_fail_stuck"] == 2
    running.refresh_from_db(), queued.refresh_from_db(), fresh.refresh_from_db()
    assert running.status == "failed"
    assert running.error == STUCK_RUNNING_MESSAGE
    assert queued.status == "failed"
    assert "No worker picked this generation up within 15 minutes" in queued.error
    assert fresh.status == "running"
    assert generation_job_fail_stuck() == 0


def _done(job: GenerationJob) -> GenerationJob:
    job.output_midi.save("o.mid", ContentFile(midi_bytes(8)), save=False)
    job.audio.save("a.mp3", ContentFile(b"ID3 fake"), save=False)
    job.status, job.progress = "done", 100
    job.save()
    return job


def test_unsaved_jobs_are_deleted_with_their_files_after_the_stated_time(users, media_root, sent, settings):
    settings.STUDIO_JOB_KEEP_HOURS = 24
    old = _done(job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json())[0])
    child = _done(job_create(owner=users["entrant"], model_name="arcnn", parent_id=old.pk)[0])
    recent = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json())[0]
    unsaved_old = _done(job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json())[0])
    composition = studio_save(owner=users["entrant"], title="Keep me", job_id=child.pk)
    assert composition.source == "studio"
    day_ago = timezone.now() - timedelta(hours=25)
    GenerationJob.objects.exclude(pk=recent.pk).update(created_at=day_ago)
    before = len(stored_files(media_root))
    assert generation_job_delete_expired() == 1  # only the unsaved old one: the saved one and its parent stay
    assert not GenerationJob.objects.filter(pk=unsaved_old.pk).exists()
    assert set(GenerationJob.objects.values_list("pk", flat=True)) == {old.pk, child.pk, recent.pk}
    assert len(stored_files(media_root)) == before - 3  # its input, output and audio
    # the saved piece does not depend on the jobs: its composition has its own copy
    composition.midi.open("rb").close()
