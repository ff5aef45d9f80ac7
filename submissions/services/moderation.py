"""Organizer actions on entries: rerun and disqualify, recorded with who and when (docs/design.md section 6)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from chartbusters.dispatch import send_task
from submissions.models import Submission
from submissions.selectors import user_organizes
from submissions.services.errors import IllegalTransitionError, NotOrganizerError
from submissions.services.notifications import submission_notify_disqualified
from submissions.signals import SubmissionEvent, submission_event_notify

Status = Submission.Status

NOT_ORGANIZER_MESSAGE = "Only the organizers of \u201c{challenge}\u201d can {action} its entries."
RERUN_RUNNING_MESSAGE = (
    "Submission {id} is still {status}; wait until it is scored or failed (the reaper fails stuck entries)."
)
DISQUALIFY_REASON_REQUIRED_MESSAGE = "Give the reason for the disqualification; the entrant will see it."
RERUNNABLE = (Status.SCORED, Status.FAILED)


def _locked_for(*, submission_id: int, user, action: str) -> Submission:
    submission = Submission.objects.select_for_update().select_related("challenge").get(pk=submission_id)
    if not user_organizes(user=user, challenge=submission.challenge):
        raise NotOrganizerError(NOT_ORGANIZER_MESSAGE.format(challenge=submission.challenge.title, action=action))
    return submission


def _delete_outputs_on_commit(submission: Submission) -> None:
    files = [f for output in submission.outputs.all() for f in (output.midi, output.audio) if f]
    submission.outputs.all().delete()

    def _delete_files() -> None:
        for field_file in files:
            field_file.storage.delete(field_file.name)

    transaction.on_commit(_delete_files)


def job_for(submission: Submission) -> tuple[str, str]:
    """The first task of an entry's pipeline and its queue."""
    if submission.kind == Submission.Kind.CHECKPOINT:
        return "submissions.run_checkpoint_entry", "entries"
    return "evaluation.score_submission", "scoring"


@transaction.atomic
def submission_rerun(*, submission_id: int, rerun_by) -> Submission:
    """A scored or failed entry starts again from queued: outputs dropped, listeners told (the results app drops
    the old score), the first task queued once committed. Quota counting is left as it was."""
    submission = _locked_for(submission_id=submission_id, user=rerun_by, action="rerun")
    if submission.status not in RERUNNABLE:
        raise IllegalTransitionError(RERUN_RUNNING_MESSAGE.format(id=submission.pk, status=submission.status))
    _delete_outputs_on_commit(submission)
    submission.status = Status.QUEUED
    submission.progress = 0
    submission.error = ""
    submission.started_at = None
    submission.finished_at = None
    submission.rerun_count += 1
    submission.last_rerun_at = timezone.now()
    submission.last_rerun_by = rerun_by
    submission.attempt = 1  # a rerun may be run again once after a lost worker, like a new entry
    submission.worker = ""
    submission.heartbeat_at = None
    submission.save(update_fields=[
        "status", "progress", "error", "started_at", "finished_at", "rerun_count", "last_rerun_at",
        "last_rerun_by", "attempt", "worker", "heartbeat_at", "updated_at",
    ])
    submission_event_notify(submission=submission, event=SubmissionEvent.RERUN)
    task, queue = job_for(submission)
    send_task(task, args=(submission.pk,), queue=queue)
    return submission


@transaction.atomic
def submission_disqualify(*, submission_id: int, disqualified_by, reason: str) -> Submission:
    """Hide the entry from the leaderboard for good, recording who, when and why."""
    if not reason.strip():
        raise ValueError(DISQUALIFY_REASON_REQUIRED_MESSAGE)
    submission = _locked_for(submission_id=submission_id, user=disqualified_by, action="disqualify")
    submission.disqualified = True
    submission.disqualified_at = timezone.now()
    submission.disqualified_by = disqualified_by
    submission.disqualification_reason = reason.strip()
    submission.save(update_fields=[
        "disqualified", "disqualified_at", "disqualified_by", "disqualification_reason", "updated_at",
    ])
    submission_event_notify(submission=submission, event=SubmissionEvent.DISQUALIFIED)
    submission_notify_disqualified(submission=submission)
    return submission


@transaction.atomic
def submission_requalify(*, submission_id: int, requalified_by) -> Submission:
    """Undo a disqualification (the record of who disqualified it is cleared)."""
    submission = _locked_for(submission_id=submission_id, user=requalified_by, action="requalify")
    submission.disqualified = False
    submission.disqualified_at = None
    submission.disqualified_by = None
    submission.disqualification_reason = ""
    submission.save(update_fields=[
        "disqualified", "disqualified_at", "disqualified_by", "disqualification_reason", "updated_at",
    ])
    submission_event_notify(submission=submission, event=SubmissionEvent.REQUALIFIED)
    return submission
