"""The reaper fails entries stuck past JOB_STUCK_AFTER_SECONDS, with an explanation and no quota cost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from chartbusters.jobs import reap_stuck_jobs
from submissions.models import Submission
from submissions.services.reaper import STUCK_MESSAGES, submission_fail_stuck

pytestmark = pytest.mark.django_db
S = Submission.Status


@pytest.fixture
def entries(users, harvest, settings):
    settings.JOB_STUCK_AFTER_SECONDS = 600
    settings.JOB_QUEUED_STUCK_AFTER_SECONDS = 3600
    made = {}
    for status in (S.QUEUED, S.GENERATING, S.SCORING, S.SCORED, S.FAILED):
        made[status] = Submission.objects.create(challenge=harvest, entrant=users["entrant"], title=str(status),
                                                 kind=Submission.Kind.CHECKPOINT, licence="CC BY 4.0", status=status)
    return made


def age(submission, seconds):
    Submission.objects.filter(pk=submission.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def test_stuck_entries_fail_with_explanation(entries, django_capture_on_commit_callbacks):
    for submission in entries.values():
        age(submission, 3601)
    with django_capture_on_commit_callbacks(execute=True):
        assert submission_fail_stuck() == 3
    for status in (S.QUEUED, S.GENERATING, S.SCORING):
        reaped = Submission.objects.get(pk=entries[status].pk)
        assert reaped.status == S.FAILED
        assert reaped.error == STUCK_MESSAGES[status]
        assert reaped.counts_against_quota is False
    assert Submission.objects.get(pk=entries[S.SCORED].pk).status == S.SCORED
    assert STUCK_MESSAGES[S.SCORING] == (
        "The worker stopped responding while scoring; this entry does not count against your quota. "
        "Resubmit or ask the organizers to rerun it."
    )
    assert len(mail.outbox) == 3


def test_recent_progress_keeps_an_entry_alive(entries):
    age(entries[S.GENERATING], 599)
    age(entries[S.SCORING], 601)
    assert submission_fail_stuck() == 1
    assert Submission.objects.get(pk=entries[S.GENERATING].pk).status == S.GENERATING


def test_a_long_queue_is_not_a_stuck_worker(entries):
    """Queued entries wait for a free worker: they get the longer JOB_QUEUED_STUCK_AFTER_SECONDS."""
    age(entries[S.QUEUED], 601)
    age(entries[S.SCORING], 601)
    assert submission_fail_stuck() == 1
    assert Submission.objects.get(pk=entries[S.QUEUED].pk).status == S.QUEUED
    age(entries[S.QUEUED], 3601)
    assert submission_fail_stuck() == 1
    assert Submission.objects.get(pk=entries[S.QUEUED].pk).status == S.FAILED


def test_connected_to_the_platform_reaper(entries):
    age(entries[S.QUEUED], 10_000)
    results = reap_stuck_jobs()
    assert results["submissions.services.reaper.submission_fail_stuck"] == 1
