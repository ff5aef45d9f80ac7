"""Listeners for submission changes, so that other apps react without submissions importing them.

submissions never imports evaluation (docs/design.md section 2). An app that keeps data derived from a submission (the
score, a precomputed leaderboard row) registers a listener from its ``AppConfig.ready()``::

    from submissions.services.hooks import register_submission_listener
    register_submission_listener(my_listener)   # my_listener(*, submission, event) -> None

Events (``SubmissionEvent``): "rerun" (back to queued; drop the old score), "disqualified", "requalified",
"failed", "scored". Listeners run inside the transaction that made the change, after the row is saved, so a
listener that raises rolls the change back.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from submissions.models import Submission


class SubmissionEvent(StrEnum):
    RERUN = "rerun"
    DISQUALIFIED = "disqualified"
    REQUALIFIED = "requalified"
    FAILED = "failed"
    SCORED = "scored"


Listener = Callable[..., None]
_LISTENERS: dict[str, Listener] = {}


def register_submission_listener(fn: Listener) -> Listener:
    """Register ``fn(*, submission, event)``; registering the same function twice keeps one. Usable as a decorator."""
    _LISTENERS[f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"] = fn
    return fn


def submission_event_notify(*, submission: Submission, event: SubmissionEvent) -> None:
    for fn in list(_LISTENERS.values()):
        fn(submission=submission, event=event)
