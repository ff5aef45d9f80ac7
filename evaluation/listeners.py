"""Keeps evaluation's derived data in step with submission and reference-set changes (registered in
EvaluationConfig.ready()).

submissions never imports evaluation; it sends ``submissions.signals.submission_changed``, received here inside
the transaction that made the change. A rerun drops the old score (a new one lands when scoring ends); every
event recomputes the entrant's leaderboard row, so a disqualified best entry gives way to the next best.
"""

from __future__ import annotations

from evaluation.models import Score
from evaluation.services.leaderboard import leaderboard_entry_refresh
from submissions.models import Submission
from submissions.signals import SubmissionEvent


def on_submission_event(sender, *, submission: Submission, event: str, **kwargs) -> None:
    if event == SubmissionEvent.RERUN:
        Score.objects.filter(submission_id=submission.pk).delete()
    leaderboard_entry_refresh(challenge_id=submission.challenge_id, entrant_id=submission.entrant_id)


def on_reference_file_change(sender, instance, **kwargs) -> None:
    """A reference file was saved or deleted (admin, bundle or shell): queue the challenge's realness model."""
    from evaluation.services.realness_models import realness_model_request

    realness_model_request(challenge_id=instance.challenge_id)



def on_judges_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Challenge.judges changed (``.remove()``, ``.clear()``, either side): each judge who left a challenge has
    their reviews not yet submitted given to other judges (Django sends no delete signals for these rows)."""
    if action == "pre_clear":
        through = sender.objects.filter(**({"user_id": instance.pk} if reverse else {"challenge_id": instance.pk}))
        instance._judges_cleared = list(through.values_list("challenge_id", "user_id"))
        return
    if action == "post_clear":
        pairs = getattr(instance, "_judges_cleared", [])
    elif action == "post_remove":
        pairs = [(pk, instance.pk) if reverse else (instance.pk, pk) for pk in (pk_set or ())]
    else:
        return
    judges_left(pairs=pairs)


def judges_left(*, pairs) -> None:
    from evaluation.services.judging import judging_judges_left

    judging_judges_left(pairs=pairs)


def on_ranking_settings_saved(sender, instance, **kwargs) -> None:
    """The audience's share (beta) changed: final scores and the board follow, after the commit."""
    from django.db import transaction

    from evaluation.services.leaderboard import leaderboard_audience_refresh

    transaction.on_commit(lambda: leaderboard_audience_refresh(challenge_id=instance.challenge_id, everything=True))
