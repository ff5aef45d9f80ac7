"""The lifecycle of an entry: queued -> generating (checkpoints only) -> scoring -> scored | failed (docs/design.md §6).

Workers call these services by id. Each locks the row, checks the move against ``ALLOWED_MOVES`` and raises
``IllegalTransitionError`` for any other. Re-entering ``generating`` or ``scoring`` is allowed (a task redelivered after
a lost worker starts again); a finished entry goes back to ``queued`` only through an organizer's rerun
(submissions.services.moderation).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from submissions.models import Submission
from submissions.services.errors import IllegalTransitionError
from submissions.services.notifications import submission_notify_finished
from submissions.signals import SubmissionEvent, submission_event_notify

Status = Submission.Status
Kind = Submission.Kind

ALLOWED_MOVES: dict[str, set[str]] = {
    Status.QUEUED: {Status.GENERATING, Status.SCORING, Status.FAILED},
    Status.GENERATING: {Status.GENERATING, Status.SCORING, Status.FAILED},
    Status.SCORING: {Status.SCORING, Status.SCORED, Status.FAILED},
    Status.SCORED: set(),
    Status.FAILED: set(),
}
IN_PROGRESS = (Status.QUEUED, Status.GENERATING, Status.SCORING)

ILLEGAL_MOVE_MESSAGE = "Submission {id} cannot move from {old} to {new}."
GENERATING_ONLY_CHECKPOINTS_MESSAGE = "Submission {id} is a composition entry: only checkpoint entries generate."
CHECKPOINT_MUST_GENERATE_MESSAGE = "Submission {id} is a checkpoint entry: it must generate before it is scored."
PROGRESS_RANGE_MESSAGE = "Progress must be between 0 and 100, not {progress}."
PROGRESS_FINISHED_MESSAGE = "Submission {id} is {status}: its progress no longer changes."
EMPTY_ERROR_MESSAGE = "A failed submission needs an error message a person can act on."


def _locked(submission_id: int) -> Submission:
    return Submission.objects.select_for_update().select_related("challenge", "entrant").get(pk=submission_id)


def _check_move(submission: Submission, new: str) -> None:
    if new not in ALLOWED_MOVES[submission.status]:
        raise IllegalTransitionError(ILLEGAL_MOVE_MESSAGE.format(id=submission.pk, old=submission.status, new=new))
    if new == Status.GENERATING and submission.kind != Kind.CHECKPOINT:
        raise IllegalTransitionError(GENERATING_ONLY_CHECKPOINTS_MESSAGE.format(id=submission.pk))
    if new == Status.SCORING and submission.kind == Kind.CHECKPOINT and submission.status == Status.QUEUED:
        raise IllegalTransitionError(CHECKPOINT_MUST_GENERATE_MESSAGE.format(id=submission.pk))


@transaction.atomic
def submission_mark_generating(*, submission_id: int) -> Submission:
    submission = _locked(submission_id)
    _check_move(submission, Status.GENERATING)
    now = timezone.now()
    submission.status = Status.GENERATING
    submission.progress = 0
    submission.started_at = submission.started_at or now
    submission.save(update_fields=["status", "progress", "started_at", "updated_at"])
    return submission


@transaction.atomic
def submission_set_progress(*, submission_id: int, progress: int) -> Submission:
    if not 0 <= progress <= 100:
        raise ValueError(PROGRESS_RANGE_MESSAGE.format(progress=progress))
    submission = _locked(submission_id)
    if submission.status not in IN_PROGRESS:
        raise IllegalTransitionError(PROGRESS_FINISHED_MESSAGE.format(id=submission.pk, status=submission.status))
    submission.progress = int(progress)
    submission.save(update_fields=["progress", "updated_at"])  # updated_at: the reaper sees it is alive
    return submission


@transaction.atomic
def submission_mark_scoring(*, submission_id: int) -> Submission:
    """Composition entries: queued -> scoring; checkpoint entries: generating -> scoring (the generation worker's
    hold on it ends: see submissions.services.recovery). Progress is kept."""
    submission = _locked(submission_id)
    _check_move(submission, Status.SCORING)
    if submission.status == Status.GENERATING:  # handed over: it waits for a scoring worker, no worker holds it
        submission.worker = ""
        submission.heartbeat_at = None
    submission.status = Status.SCORING
    submission.started_at = submission.started_at or timezone.now()
    submission.save(update_fields=["status", "started_at", "worker", "heartbeat_at", "updated_at"])
    return submission


@transaction.atomic
def submission_mark_scored(*, submission_id: int) -> Submission:
    """Scoring -> scored, progress 100; e-mails the entrant once committed."""
    submission = _locked(submission_id)
    _check_move(submission, Status.SCORED)
    submission.status = Status.SCORED
    submission.progress = 100
    submission.error = ""
    submission.finished_at = timezone.now()
    submission.save(update_fields=["status", "progress", "error", "finished_at", "updated_at"])
    submission_event_notify(submission=submission, event=SubmissionEvent.SCORED)
    submission_notify_finished(submission=submission)
    return submission


@transaction.atomic
def submission_mark_failed(*, submission_id: int, error: str, platform_fault: bool) -> Submission:
    """Any unfinished state -> failed with ``error``. ``platform_fault``: the platform (not the entry) failed, so
    the entry does not count against the entrant's quota. E-mails the entrant once committed."""
    if not error.strip():
        raise ValueError(EMPTY_ERROR_MESSAGE)
    submission = _locked(submission_id)
    _check_move(submission, Status.FAILED)
    submission.status = Status.FAILED
    submission.error = error.strip()
    submission.counts_against_quota = not platform_fault
    submission.finished_at = timezone.now()
    submission.save(update_fields=["status", "error", "counts_against_quota", "finished_at", "updated_at"])
    submission_event_notify(submission=submission, event=SubmissionEvent.FAILED)
    submission_notify_finished(submission=submission)
    return submission
