"""The folders the embedded default writes to, created where they are first needed, never when settings load.

With nothing set, the database is a SQLite file and the Celery broker a set of folders, all under
``CHARTBUSTERS_VAR_DIR`` (``var/``). Importing the settings creates neither: ``manage.py`` creates them before any
command runs (``migrate`` makes the SQLite file), a Celery worker or beat when it starts, and a process that sends a
task just before it sends it (``chartbusters/celery.py``). Media folders are made by the storage as files are saved.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

BROKER_FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "data_folder_processed", "control_folder")


def local_folders() -> list[Path]:
    """The folders the configured database and broker need on this machine (none on PostgreSQL and Redis)."""
    folders = []
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:":
        folders.append(Path(database["NAME"]).parent)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        folders.extend(Path(options[name]) for name in BROKER_FOLDER_OPTIONS if name in options)
    return folders


def local_folders_create() -> None:
    for folder in local_folders():
        folder.mkdir(parents=True, exist_ok=True)
