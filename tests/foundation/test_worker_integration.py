"""A real task through a real worker process on the configured broker (Redis in CI, filesystem otherwise)."""

from __future__ import annotations

import pytest

from chartbusters.challenges.models import WorkerPing
from chartbusters.challenges.services.pings import worker_ping_send
from chartbusters.dispatch import send_task
from tests.factories import ChallengeFactory
from tests.integration_fixtures import WORKER_QUEUES

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_answers_a_ping_on_every_queue_from_the_test_database(celery_worker_process):
    challenge = ChallengeFactory(slug="ping-target", title="A title only the test database holds")
    pings = {queue: worker_ping_send(challenge=challenge, queue=queue) for queue in WORKER_QUEUES}

    def answered() -> bool:
        return WorkerPing.objects.filter(pk__in=[p.pk for p in pings.values()], answered_at__isnull=False).count() \
            == len(pings)

    celery_worker_process.wait_for(answered, timeout=60, message="the worker to answer the pings")
    for queue, ping in pings.items():
        ping.refresh_from_db()
        assert ping.challenge_title == "A title only the test database holds"
        assert ping.queue == queue
        assert ping.worker.startswith("pytest-")


def test_worker_runs_the_periodic_reaper(celery_worker_process):
    before = celery_worker_process.log_text().count("Reaper: failed")
    send_task("chartbusters.reap_stuck_jobs", queue="scoring")
    celery_worker_process.wait_for(lambda: celery_worker_process.log_text().count("Reaper: failed") > before,
                                   timeout=60, message="the reaper to run")
    assert "Task chartbusters.reap_stuck_jobs" in celery_worker_process.log_text()
