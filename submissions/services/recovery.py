"""Recovery of entries whose worker died (SIGKILL, out of memory, a machine lost), the same on every broker.

One mechanism, the database row: a task that runs an entry first *claims* it (``submission_hold``): the row records
which worker process holds it, and a thread of that process writes a heartbeat on the row every
``settings.JOB_HEARTBEAT_SECONDS`` until the task ends. The periodic reaper (``submission_recover_lost``) finds entries
whose holder's heartbeat is older than ``settings.JOB_WORKER_LOST_AFTER_SECONDS`` and sends their stage's task again
through chartbusters.dispatch.send_task, once (``attempt`` 2); an entry whose worker is lost a second time fails with
a reason and does not count against the entrant's quota.

Brokers redeliver on their own too (a prefork child lost while ``reject_on_worker_lost``; Redis after its visibility
timeout; the embedded filesystem transport never does): such a copy finds the entry finished, held or already sent
again, so the claim drops it. Nothing runs an entry twice at once, and nothing runs it a third time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from chartbusters.dispatch import send_task
from submissions.models import Submission
from submissions.services.errors import IllegalTransitionError
from submissions.services.lifecycle import IN_PROGRESS, _check_move, submission_mark_failed

logger = logging.getLogger(__name__)
Status = Submission.Status
Kind = Submission.Kind

# The task that runs each stage, and its queue.
STAGE_TASKS = {
    Status.GENERATING: ("submissions.run_checkpoint_entry", "entries"),
    Status.SCORING: ("evaluation.score_submission", "scoring"),
}
LOST_TWICE_MESSAGES = {
    Status.GENERATING: (
        "The worker running your checkpoint stopped twice (the platform ran it again once); this entry does not "
        "count against your quota. Resubmit or ask the organizers to rerun it."
    ),
    Status.SCORING: (
        "The worker scoring this entry stopped twice (the platform ran it again once); this entry does not count "
        "against your quota. Resubmit or ask the organizers to rerun it."
    ),
}


def worker_name() -> str:
    """This process, as the row records its holder: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:8]}"


@transaction.atomic
def submission_claim(*, submission_id: int, stage: str, worker: str) -> bool:
    """Take the entry for ``stage`` (generating or scoring) if no live task holds it; False: drop this delivery.

    A queued entry moves to ``stage``; a checkpoint entry handed over to scoring is already in "scoring" and free.
    A finished entry, or one another (maybe dead) worker holds, is left to that worker or to the reaper.
    """
    submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
    if submission is None or submission.status not in IN_PROGRESS or submission.worker:
        return False
    if submission.status != Status.QUEUED and not (stage == Status.SCORING == submission.status):
        return False
    try:
        _check_move(submission, stage)
    except IllegalTransitionError:
        return False
    now = timezone.now()
    if submission.status == Status.QUEUED:
        submission.progress = 0
    submission.status = stage
    submission.started_at = submission.started_at or now
    submission.worker = worker
    submission.heartbeat_at = now
    submission.save(update_fields=["status", "progress", "started_at", "worker", "heartbeat_at", "updated_at"])
    return True


def submission_heartbeat(*, submission_id: int, worker: str) -> bool:
    """The holder is alive; False once it no longer holds the entry (finished, handed over)."""
    return bool(Submission.objects.filter(pk=submission_id, worker=worker, status__in=IN_PROGRESS)
                .update(heartbeat_at=timezone.now()))


def submission_release(*, submission_id: int, worker: str) -> None:
    Submission.objects.filter(pk=submission_id, worker=worker).update(worker="", heartbeat_at=None)


def _beat(submission_id: int, worker: str, stop: threading.Event) -> None:
    try:
        while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
            try:
                if not submission_heartbeat(submission_id=submission_id, worker=worker):
                    return
            except Exception:  # a busy database: the next beat tries again
                logger.warning("Heartbeat of submission %s failed", submission_id, exc_info=True)
    finally:
        connections.close_all()  # this thread's own connections


@contextmanager
def submission_hold(*, submission_id: int, stage: str) -> Iterator[bool]:
    """Claim the entry for ``stage`` and keep its heartbeat going while the block runs; yields whether it was
    claimed (run the stage only then). Tasks wrap their service call in it."""
    worker = worker_name()
    if not submission_claim(submission_id=submission_id, stage=stage, worker=worker):
        logger.warning("Submission %s is finished or held by another worker: not running %s again", submission_id,
                       stage)
        yield False
        return
    stop = threading.Event()
    thread = threading.Thread(target=_beat, args=(submission_id, worker, stop), daemon=True,
                              name=f"heartbeat-{submission_id}")
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join()
        submission_release(submission_id=submission_id, worker=worker)


def _requeue(submission: Submission) -> None:
    """Send the lost stage's task again: a checkpoint entry that was scoring is scored again (its outputs exist);
    anything else starts from queued."""
    stage = submission.status
    task, queue = STAGE_TASKS[stage]
    if not (stage == Status.SCORING and submission.kind == Kind.CHECKPOINT):
        submission.status = Status.QUEUED
    submission.attempt += 1
    submission.worker = ""
    submission.heartbeat_at = None
    submission.save(update_fields=["status", "attempt", "worker", "heartbeat_at", "updated_at"])
    send_task(task, args=(submission.pk,), queue=queue)


def lost_cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.JOB_WORKER_LOST_AFTER_SECONDS)


def submission_recover_lost(now: datetime | None = None) -> int:
    """Run again (once) or fail every entry whose worker stopped sending heartbeats; returns how many."""
    now = now or timezone.now()
    lost = Submission.objects.filter(status__in=IN_PROGRESS, heartbeat_at__lt=lost_cutoff(now)).exclude(worker="")
    handled = 0
    for submission_id in lost.values_list("pk", flat=True):
        with transaction.atomic():
            current = Submission.objects.select_for_update().filter(pk=submission_id).first()
            if (current is None or current.status not in STAGE_TASKS or not current.worker
                    or current.heartbeat_at is None or current.heartbeat_at >= lost_cutoff(now)):
                continue  # finished, released or alive again since the query above
            if current.attempt < settings.JOB_MAX_ATTEMPTS:
                logger.warning("Worker %s of submission %s is lost (no heartbeat since %s): running %s again",
                               current.worker, submission_id, current.heartbeat_at, current.status)
                _requeue(current)
            else:
                logger.warning("Worker %s of submission %s is lost again: failing it", current.worker, submission_id)
                submission_mark_failed(submission_id=submission_id, error=LOST_TWICE_MESSAGES[current.status],
                                       platform_fault=True)
            handled += 1
    return handled
