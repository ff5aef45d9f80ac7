"""Recovery rules in-process: the claim, the heartbeat, and the reaper's run-again-once (the real worker killed by
SIGKILL is in test_recovery_integration.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chartbusters.jobs import reap_stuck_jobs
from submissions.models import Submission
from submissions.services.lifecycle import submission_mark_scoring
from submissions.services.moderation import submission_rerun
from submissions.services.reaper import submission_fail_stuck
from submissions.services.recovery import (
    LOST_TWICE_MESSAGES,
    submission_claim,
    submission_heartbeat,
    submission_hold,
    submission_recover_lost,
)

pytestmark = pytest.mark.django_db
S = Submission.Status


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr("chartbusters.celery.app.send_task", lambda name, **kw: messages.append((name, kw["queue"])))
    return messages


@pytest.fixture
def entry(users, harvest):
    def make(kind=Submission.Kind.CHECKPOINT, **fields):
        return Submission.objects.create(challenge=harvest, entrant=users["entrant"], title="t", kind=kind,
                                         licence="CC BY 4.0", **fields)

    return make


def test_claim_takes_a_queued_entry_and_drops_every_other_copy(entry):
    submission = entry()
    assert submission_claim(submission_id=submission.pk, stage=S.GENERATING, worker="w1")
    submission.refresh_from_db()
    assert (submission.status, submission.worker) == (S.GENERATING, "w1")
    assert submission.heartbeat_at is not None
    # a second delivery of the same message (broker redelivery) while w1 holds it, alive or dead: dropped
    assert not submission_claim(submission_id=submission.pk, stage=S.GENERATING, worker="w2")
    # a checkpoint entry is not scored before it generated
    assert not submission_claim(submission_id=entry().pk, stage=S.SCORING, worker="w3")
    # finished entries are never taken again
    assert not submission_claim(submission_id=entry(status=S.SCORED).pk, stage=S.GENERATING, worker="w4")
    assert not submission_claim(submission_id=123456, stage=S.SCORING, worker="w5")


def test_handing_over_to_scoring_ends_the_generation_workers_hold(entry):
    submission = entry()
    submission_claim(submission_id=submission.pk, stage=S.GENERATING, worker="gen")
    submission_mark_scoring(submission_id=submission.pk)
    assert not submission_heartbeat(submission_id=submission.pk, worker="gen")
    assert submission_claim(submission_id=submission.pk, stage=S.SCORING, worker="score")
    submission.refresh_from_db()
    assert (submission.status, submission.worker) == (S.SCORING, "score")


def test_hold_releases_the_entry_when_the_task_ends(entry):
    submission = entry(kind=Submission.Kind.COMPOSITION)
    with submission_hold(submission_id=submission.pk, stage=S.SCORING) as held:
        assert held
        assert Submission.objects.get(pk=submission.pk).worker
        with submission_hold(submission_id=submission.pk, stage=S.SCORING) as again:
            assert not again
    submission.refresh_from_db()
    assert (submission.worker, submission.heartbeat_at) == ("", None)


def lose(submission: Submission, seconds: float = 600) -> None:
    Submission.objects.filter(pk=submission.pk).update(worker="dead", heartbeat_at=timezone.now()
                                                       - timedelta(seconds=seconds))


def test_a_lost_worker_s_entry_is_sent_again_once_then_failed(entry, sent, settings,
                                                               django_capture_on_commit_callbacks):
    settings.JOB_WORKER_LOST_AFTER_SECONDS = 60
    generating = entry(status=S.GENERATING)
    scoring = entry(status=S.SCORING)  # a checkpoint entry whose outputs exist: it is scored again
    composition = entry(kind=Submission.Kind.COMPOSITION, status=S.SCORING)
    alive = entry(status=S.GENERATING)
    for submission in (generating, scoring, composition):
        lose(submission)
    lose(alive, seconds=30)
    with django_capture_on_commit_callbacks(execute=True):
        assert submission_recover_lost() == 3
    assert sorted(sent) == [("evaluation.score_submission", "scoring"), ("evaluation.score_submission", "scoring"),
                            ("submissions.run_checkpoint_entry", "entries")]
    statuses = {s.pk: (s.status, s.attempt, s.worker) for s in Submission.objects.all()}
    assert statuses[generating.pk] == (S.QUEUED, 2, "")
    assert statuses[scoring.pk] == (S.SCORING, 2, "")
    assert statuses[composition.pk] == (S.QUEUED, 2, "")
    assert statuses[alive.pk] == (S.GENERATING, 1, "dead")

    Submission.objects.filter(pk=generating.pk).update(status=S.GENERATING)
    lose(generating)
    with django_capture_on_commit_callbacks(execute=True):
        assert submission_recover_lost() == 1
    generating.refresh_from_db()
    assert generating.status == S.FAILED
    assert generating.error == LOST_TWICE_MESSAGES[S.GENERATING]
    assert generating.counts_against_quota is False
    assert len(sent) == 3


def test_the_stuck_reaper_leaves_lost_workers_to_recovery(entry, settings):
    settings.JOB_STUCK_AFTER_SECONDS = 600
    settings.JOB_WORKER_LOST_AFTER_SECONDS = 60
    submission = entry(status=S.GENERATING)
    lose(submission)
    Submission.objects.filter(pk=submission.pk).update(updated_at=timezone.now() - timedelta(seconds=3600))
    assert submission_fail_stuck() == 0
    reapers = list(reap_stuck_jobs())  # run in the order connected
    assert reapers.index("submissions.services.recovery.submission_recover_lost") < reapers.index(
        "submissions.services.reaper.submission_fail_stuck")


def test_an_organizer_rerun_may_be_run_again_once_more(entry, users, sent, django_capture_on_commit_callbacks):
    submission = entry(status=S.FAILED, attempt=2, error="lost twice")
    with django_capture_on_commit_callbacks(execute=True):
        submission_rerun(submission_id=submission.pk, rerun_by=users["organizer"])
    submission.refresh_from_db()
    assert (submission.status, submission.attempt) == (S.QUEUED, 1)
