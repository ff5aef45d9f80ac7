"""The studio's reapers (connected to chartbusters.signals.stuck_jobs_reap in GenerationConfig.ready; sent by the
periodic task ``chartbusters.reap_stuck_jobs`` every ``JOB_REAPER_INTERVAL_SECONDS``):

- ``generation_job_fail_stuck``: a running job with no update for ``STUDIO_JOB_STUCK_AFTER_SECONDS`` (its worker
  died or hung past the task's hard limit) and a job no worker picked up within
  ``STUDIO_JOB_QUEUED_STUCK_AFTER_SECONDS`` fail with a sentence saying so.
- ``training_fail_stuck``: a training run silent for ``TRAINING_STUCK_AFTER_SECONDS`` (its worker died: killed, out
  of memory, machine gone) or queued for ``TRAINING_QUEUED_STUCK_AFTER_SECONDS`` fails with a sentence saying so,
  and its uploaded files are deleted (a run is not started again: the user decides whether to spend the time).
- ``generation_job_delete_expired``: jobs not saved are deleted with their files ``STUDIO_JOB_KEEP_HOURS`` after
  they were made (saved ones are kept: saving stores the piece as a composition and keeps its history).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from generation.models import GenerationJob, TrainingJob
from generation.services.running import job_mark_failed
from generation.services.training import training_delete_data, training_finish, training_sweep_temp

logger = logging.getLogger(__name__)
Status = GenerationJob.Status

STUCK_RUNNING_MESSAGE = "The worker stopped responding while generating; please generate again."
STUCK_QUEUED_MESSAGE = "No worker picked this generation up within {minutes} minutes; please generate again later."
DELETE_BATCH = 500
TRAINING_LOST_MESSAGE = (
    "The training worker stopped responding (it was restarted or ran out of memory) after {done} of {total} steps; "
    "nothing was kept. Start the training again, perhaps with fewer steps or a smaller model."
)
TRAINING_QUEUED_MESSAGE = "No training worker picked this run up within {hours:g} hours; please start it again later."


def generation_job_fail_stuck(now: datetime | None = None) -> int:
    now = now or timezone.now()
    running_cutoff = now - timedelta(seconds=settings.STUDIO_JOB_STUCK_AFTER_SECONDS)
    queued_cutoff = now - timedelta(seconds=settings.STUDIO_JOB_QUEUED_STUCK_AFTER_SECONDS)
    stuck = (Q(status=Status.RUNNING, updated_at__lt=running_cutoff)
             | Q(status=Status.QUEUED, created_at__lt=queued_cutoff))
    failed = 0
    minutes = max(1, round(settings.STUDIO_JOB_QUEUED_STUCK_AFTER_SECONDS / 60))
    for job_id, status in GenerationJob.objects.filter(stuck).values_list("pk", "status"):
        with transaction.atomic():
            current = GenerationJob.objects.select_for_update().filter(pk=job_id).first()
            if current is None or current.status != status:
                continue
            if status == Status.RUNNING and current.updated_at >= running_cutoff:
                continue  # it reported progress since the query above
            message = STUCK_RUNNING_MESSAGE if status == Status.RUNNING else STUCK_QUEUED_MESSAGE.format(
                minutes=minutes)
            failed += job_mark_failed(job_id=job_id, error=message)
    if failed:
        logger.warning("Reaper failed %d stuck studio job(s)", failed)
    return failed


def generation_job_delete(job: GenerationJob) -> None:
    """Delete a job's row, then its files (a file left behind by a crash in between is harmless: random name)."""
    files = [f for f in (job.input_midi, job.output_midi, job.audio) if f]
    names = [(f.storage, f.name) for f in files]
    job.delete()
    for storage, name in names:
        storage.delete(name)


def generation_job_delete_expired(now: datetime | None = None) -> int:
    """Delete unsaved jobs older than ``STUDIO_JOB_KEEP_HOURS`` (not while a worker may still hold them)."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.STUDIO_JOB_KEEP_HOURS)
    expired = GenerationJob.objects.filter(saved=False, created_at__lt=cutoff).exclude(status=Status.RUNNING)
    deleted = 0
    for job in expired[:DELETE_BATCH]:
        generation_job_delete(job)
        deleted += 1
    if deleted:
        logger.info("Deleted %d unsaved studio job(s) older than %g hours", deleted, settings.STUDIO_JOB_KEEP_HOURS)
    return deleted


def training_fail_stuck(now: datetime | None = None) -> int:
    now = now or timezone.now()
    running_cutoff = now - timedelta(seconds=settings.TRAINING_STUCK_AFTER_SECONDS)
    queued_cutoff = now - timedelta(seconds=settings.TRAINING_QUEUED_STUCK_AFTER_SECONDS)
    stuck = (Q(status=TrainingJob.Status.RUNNING, updated_at__lt=running_cutoff)
             | Q(status=TrainingJob.Status.QUEUED, created_at__lt=queued_cutoff))
    failed = 0
    for job in TrainingJob.objects.filter(stuck):
        if job.status == TrainingJob.Status.RUNNING:
            message = TRAINING_LOST_MESSAGE.format(done=job.steps_done, total=job.steps_total)
        else:
            message = TRAINING_QUEUED_MESSAGE.format(hours=settings.TRAINING_QUEUED_STUCK_AFTER_SECONDS / 3600)
        with transaction.atomic():  # only if it is still as found (no progress report since the query)
            current = TrainingJob.objects.select_for_update().filter(pk=job.pk, status=job.status,
                                                                     updated_at=job.updated_at).first()
            if current is None:
                continue
            ended = training_finish(job_id=job.pk, status=TrainingJob.Status.FAILED, error=message)
        if ended:
            training_delete_data(job)
            failed += 1
    if failed:
        logger.warning("Reaper failed %d stuck training run(s)", failed)
        training_sweep_temp()  # the dead run's files, where the reaper runs on the same machine as its worker
    return failed
