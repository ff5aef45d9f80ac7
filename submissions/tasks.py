"""Celery tasks of the submissions app: each takes an id and calls a service."""

from __future__ import annotations

from celery import shared_task

from submissions.services.checkpoint_entries import submission_run_checkpoint_entry


@shared_task(name="submissions.run_checkpoint_entry", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def run_checkpoint_entry(submission_id: int) -> None:
    """Generate from every hidden input with the entry's checkpoint, then queue its scoring."""
    submission_run_checkpoint_entry(submission_id=submission_id)
