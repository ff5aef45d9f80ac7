"""The reaper for entries: fails those stuck in generating/scoring past settings.JOB_STUCK_AFTER_SECONDS, and
those left queued past settings.JOB_QUEUED_STUCK_AFTER_SECONDS (longer: a busy queue is not a stuck worker). Entries
whose worker died are not failed here: submissions.services.recovery runs them again once (connected before it).

Connected to chartbusters.signals.stuck_jobs_reap (SubmissionsConfig.ready); the periodic task
"chartbusters.reap_stuck_jobs" runs it. Progress updates touch ``updated_at``, so a slow job that still reports
is never reaped. A reaped entry is the platform's fault: it does not count against the entrant's quota.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from submissions.models import Submission
from submissions.services.errors import IllegalTransitionError
from submissions.services.lifecycle import IN_PROGRESS, submission_mark_failed
from submissions.services.recovery import lost_cutoff

logger = logging.getLogger(__name__)
Status = Submission.Status

STUCK_MESSAGES = {
    Status.QUEUED: (
        "No worker picked this entry up in time; this entry does not count against your quota. "
        "Resubmit or ask the organizers to rerun it."
    ),
    Status.GENERATING: (
        "The worker stopped responding while running your checkpoint; this entry does not count against your "
        "quota. Resubmit or ask the organizers to rerun it."
    ),
    Status.SCORING: (
        "The worker stopped responding while scoring; this entry does not count against your quota. "
        "Resubmit or ask the organizers to rerun it."
    ),
}


def _cutoff(status: str, now: datetime) -> datetime:
    seconds = settings.JOB_QUEUED_STUCK_AFTER_SECONDS if status == Status.QUEUED else settings.JOB_STUCK_AFTER_SECONDS
    return now - timedelta(seconds=seconds)


def submission_fail_stuck(now: datetime | None = None) -> int:
    """Fail every entry with no update for its status's limit; returns how many it failed."""
    now = now or timezone.now()
    stuck = Q()
    for status in IN_PROGRESS:
        stuck |= Q(status=status, updated_at__lt=_cutoff(status, now))
    # Entries whose worker stopped sending heartbeats are run again by submission_recover_lost, not failed here.
    lost = Q(heartbeat_at__lt=lost_cutoff(now)) & ~Q(worker="")
    failed = 0
    for submission_id in Submission.objects.filter(stuck).exclude(lost).values_list("pk", flat=True):
        with transaction.atomic():
            # Re-read under lock: the worker may have moved it on since the query above.
            current = Submission.objects.select_for_update().filter(pk=submission_id).first()
            if (
                current is None
                or current.status not in IN_PROGRESS
                or current.updated_at >= _cutoff(current.status, now)
                or (current.worker and current.heartbeat_at and current.heartbeat_at < lost_cutoff(now))
            ):
                continue
            try:
                submission_mark_failed(
                    submission_id=submission_id, error=STUCK_MESSAGES[current.status], platform_fault=True
                )
            except IllegalTransitionError:  # pragma: no cover - guarded by the re-read above
                continue
            failed += 1
    if failed:
        logger.warning("Reaper failed %d stuck submission(s)", failed)
    return failed
