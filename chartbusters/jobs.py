"""Stuck-job reaping, run by the periodic task ``chartbusters.reap_stuck_jobs``: it sends the signal
``chartbusters.signals.stuck_jobs_reap``.

``chartbusters`` never imports the apps that own job rows (submissions, generation). Each of them connects its
reaping services from its ``AppConfig.ready()``::

    stuck_jobs_reap.connect(reaper(submission_fail_stuck), weak=False, dispatch_uid="submissions-fail-stuck")

A reaper fails the jobs stuck past ``settings.JOB_STUCK_AFTER_SECONDS`` with an explanation, or runs again those
whose worker died (submissions.services.recovery), and returns their number; reapers run in the order connected.
One reaper failing does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from chartbusters.signals import stuck_jobs_reap

logger = logging.getLogger(__name__)


def reaper(run: Callable[[], int]) -> Callable[..., int]:
    """The receiver of ``stuck_jobs_reap`` that runs the reaping service ``run() -> int`` (jobs failed or rerun),
    named as the service (its count's key in ``reap_stuck_jobs``' result). Connect it with ``weak=False``."""

    def receiver(sender, **kwargs) -> int:
        return int(run() or 0)

    receiver.__module__, receiver.__name__ = run.__module__, run.__name__
    receiver.__qualname__ = run.__qualname__
    return receiver


def reap_stuck_jobs() -> dict[str, int]:
    """Send ``stuck_jobs_reap``; returns {reaper name: jobs failed}, in the order run (-1 where the reaper raised:
    ``send_robust`` logs its exception on the ``django.dispatch`` logger)."""
    results: dict[str, int] = {}
    for receiver, response in stuck_jobs_reap.send_robust(sender=None):
        name = f"{receiver.__module__}.{receiver.__qualname__}"
        results[name] = -1 if isinstance(response, Exception) else int(response or 0)
    total = sum(n for n in results.values() if n > 0)
    logger.info("Reaper: failed %d stuck job(s) (%s)", total, ", ".join(f"{k}={v}" for k, v in results.items()))
    return results
