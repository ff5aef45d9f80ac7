"""Celery tasks of the evaluation app: each takes an id and calls a service (no torch at import)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="evaluation.score_submission")
def score_submission(submission_id: int) -> str:
    """Queue "scoring": score a submission and store its Score; the entry ends scored or failed."""
    from evaluation.services.scoring import submission_score

    return submission_score(submission_id=submission_id)


@shared_task(name="evaluation.render_submission_audio")
def render_submission_audio(submission_id: int) -> int:
    """Queue "audio": render the audio and piano roll of an entry and of its outputs; returns how many."""
    from evaluation.services.rendering import submission_render_media

    return len(submission_render_media(submission_id=submission_id))


@shared_task(name="evaluation.train_realness_model", soft_time_limit=1200, time_limit=1300)
def train_realness_model(challenge_id: int) -> str:
    """Queue "generation": train a challenge's realness model on its reference set (a few minutes on one core)."""
    from evaluation.services.realness_models import realness_model_train

    return realness_model_train(challenge_id=challenge_id)
