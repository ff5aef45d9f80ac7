"""The Celery app. Queues: generation, scoring, audio (docs/design.md section 2)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")

app = Celery("chartbusters")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each installed app's tasks module, and chartbusters/tasks.py (the project package is not an installed app).
app.autodiscover_tasks()
app.autodiscover_tasks(["chartbusters"])


@signals.celeryd_init.connect
@signals.beat_init.connect
@signals.before_task_publish.connect
def _create_local_folders(**_kwargs) -> None:
    """The embedded default's broker (and SQLite) folders, made when a worker or beat starts and before a task is
    sent, not when settings load (chartbusters/folders.py)."""
    from chartbusters.folders import local_folders_create

    local_folders_create()


@signals.worker_init.connect
def _one_torch_thread_per_process(**_kwargs) -> None:
    """Run one worker process per core, each model on one thread: on a shared 2-core machine the AR-CNN takes
    1.5 s for 100 iterations on one thread and ~45 s on two contended ones. torch reads OMP_NUM_THREADS when it
    is first imported (in a task), so setting it here imports nothing. CHARTBUSTERS_TORCH_THREADS overrides."""
    os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("CHARTBUSTERS_TORCH_THREADS", "1"))
