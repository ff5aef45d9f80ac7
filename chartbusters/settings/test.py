"""Tests: the database and broker from the environment (PostgreSQL + Redis in CI), SQLite otherwise."""

import os
import tempfile

os.environ.setdefault("DEBUG", "0")
# One torch thread in tests and their worker process: on 2 shared cores, two OpenMP threads stall each other.
# torch reads it when first imported, which is after settings load.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
if "CHARTBUSTERS_VAR_DIR" not in os.environ:  # the test session's own folder; its worker processes are given it
    os.environ["CHARTBUSTERS_VAR_DIR"] = tempfile.mkdtemp(prefix="chartbusters-test-")

from chartbusters.settings.base import *  # noqa: F403
from chartbusters.settings.environment import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not :memory:, so that a real worker process sees the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405

# The real Celery worker that tests start (tests/conftest.py: celery_worker_process) must use the test
# database pytest-django created, not the default one: the fixture passes its name here.
_TEST_DB_NAME = env.str("CHARTBUSTERS_TEST_DB_NAME", default="")
if _TEST_DB_NAME:
    DATABASES["default"]["NAME"] = _TEST_DB_NAME  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": _TEST_DB_NAME}  # noqa: F405

# Under pytest-xdist each test process has its own worker: keep their messages apart (the folders are created when
# first needed, chartbusters/folders.py).
_XDIST_WORKER = env.str("PYTEST_XDIST_WORKER", default="")
if _XDIST_WORKER and CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    _folder = BROKER_DIR.parent / f"broker-{_XDIST_WORKER}"  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "data_folder_in": str(_folder / "out"),
        "data_folder_out": str(_folder / "out"),
        "data_folder_processed": str(_folder / "processed"),
        "control_folder": str(_folder / "control"),
    }
elif _XDIST_WORKER and CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": f"{_XDIST_WORKER}:"}
if CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
    # Redis looks for messages past their visibility timeout every second (default: about every 100 s), so that a
    # test sees a dead worker's message handed out again (tests/submissions/test_recovery_integration.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

# Rate-limit counters in the test database whatever the broker: each test's transaction rolls them back.
CACHES["ratelimit"] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "chartbusters_cache",
    "OPTIONS": {"MAX_ENTRIES": 1_000_000},
}
