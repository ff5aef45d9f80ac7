"""Celery tasks of the evaluation app: each takes an id and calls a service (no torch at import)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="evaluation.score_submission")
def score_submission(submission_id: int) -> str:
    """Queue "scoring": score a submission and store its Score; the entry ends scored or failed. Held with a
    heartbeat (submissions.services.recovery): a copy for an entry already held or finished does nothing."""
    from evaluation.services.scoring import submission_score
    from submissions.models import Submission
    from submissions.services.recovery import submission_hold

    with submission_hold(submission_id=submission_id, stage=Submission.Status.SCORING) as held:
        if not held:  # finished, or running elsewhere: its status as it stands
            return Submission.objects.filter(pk=submission_id).values_list("status", flat=True).first() or ""
        return submission_score(submission_id=submission_id)


@shared_task(name="evaluation.render_submission_audio")
def render_submission_audio(submission_id: int) -> int:
    """Queue "audio": render the audio and piano roll of an entry and of its outputs; returns how many."""
    from evaluation.services.rendering import submission_render_media

    return len(submission_render_media(submission_id=submission_id))


@shared_task(name="evaluation.train_realness_model", soft_time_limit=1200, time_limit=1300)
def train_realness_model(challenge_id: int) -> str:
    """Queue "training": train a challenge's realness model on its reference set (a few minutes on one core)."""
    from evaluation.services.realness_models import realness_model_train

    return realness_model_train(challenge_id=challenge_id)


@shared_task(name="evaluation.assign_judges_due", ignore_result=True)
def assign_judges_due() -> dict:
    """Beat: assign the judges of every challenge whose entries have closed (docs/judging.md)."""
    from evaluation.services.judging import judging_assign_due

    return judging_assign_due()


@shared_task(name="evaluation.rescore_challenge", soft_time_limit=3600, time_limit=3700)
def rescore_challenge(rescore_id: int) -> dict:
    """Queue "scoring": rescore every entry of a challenge with the current scorer, as one task (progress on its
    ChallengeRescore row); returns the report."""
    from evaluation.services.rescore_run import challenge_rescore_run

    return challenge_rescore_run(rescore_id=rescore_id)
@shared_task(name="evaluation.leaderboard_phases_due", ignore_result=True)
def leaderboard_phases_due() -> list:
    """Beat: a split Melody Harvest challenge that closed ranks on its private inputs from then on (issue 26)."""
    from evaluation.services.leaderboard import leaderboard_phases_due as due

    return due()


@shared_task(name="evaluation.audience_ratings_refresh", ignore_result=True)
def audience_ratings_refresh(challenge_id: int) -> int:
    """Queue "scoring": refit a large challenge's audience ratings after a vote (issue 26)."""
    from evaluation.services.pairs import audience_ratings_refresh as refresh

    return refresh(challenge_id=challenge_id)
