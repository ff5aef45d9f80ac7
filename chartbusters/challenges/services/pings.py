"""Worker pings: a row the ``chartbusters.ping_db`` task answers, proving a worker reached this database."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from chartbusters.challenges.models import Challenge, WorkerPing
from chartbusters.dispatch import send_task

PING_TASK = "chartbusters.ping_db"


@transaction.atomic
def worker_ping_send(*, challenge: Challenge | None = None, queue: str = "scoring") -> WorkerPing:
    """Create a ping and queue the task on ``queue`` once the row is committed."""
    ping = WorkerPing.objects.create(challenge=challenge)
    send_task(PING_TASK, args=(ping.pk,), queue=queue)
    return ping


@transaction.atomic
def worker_ping_answer(*, ping_id: int, worker: str, queue: str) -> WorkerPing:
    """Called by the worker: record who answered, from which queue, and the challenge title it read."""
    ping = WorkerPing.objects.select_for_update(of=("self",)).select_related("challenge").get(pk=ping_id)
    ping.answered_at = timezone.now()
    ping.worker = worker[:200]
    ping.queue = queue[:50]
    ping.challenge_title = ping.challenge.title if ping.challenge else ""
    ping.save(update_fields=["answered_at", "worker", "queue", "challenge_title"])
    return ping
