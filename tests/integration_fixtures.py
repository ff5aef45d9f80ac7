"""A real Celery worker process for integration tests (imported by tests/conftest.py).

The worker runs ``celery -A chartbusters worker`` in a subprocess on the configured broker (Redis in CI, the
embedded filesystem transport otherwise) against the TEST database that pytest-django created, so tasks sent
by the code under test run for real. See the docstring of ``celery_worker_process`` for how to use it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKER_QUEUES = ("generation", "scoring", "audio", "training", "entries", "user-training")
READY_TIMEOUT_SECONDS = float(os.environ.get("CHARTBUSTERS_TEST_WORKER_READY_TIMEOUT", "120"))
T = TypeVar("T")


def wait_until(predicate: Callable[[], T], *, timeout: float = 60.0, interval: float = 0.2,
               message: str = "condition", on_timeout: Callable[[], str] | None = None) -> T:
    """Poll ``predicate`` until it returns something truthy (and return it); fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{on_timeout()}" if on_timeout else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {message}{extra}")
        time.sleep(interval)


@dataclass
class WorkerProcess:
    """The running worker: its process, its log file and the database and broker it uses."""

    process: subprocess.Popen
    log_path: Path
    database_name: str
    broker_url: str

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return "worker log (tail):\n" + "\n".join(self.log_text().splitlines()[-lines:])

    def assert_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"the Celery worker exited with code {self.process.returncode}\n{self.log_tail()}")

    def wait_for(self, predicate: Callable[[], T], *, timeout: float = 60.0, message: str = "the worker") -> T:
        """Like :func:`wait_until`, failing early if the worker died, with the worker's log in the message."""

        def check() -> T:
            self.assert_alive()
            return predicate()

        return wait_until(check, timeout=timeout, message=message, on_timeout=self.log_tail)


def purge_worker_queues() -> None:
    """Drop messages a previous run left on the broker (a shared Redis db may hold stale ones)."""
    from chartbusters.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in WORKER_QUEUES:
            with contextlib.suppress(Exception):  # the queue does not exist yet
                channel.queue_purge(queue)
        client = getattr(channel, "client", None)
        if client is not None and hasattr(channel, "unacked_key"):  # Redis: un-acked messages come back later
            client.delete(channel.unacked_key, channel.unacked_index_key)


def start_worker(*, database_name: str, log_path: Path, extra_env: dict[str, str] | None = None) -> WorkerProcess:
    from django.conf import settings

    env = {
        **os.environ,
        **(extra_env or {}),
        "DJANGO_SETTINGS_MODULE": "chartbusters.settings.test",
        "CHARTBUSTERS_TEST_DB_NAME": database_name,
        "CHARTBUSTERS_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    pool = os.environ.get("CHARTBUSTERS_TEST_WORKER_POOL", "solo")
    command = [
        sys.executable, "-m", "celery", "-A", "chartbusters", "worker",
        "-Q", ",".join(WORKER_QUEUES), "--concurrency", "1", "--pool", pool,
        "--hostname", f"pytest-{os.getpid()}@%h", "--loglevel", "INFO",
        "--without-mingle", "--without-gossip", "--without-heartbeat",
    ]
    ready_before = log_path.read_text(errors="replace").count(" ready.") if log_path.exists() else 0
    log_file = log_path.open("ab")  # a restarted worker adds to the log of the one it replaces
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                               start_new_session=True)
    log_file.close()
    worker = WorkerProcess(process=process, log_path=log_path, database_name=database_name,
                           broker_url=settings.CELERY_BROKER_URL)
    worker.wait_for(lambda: worker.log_text().count(" ready.") > ready_before, timeout=READY_TIMEOUT_SECONDS,
                    message="the Celery worker to be ready")
    return worker


def kill_worker(worker: WorkerProcess) -> None:
    """SIGKILL the worker and every process it started, as the out-of-memory killer or a lost machine would."""
    if worker.process.poll() is None:
        os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)


def restart_worker(worker: WorkerProcess, *, extra_env: dict[str, str] | None = None) -> None:
    """Start a fresh worker process in place of ``worker`` (killed or stopped), same database, broker and log."""
    stop_worker(worker)
    fresh = start_worker(database_name=worker.database_name, log_path=worker.log_path, extra_env=extra_env)
    worker.process = fresh.process


def stop_worker(worker: WorkerProcess) -> None:
    if worker.process.poll() is not None:
        return
    os.killpg(worker.process.pid, signal.SIGTERM)  # warm shutdown: the current task finishes
    try:
        worker.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[WorkerProcess]:
    """A real ``celery -A chartbusters worker`` subprocess on queues generation, scoring and audio.

    It uses the configured broker (Redis when CELERY_BROKER_URL is set, as in CI; the filesystem transport under
    the test session's CHARTBUSTERS_VAR_DIR otherwise), the test database pytest-django created (SQLite file or
    PostgreSQL test_<name>), the test settings and the same MEDIA_ROOT as the tests. Concurrency 1, pool
    ``solo`` (set CHARTBUSTERS_TEST_WORKER_POOL=prefork to test time limits or worker loss). Queues are purged
    before it starts; it is started once per test session (per xdist process) and stopped at the end.

    Usage::

        @pytest.mark.integration
        @pytest.mark.django_db(transaction=True)      # rows must be committed for the worker to see them
        def test_scored(celery_worker_process):
            submission = submission_create(...)       # sends its task with chartbusters.dispatch.send_task
            celery_worker_process.wait_for(
                lambda: Submission.objects.get(pk=submission.pk).status == "scored",
                timeout=60, message="the submission to be scored")

    ``wait_for`` fails at once with the worker's log if the worker died; ``celery_worker_process.log_text()``
    gives the whole log. Do not override MEDIA_ROOT or the database in such tests: the worker would not see it.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        database_name = str(connection.settings_dict["NAME"])
        purge_worker_queues()
    log_path = tmp_path_factory.mktemp("celery-worker") / "worker.log"
    worker = start_worker(database_name=database_name, log_path=log_path)
    try:
        yield worker
    finally:
        stop_worker(worker)
