"""Celery tasks of the studio: each takes an id and calls a service (queue ``generation``; users' training runs on
``training``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from generation.services.running import job_run
from generation.services.training_run import training_run


@shared_task(name="generation.run_job", ignore_result=True, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=settings.STUDIO_TASK_SOFT_TIME_LIMIT, time_limit=settings.STUDIO_TASK_TIME_LIMIT)
def run_job(job_id: int) -> None:
    """Run one studio job (one variation). A copy of the message for a job no longer queued does nothing; a job
    whose worker died is failed by the reaper (generation.services.cleanup) with a reason."""
    job_run(job_id=job_id)


# Acknowledged when received (not late): a training run may outlast Redis's visibility timeout, and a run whose worker
# died is failed by the reaper, never run again by a redelivery.
@shared_task(name="generation.train_model", ignore_result=True, acks_late=False,
             soft_time_limit=settings.TRAINING_TASK_SOFT_TIME_LIMIT, time_limit=settings.TRAINING_TASK_TIME_LIMIT)
def train_model(job_id: int) -> None:
    """Run one user's training run. A copy of the message for a run no longer queued does nothing; a run whose
    worker died is failed by the reaper (generation.services.cleanup.training_fail_stuck) with a reason."""
    training_run(job_id=job_id)
