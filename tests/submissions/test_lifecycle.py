"""Every lifecycle move, the illegal ones refused, and the e-mails on scored and failed (locmem backend)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.base import ContentFile

from submissions.models import Submission
from submissions.services.errors import IllegalTransitionError
from submissions.services.lifecycle import (
    submission_mark_failed,
    submission_mark_generating,
    submission_mark_scored,
    submission_mark_scoring,
    submission_set_progress,
)
from submissions.services.notifications import QUOTA_NOTE_NOT_COUNTED

pytestmark = pytest.mark.django_db
S = Submission.Status


@pytest.fixture
def make_entry(users, mgr, harvest, media_root):
    def make(kind=Submission.Kind.COMPOSITION, status=S.QUEUED):
        challenge = mgr if kind == Submission.Kind.COMPOSITION else harvest
        submission = Submission(challenge=challenge, entrant=users["entrant"], kind=kind, title="Entry",
                                licence="CC BY 4.0", status=status)
        submission.midi.save("e.mid", ContentFile(b"MThd"), save=False)
        submission.save()
        return submission

    return make


def reload(submission):
    return Submission.objects.get(pk=submission.pk)


def test_composition_path_queued_scoring_scored(make_entry, django_capture_on_commit_callbacks):
    entry = make_entry()
    submission_mark_scoring(submission_id=entry.pk)
    assert reload(entry).status == S.SCORING
    assert reload(entry).started_at is not None
    submission_set_progress(submission_id=entry.pk, progress=40)
    assert reload(entry).progress == 40
    with django_capture_on_commit_callbacks(execute=True):
        submission_mark_scored(submission_id=entry.pk)
    done = reload(entry)
    assert (done.status, done.progress, done.error) == (S.SCORED, 100, "")
    assert done.finished_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ella@example.com"]
    assert "has been scored" in mail.outbox[0].subject


def test_checkpoint_path_queued_generating_scoring_scored(make_entry):
    entry = make_entry(Submission.Kind.CHECKPOINT)
    submission_mark_generating(submission_id=entry.pk)
    assert reload(entry).status == S.GENERATING
    submission_set_progress(submission_id=entry.pk, progress=90)
    submission_mark_scoring(submission_id=entry.pk)
    assert (reload(entry).status, reload(entry).progress) == (S.SCORING, 90)
    submission_mark_scored(submission_id=entry.pk)
    assert reload(entry).status == S.SCORED


@pytest.mark.parametrize("status", [S.QUEUED, S.GENERATING, S.SCORING])
def test_any_unfinished_state_can_fail(make_entry, status, django_capture_on_commit_callbacks):
    entry = make_entry(Submission.Kind.CHECKPOINT, status=status)
    with django_capture_on_commit_callbacks(execute=True):
        submission_mark_failed(submission_id=entry.pk, error="Your model timed out.", platform_fault=False)
    failed = reload(entry)
    assert (failed.status, failed.error, failed.counts_against_quota) == (S.FAILED, "Your model timed out.", True)
    assert len(mail.outbox) == 1
    assert "could not be scored" in mail.outbox[0].subject
    assert "Your model timed out." in mail.outbox[0].body


def test_platform_fault_does_not_count_and_says_so(make_entry, django_capture_on_commit_callbacks):
    entry = make_entry()
    with django_capture_on_commit_callbacks(execute=True):
        submission_mark_failed(submission_id=entry.pk, error="The worker died.", platform_fault=True)
    assert reload(entry).counts_against_quota is False
    assert QUOTA_NOTE_NOT_COUNTED in mail.outbox[0].body


def test_no_mail_until_commit(make_entry):
    entry = make_entry(status=S.SCORING)
    submission_mark_scored(submission_id=entry.pk)  # the test's transaction never commits
    assert mail.outbox == []


def test_redelivered_task_may_reenter_generating_and_scoring(make_entry):
    entry = make_entry(Submission.Kind.CHECKPOINT, status=S.GENERATING)
    submission_mark_generating(submission_id=entry.pk)
    submission_mark_scoring(submission_id=entry.pk)
    submission_mark_scoring(submission_id=entry.pk)
    assert reload(entry).status == S.SCORING


ILLEGAL = [
    (Submission.Kind.COMPOSITION, S.QUEUED, submission_mark_generating),  # compositions never generate
    (Submission.Kind.CHECKPOINT, S.QUEUED, submission_mark_scoring),  # checkpoints must generate first
    (Submission.Kind.COMPOSITION, S.QUEUED, submission_mark_scored),
    (Submission.Kind.CHECKPOINT, S.GENERATING, submission_mark_scored),
    (Submission.Kind.COMPOSITION, S.SCORING, submission_mark_generating),
    (Submission.Kind.COMPOSITION, S.SCORED, submission_mark_scoring),
    (Submission.Kind.COMPOSITION, S.SCORED, submission_mark_scored),
    (Submission.Kind.CHECKPOINT, S.SCORED, submission_mark_generating),
    (Submission.Kind.COMPOSITION, S.FAILED, submission_mark_scoring),
    (Submission.Kind.COMPOSITION, S.FAILED, submission_mark_scored),
    (Submission.Kind.CHECKPOINT, S.FAILED, submission_mark_generating),
]


@pytest.mark.parametrize(("kind", "status", "move"), ILLEGAL)
def test_illegal_moves_raise_and_change_nothing(make_entry, kind, status, move):
    entry = make_entry(kind, status=status)
    with pytest.raises(IllegalTransitionError):
        move(submission_id=entry.pk)
    assert reload(entry).status == status


@pytest.mark.parametrize("status", [S.SCORED, S.FAILED])
def test_finished_entries_cannot_fail_again_or_change_progress(make_entry, status):
    entry = make_entry(status=status)
    with pytest.raises(IllegalTransitionError):
        submission_mark_failed(submission_id=entry.pk, error="again", platform_fault=True)
    with pytest.raises(IllegalTransitionError):
        submission_set_progress(submission_id=entry.pk, progress=5)
    assert reload(entry).status == status


def test_progress_out_of_range_and_empty_error_are_refused(make_entry):
    entry = make_entry(status=S.SCORING)
    with pytest.raises(ValueError, match="between 0 and 100"):
        submission_set_progress(submission_id=entry.pk, progress=101)
    with pytest.raises(ValueError, match="act on"):
        submission_mark_failed(submission_id=entry.pk, error="  ", platform_fault=False)
    assert reload(entry).status == S.SCORING


def test_entrant_without_email_gets_no_mail(make_entry, users, django_capture_on_commit_callbacks):
    users["entrant"].email = ""
    users["entrant"].save()
    entry = make_entry(status=S.SCORING)
    with django_capture_on_commit_callbacks(execute=True):
        submission_mark_scored(submission_id=entry.pk)
    assert mail.outbox == []
