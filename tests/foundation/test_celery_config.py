"""The Celery app: queues, task defaults, routes, the reaper in the beat schedule, the reaper signal."""

from __future__ import annotations

import logging

import pytest

from chartbusters import jobs
from chartbusters.celery import app
from chartbusters.signals import stuck_jobs_reap


def test_queues_and_task_defaults():
    conf = app.conf
    assert [q.name for q in conf.task_queues] == [
        "generation", "scoring", "audio", "training", "entries", "user-training"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


@pytest.mark.parametrize(("task", "queue"), [
    ("submissions.run_checkpoint_entry", "entries"),
    ("evaluation.score_submission", "scoring"),
    ("evaluation.render_submission_audio", "audio"),
    ("evaluation.train_realness_model", "training"),
    ("generation.train_model", "user-training"),  # users' runs never wait behind a realness model
    ("chartbusters.reap_stuck_jobs", "scoring"),
])
def test_routes(task, queue):
    route = app.amqp.router.route({}, task)
    assert route["queue"].name == queue


def test_reaper_is_registered_and_scheduled():
    app.loader.import_default_modules()
    assert "chartbusters.reap_stuck_jobs" in app.tasks
    assert "chartbusters.ping_db" in app.tasks
    schedule = app.conf.beat_schedule["reap-stuck-jobs"]
    assert schedule["task"] == "chartbusters.reap_stuck_jobs"


@pytest.fixture
def only_these_reapers(monkeypatch):
    """The apps' reapers set aside: the test connects its own (restored after)."""
    monkeypatch.setattr(stuck_jobs_reap, "receivers", [])


def test_reap_stuck_jobs_runs_every_reaper_in_order_and_logs_the_total(only_these_reapers, caplog):
    def fails_two() -> int:
        return 2

    def raises() -> int:
        raise RuntimeError("database went away")

    def fails_one() -> int:
        return 1

    for uid, fn in (("two", fails_two), ("raises", raises), ("one", fails_one), ("two", fails_two)):
        stuck_jobs_reap.connect(jobs.reaper(fn), weak=False, dispatch_uid=uid)
    with caplog.at_level(logging.INFO, logger="chartbusters.jobs"):
        results = jobs.reap_stuck_jobs()
    assert [name.rpartition(".")[2] for name in results] == ["fails_two", "raises", "fails_one"]  # once each
    assert list(results.values()) == [2, -1, 1]
    assert "failed 3 stuck job(s)" in caplog.text
    assert "database went away" in caplog.text


def test_recovery_limits_are_derived_from_the_task_limits_in_one_place():
    """Settings read with other task limits and a Redis broker: the visibility timeout, the reaper's limits and its
    schedule follow (chartbusters/settings/base.py, docs/operations.md "Recovery and limits")."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], s.JOB_STUCK_AFTER_SECONDS, "
        "s.JOB_WORKER_LOST_AFTER_SECONDS, s.CELERY_BEAT_SCHEDULE['reap-stuck-jobs']['schedule']]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chartbusters.settings.base", "CELERY_BROKER_URL": "redis://x:1/0",
           "CELERY_TASK_SOFT_TIME_LIMIT": "90", "CELERY_TASK_TIME_LIMIT": "100", "JOB_HEARTBEAT_SECONDS": "5",
           "SECRET_KEY": "derived-limits-test", "DEBUG": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    visibility, stuck, lost, interval = json.loads(out)
    assert lost == 30  # 6 heartbeats
    assert interval == 15  # half of it
    assert stuck == 100 + 120
    assert visibility == 2 * 100 + 30 > stuck  # Redis never hands out a task that may still run
