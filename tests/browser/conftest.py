"""Browser tests: Playwright driving Debian's Chromium (headless), against pytest-django's live server.

The Playwright browser download is not reachable here, so the browser is the system's Chromium, launched by path
(``CHROMIUM_PATH``, else ``chromium`` / ``chromium-browser`` on PATH; ``apt-get install chromium`` installs it). The
tests skip, saying why, only when Playwright or Chromium is missing. Screenshots go to
``var/test-artifacts/browser/`` (``BROWSER_ARTIFACTS_DIR``).

Studio jobs run on one worker thread of the test process (the real ``generation.services.running.job_run``: the
shipped models, audio rendering), in the order they are queued, as a generation worker with concurrency 1 would.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS_DIR", REPO / "var" / "test-artifacts" / "browser"))


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for this module. Playwright's sync API keeps an event loop on this thread while it
    runs, so Django's async-safety check is lifted for that time (the tests' ORM calls are synchronous)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install playwright): browser tests skipped")
    path = chromium_path()
    if path is None:
        pytest.skip("No Chromium found (apt-get install chromium, or set CHROMIUM_PATH): browser tests skipped")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=path, headless=True,
                                        args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"])
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def studio_worker(monkeypatch):
    """Runs queued studio jobs on a background thread once their transaction commits; the entries' scoring tasks
    are dropped (there is no scoring worker here)."""
    from django.db import close_old_connections, transaction

    from generation.services.running import job_run

    jobs: queue.Queue = queue.Queue()

    def work():
        while (job_id := jobs.get()) is not None:
            try:
                job_run(job_id=job_id)
            finally:
                close_old_connections()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()

    def fake_send(name, *, args=(), queue=None, countdown=None):
        if name == "generation.run_job":
            transaction.on_commit(lambda: jobs.put(args[0]))

    monkeypatch.setattr("generation.services.jobs.send_task", fake_send)
    monkeypatch.setattr("submissions.services.intake.send_task", lambda *a, **k: None)
    yield
    jobs.put(None)
    thread.join(timeout=60)
