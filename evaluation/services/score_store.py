"""Storing a submission's score with every part, and keeping its leaderboard row in step (docs/design.md section 5)."""

from __future__ import annotations

import math

from django.db import transaction
from django.utils import timezone

from evaluation.formula import RUBRIC, RUBRIC_MAX, RUBRIC_MIN, copy_penalized, mark_score
from evaluation.formula import final_score as final_formula
from evaluation.models import AudienceRating, Score
from evaluation.ranking import bootstrap_interval
from evaluation.services.leaderboard import audience_weight_of, leaderboard_entry_refresh
from submissions.models import Submission

SCORE_NOT_FINITE = "The automatic score must be a finite number between 0 and 100; got {value!r}."
RUBRIC_OUT_OF_RANGE = ("Each rubric mark ({names}) must be a whole number from {low} to {high}; got {value!r} for "
                       "{name}.")
NO_SCORE_TO_JUDGE = "Submission {submission_id} has no automatic score yet, so it cannot be judged."
NOT_FLAGGED = "Submission {submission_id} is not flagged as a copy, so there is no flag to clear."


def _per_judge(judges: list[dict]) -> list[float]:
    return [
        float(j["score"]) if j.get("score") is not None else mark_score(j) for j in judges
    ]


def judge_score(judges: list[dict]) -> float | None:
    """Mean judge score: each judge's score averaged over judges; None when nobody judged. A judge's score is
    ``"score"`` when given (raw or leniency-adjusted, as the organizers chose: evaluation.selectors.judging), else
    their rubric's judge score (evaluation.formula.mark_score: the raw score)."""
    if not judges:
        return None
    per_judge = _per_judge(judges)
    return sum(per_judge) / len(per_judge)


def judge_interval(judges: list[dict], *, seed: int = 0) -> list[float] | None:
    """95 % bootstrap interval of the mean judge score, resampling the entry's reviews (its judges) with
    replacement; None when nobody judged."""
    if not judges:
        return None
    return list(bootstrap_interval(_per_judge(judges), seed=seed))


def final_score(*, automatic: float, judges: list[dict], alpha: float, submission_id: int | None = None,
                challenge_id: int | None = None) -> float:
    """evaluation.formula.final_score with the entry's judges and, when the challenge counts the audience (beta >
    0), its audience rating."""
    audience, beta = None, 0.0
    if challenge_id is not None and submission_id is not None:
        beta = audience_weight_of(challenge_id=challenge_id)
        if beta > 0:
            audience = AudienceRating.objects.filter(submission_id=submission_id).values_list("rating",
                                                                                             flat=True).first()
    return final_formula(automatic=automatic, judge=judge_score(judges), audience=audience, alpha=alpha, beta=beta)


def _check_automatic(value: float) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or not 0.0 <= value <= 100.0:
        raise ValueError(SCORE_NOT_FINITE.format(value=value))


@transaction.atomic
def score_store(
    *,
    submission_id: int,
    automatic: float,
    style: float,
    realness: float,
    parts: dict,
    flagged_copy: bool = False,
    copy_penalty: float = 1.0,
    automatic_unpenalized: float | None = None,
    scorer_version: str = "",
) -> Score:
    """Create or replace (rerun) the score of a submission; judges' marks already given are kept, and so is an
    organizer's clearance of the copy flag (the penalty then does not apply)."""
    _check_automatic(automatic)
    submission = Submission.objects.select_related("challenge").get(pk=submission_id)
    previous = Score.objects.filter(submission_id=submission_id).values("parts", "copy_cleared_by",
                                                                         "copy_cleared_at").first()
    previous_parts = (previous or {}).get("parts") or {}
    judges = list(previous_parts.get("judges", []))
    judged = {k: previous_parts[k] for k in ("judge_score", "judge_scores") if k in previous_parts}
    unpenalized = automatic if automatic_unpenalized is None else automatic_unpenalized
    cleared = previous is not None and previous["copy_cleared_at"] is not None
    if cleared:
        automatic = unpenalized
    stored_parts = {**parts, **judged, "judges": judges}  # a rescore keeps the judges' part as it was
    score, _ = Score.objects.update_or_create(
        submission_id=submission_id,
        defaults={
            "challenge_id": submission.challenge_id,
            "automatic": automatic,
            "automatic_unpenalized": unpenalized,
            "copy_penalty": 1.0 if cleared else copy_penalty,
            "final": final_score(automatic=automatic, judges=judges, alpha=submission.challenge.alpha,
                                 submission_id=submission_id, challenge_id=submission.challenge_id),
            "style": style,
            "realness": realness,
            "parts": stored_parts,
            "flagged_copy": flagged_copy,
            "scorer_version": scorer_version,
        },
    )
    leaderboard_entry_refresh(challenge_id=submission.challenge_id, entrant_id=submission.entrant_id)
    return score


@transaction.atomic
def score_clear_copy_flag(*, submission_id: int, cleared_by) -> Score:
    """An organizer clears an entry's copy flag (who and when are recorded): the penalty no longer applies, the
    automatic and final scores and the leaderboard row follow. Raises ValueError when the entry is not flagged."""
    score = Score.objects.select_for_update().select_related("submission__challenge").filter(
        submission_id=submission_id
    ).first()
    if score is None or not score.flagged_copy:
        raise ValueError(NOT_FLAGGED.format(submission_id=submission_id))
    unpenalized = score.automatic_unpenalized if score.automatic_unpenalized is not None else score.automatic
    score.automatic = copy_penalized(unpenalized, 1.0)
    score.copy_penalty = 1.0
    score.copy_cleared_by = cleared_by
    score.copy_cleared_at = timezone.now()
    score.parts = {**score.parts, "copy_penalty": 1.0, "automatic": score.automatic,
                   "copy_cleared": {"by": cleared_by.get_username(), "at": score.copy_cleared_at.isoformat()}}
    score.final = final_score(automatic=score.automatic, judges=score.parts.get("judges", []),
                              alpha=score.submission.challenge.alpha, submission_id=submission_id,
                              challenge_id=score.challenge_id)
    score.save()
    leaderboard_entry_refresh(challenge_id=score.challenge_id, entrant_id=score.submission.entrant_id)
    return score


@transaction.atomic
def score_record_judging(*, submission_id: int, judges: list[dict], mode: str = "raw") -> Score:
    """Store every judge's rubric ({"judge": id, "originality", "balance", "emotion": 1-5, "comment", and "score":
    the judge score used, raw or leniency-adjusted as ``mode`` says}) and the final score that follows from it;
    the leaderboard row follows."""
    for judge in judges:
        for name in RUBRIC:
            value = judge.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or not RUBRIC_MIN <= value <= RUBRIC_MAX:
                raise ValueError(RUBRIC_OUT_OF_RANGE.format(names=", ".join(RUBRIC), low=RUBRIC_MIN, high=RUBRIC_MAX,
                                                            value=value, name=name))
    score = Score.objects.select_for_update().select_related("submission__challenge").filter(
        submission_id=submission_id
    ).first()
    if score is None:
        raise ValueError(NO_SCORE_TO_JUDGE.format(submission_id=submission_id))
    score.parts = {**score.parts, "judges": list(judges), "judge_score": judge_score(judges), "judge_scores": mode,
                   "judge_interval": judge_interval(judges, seed=submission_id)}
    score.final = final_score(
        automatic=score.automatic, judges=judges, alpha=score.submission.challenge.alpha,
        submission_id=submission_id, challenge_id=score.challenge_id,
    )
    score.save(update_fields=["parts", "final", "updated_at"])
    leaderboard_entry_refresh(challenge_id=score.challenge_id, entrant_id=score.submission.entrant_id)
    return score
