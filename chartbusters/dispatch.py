"""The one place that sends work to the workers.

Every app hands work over through :func:`send_task`, by task *name*, so the sender never imports the
receiver (submissions never imports evaluation) and unit tests patch this one function. The message
goes out only after the surrounding transaction commits, so a worker never sees a row that is not there.
"""

from __future__ import annotations

from django.db import transaction


def send_task(name: str, *, args: tuple = (), queue: str, countdown: float | None = None) -> None:
    """Queue task ``name`` on ``queue`` once the current transaction commits."""
    from chartbusters.celery import app

    def _send() -> None:
        app.send_task(name, args=args, queue=queue, countdown=countdown)

    transaction.on_commit(_send)
