"""The Celery app. Queues: generation, scoring, audio (DESIGN section 2)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")

app = Celery("chartbusters")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each installed app's tasks module, and chartbusters/tasks.py (the project package is not an installed app).
app.autodiscover_tasks()
app.autodiscover_tasks(["chartbusters"])
