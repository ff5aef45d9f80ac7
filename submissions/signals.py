"""``submission_changed``: sent when an entry's standing changes, so that other apps react without submissions
importing them.

submissions never imports evaluation (docs/design.md section 2). An app that keeps data derived from a submission (the
score, a precomputed leaderboard row) connects a receiver from its ``AppConfig.ready()``::

    submission_changed.connect(on_submission_event, sender=Submission, dispatch_uid="evaluation.submission_changed")
    # on_submission_event(sender, *, submission, event, **kwargs) -> None

Events (``SubmissionEvent``): "rerun" (back to queued; drop the old score), "disqualified", "requalified",
"failed", "scored". Receivers run inside the transaction that made the change, after the row is saved (``send``, not
``send_robust``), so a receiver that raises rolls the change back.
"""

from __future__ import annotations

from enum import StrEnum

from django.dispatch import Signal

from submissions.models import Submission


class SubmissionEvent(StrEnum):
    RERUN = "rerun"
    DISQUALIFIED = "disqualified"
    REQUALIFIED = "requalified"
    FAILED = "failed"
    SCORED = "scored"


submission_changed = Signal()


def submission_event_notify(*, submission: Submission, event: SubmissionEvent) -> None:
    """Send ``submission_changed`` (sender: the Submission model)."""
    submission_changed.send(sender=Submission, submission=submission, event=event)
