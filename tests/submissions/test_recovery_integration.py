"""A real worker process SIGKILLed in the middle of a checkpoint entry: the entry runs again automatically, once,
then fails with a reason that costs no quota. On the configured broker (the embedded filesystem transport, which never
redelivers a dead worker's message, or Redis in CI), plus a Redis-only test that the message Redis hands out again
after its visibility timeout is dropped rather than run a third time.

The limits are shrunk for the test: the reaper (called here, as beat calls it) takes a worker for lost after 3 s
without a heartbeat; the restarted worker beats every 0.5 s.
"""

from __future__ import annotations

import os
import time

import pytest

from chartbusters.jobs import reap_stuck_jobs
from submissions.models import Submission
from submissions.services.recovery import LOST_TWICE_MESSAGES
from tests.integration_fixtures import kill_worker, restart_worker
from tests.submissions.conftest import input_melodies, post_tiny_checkpoint_entry

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
S = Submission.Status
FAST_HEARTBEAT = {"JOB_HEARTBEAT_SECONDS": "0.5"}
LOST_AFTER_SECONDS = 3


@pytest.fixture
def fast_limits(settings):
    settings.JOB_WORKER_LOST_AFTER_SECONDS = LOST_AFTER_SECONDS


def submit_checkpoint_entry(api, harvest, tmp_path) -> int:
    """A tiny AR-CNN entry run on 8 hidden inputs at 100 iterations: a couple of seconds of generation to kill."""
    harvest.generation_params = {"arcnn": {"iterations": 100, "seed": 1}}
    harvest.save()
    input_melodies(harvest, 8)
    return post_tiny_checkpoint_entry(api, tmp_path / "ckpt")


def held_while_generating(worker, submission_id: int, *, attempt: int) -> Submission:
    def held():
        s = Submission.objects.get(pk=submission_id)
        return s if s.status == S.GENERATING and s.worker and s.attempt == attempt else None

    return worker.wait_for(held, timeout=120, message=f"attempt {attempt} to be generating")


def kill_mid_task(worker, submission_id: int, *, attempt: int) -> None:
    held_while_generating(worker, submission_id, attempt=attempt)
    kill_worker(worker)
    submission = Submission.objects.get(pk=submission_id)
    assert submission.status == S.GENERATING, "the task finished before the kill: make it slower"
    assert submission.worker  # still held by the dead worker: nothing else runs it


def reap_when_lost(submission_id: int) -> None:
    """Wait until the dead worker's heartbeat is older than the limit, then run the reaper once."""
    submission = Submission.objects.get(pk=submission_id)
    wait = LOST_AFTER_SECONDS + 0.2 - (time.time() - submission.heartbeat_at.timestamp())
    time.sleep(max(0.0, wait))
    reap_stuck_jobs()


def finished(worker, submission_id: int, timeout: float = 180) -> Submission:
    def done():  # finished, and the task that finished it has let go of it (it releases right after saving)
        s = Submission.objects.get(pk=submission_id)
        return s if s.status in (S.SCORED, S.FAILED) and not s.worker else None

    return worker.wait_for(done, timeout=timeout, message="the entry to finish and be released")


def test_an_entry_whose_worker_was_killed_runs_again_and_is_scored(celery_worker_process, fast_limits, api,
                                                                      harvest, tmp_path):
    submission_id = submit_checkpoint_entry(api, harvest, tmp_path)
    kill_mid_task(celery_worker_process, submission_id, attempt=1)
    restart_worker(celery_worker_process, extra_env=FAST_HEARTBEAT)

    reap_when_lost(submission_id)
    submission = Submission.objects.get(pk=submission_id)
    assert submission.attempt == 2
    assert submission.status in (S.QUEUED, S.GENERATING, S.SCORING, S.SCORED)  # sent again, maybe already running

    submission = finished(celery_worker_process, submission_id)
    assert submission.status == S.SCORED, f"{submission.error}\n{celery_worker_process.log_tail()}"
    assert submission.attempt == 2
    assert submission.outputs.count() == 8  # the outputs of the lost run were replaced, not added to
    assert submission.worker == ""


def test_an_entry_whose_worker_is_killed_twice_fails_without_quota_cost(celery_worker_process, fast_limits, api,
                                                                       harvest, tmp_path):
    submission_id = submit_checkpoint_entry(api, harvest, tmp_path)
    kill_mid_task(celery_worker_process, submission_id, attempt=1)
    restart_worker(celery_worker_process, extra_env=FAST_HEARTBEAT)
    reap_when_lost(submission_id)

    kill_mid_task(celery_worker_process, submission_id, attempt=2)
    restart_worker(celery_worker_process, extra_env=FAST_HEARTBEAT)
    reap_when_lost(submission_id)

    submission = Submission.objects.get(pk=submission_id)
    assert submission.status == S.FAILED
    assert submission.error == LOST_TWICE_MESSAGES[S.GENERATING]
    assert submission.counts_against_quota is False
    assert submission.attempt == 2


@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://")),
                    reason="a Redis test: set CELERY_BROKER_URL=redis://... (CI runs it on redis://127.0.0.1:6379/15)")
def test_redis_hands_the_dead_workers_message_out_again_and_the_claim_drops_it(celery_worker_process, fast_limits,
                                                                              api, harvest, tmp_path):
    """Redis keeps the killed worker's unacknowledged message and hands it out after the visibility timeout (shrunk
    here through the task limits it is derived from); by then the reaper has run the entry again, so the copy finds
    it scored (or held) and does nothing: the entry is not run a third time."""
    limits = {**FAST_HEARTBEAT, "CELERY_TASK_SOFT_TIME_LIMIT": "4", "CELERY_TASK_TIME_LIMIT": "5"}  # visibility 13 s
    restart_worker(celery_worker_process, extra_env=limits)
    submission_id = submit_checkpoint_entry(api, harvest, tmp_path)
    kill_mid_task(celery_worker_process, submission_id, attempt=1)
    restart_worker(celery_worker_process, extra_env=limits)
    reap_when_lost(submission_id)
    submission = finished(celery_worker_process, submission_id)
    assert submission.status == S.SCORED, f"{submission.error}\n{celery_worker_process.log_tail()}"
    dropped = f"Submission {submission_id} is finished or held by another worker"
    celery_worker_process.wait_for(lambda: dropped in celery_worker_process.log_text(), timeout=60,
                                   message="Redis to hand out the dead worker's message again")
    submission.refresh_from_db()
    assert (submission.status, submission.attempt) == (S.SCORED, 2)
    restart_worker(celery_worker_process)  # the session's worker goes on with the default limits
