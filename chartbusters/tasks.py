"""Platform tasks: the periodic reaper and a database ping that proves a worker reaches the database."""

from __future__ import annotations

from celery import shared_task

from chartbusters import jobs


@shared_task(name="chartbusters.reap_stuck_jobs", ignore_result=True)
def reap_stuck_jobs_task() -> dict[str, int]:
    return jobs.reap_stuck_jobs()


@shared_task(name="chartbusters.ping_db", bind=True, ignore_result=True)
def ping_db_task(self, ping_id: int) -> None:
    from chartbusters.challenges.services.pings import worker_ping_answer

    worker_ping_answer(ping_id=ping_id, worker=self.request.hostname or "", queue=_delivery_queue(self.request))


def _delivery_queue(request) -> str:
    info = getattr(request, "delivery_info", None) or {}
    return str(info.get("routing_key") or info.get("queue") or "")
