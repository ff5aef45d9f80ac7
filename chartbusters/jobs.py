"""Registry of stuck-job reapers, run by the periodic task ``chartbusters.reap_stuck_jobs``.

``chartbusters`` never imports the apps that own job rows (submissions, generation). Each of them registers a
reaper from its ``AppConfig.ready()``::

    from chartbusters.jobs import register_reaper
    register_reaper(submission_fail_stuck)   # () -> int: how many jobs it failed

A reaper fails the jobs stuck past ``settings.JOB_STUCK_AFTER_SECONDS`` with an explanation, or runs again those
whose worker died (submissions.services.recovery), and returns their number; reapers run in the order registered.
One reaper failing does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Reaper = Callable[[], int]
_REAPERS: dict[str, Reaper] = {}


def _reaper_name(fn: Reaper) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def register_reaper(fn: Reaper) -> Reaper:
    """Register ``fn`` (idempotent: registering the same function twice keeps one). Usable as a decorator."""
    _REAPERS[_reaper_name(fn)] = fn
    return fn


def registered_reapers() -> list[Reaper]:
    return list(_REAPERS.values())


def reap_stuck_jobs() -> dict[str, int]:
    """Run every registered reaper; returns {reaper name: jobs failed} (-1 where the reaper raised)."""
    results: dict[str, int] = {}
    for name, fn in list(_REAPERS.items()):
        try:
            results[name] = int(fn() or 0)
        except Exception:
            logger.exception("Reaper %s raised", name)
            results[name] = -1
    total = sum(n for n in results.values() if n > 0)
    logger.info("Reaper: failed %d stuck job(s) (%s)", total, ", ".join(f"{k}={v}" for k, v in results.items()))
    return results
