"""Celery tasks of the submissions app: each takes an id and calls a service."""

from __future__ import annotations

from celery import shared_task

from submissions.models import Submission
from submissions.services.checkpoint_entries import submission_run_checkpoint_entry
from submissions.services.recovery import submission_hold


@shared_task(name="submissions.run_checkpoint_entry", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def run_checkpoint_entry(submission_id: int) -> None:
    """Generate from every hidden input with the entry's checkpoint, then queue its scoring. Held with a heartbeat
    (submissions.services.recovery): a copy of the message for an entry already held or finished does nothing."""
    with submission_hold(submission_id=submission_id, stage=Submission.Status.GENERATING) as held:
        if held:
            submission_run_checkpoint_entry(submission_id=submission_id)
