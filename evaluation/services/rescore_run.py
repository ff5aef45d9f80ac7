"""Rescoring every entry of a challenge, the worker side (imports the scorer, so torch): see
evaluation.services.rescoring for what it does and the web side."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from chartbusters.errors import ApplicationError
from evaluation.automatic import ScoringError, load_pieces, score_pieces
from evaluation.models import ChallengeRescore, LeaderboardEntry, Score
from evaluation.reference import reference_stats_refresh
from evaluation.scorer import current_scorer_version
from evaluation.services.leaderboard import leaderboard_version_bump
from evaluation.services.rescoring import MANUAL_REASON, RUNNING_ELSEWHERE
from evaluation.services.scoring import NothingToScoreError, local_copies, midi_files_of, submission_score_store
from submissions.models import Submission

logger = logging.getLogger(__name__)

PRINTED_DECIMALS = 1  # the leaderboard prints scores with one decimal (floatformat:1)
NO_SCORE_REASON = "scoring did not finish ({status})"


def _board(challenge_id: int) -> dict[int, tuple[int, float]]:
    """submission id -> (rank, score) of the ranked rows, in the leaderboard's order."""
    rows = LeaderboardEntry.objects.filter(challenge_id=challenge_id).order_by(
        "-score", "submitted_at", "submission_id"
    )
    return {sid: (i + 1, score) for i, (sid, score) in enumerate(rows.values_list("submission_id", "score"))}


def _printed(value: float | None) -> float | None:
    return None if value is None else round(float(value), PRINTED_DECIMALS)


def _set(row_id: int, **fields) -> None:
    ChallengeRescore.objects.filter(pk=row_id).update(**fields)


def challenge_rescore_run(
    *, rescore_id: int, on_progress: Callable[[int, int], None] | None = None, apply: bool | None = None
) -> dict:
    """Rescore every scored entry of the row's challenge; returns the report (also stored on the row). ``apply``
    (default: unless the results are published) keeps the new scores; otherwise they are computed and compared in a
    transaction that is rolled back, so that published results are verified, never changed."""
    row = ChallengeRescore.objects.select_related("challenge").get(pk=rescore_id)
    challenge = row.challenge
    apply = not challenge.results_published if apply is None else apply
    _set(row.pk, status=ChallengeRescore.Status.RUNNING, started_at=timezone.now(), done=0, progress=0, error="")
    try:
        with transaction.atomic():
            report = _rescore(challenge=challenge, row_id=row.pk, on_progress=on_progress)
            report["applied"] = apply
            if not apply:
                transaction.set_rollback(True)
    except Exception as exc:
        logger.exception("Rescoring challenge %s failed", challenge.pk)
        _set(
            row.pk,
            status=ChallengeRescore.Status.FAILED,
            finished_at=timezone.now(),
            error=f"Rescoring stopped because of an internal error ({type(exc).__name__}); it has been logged.",
        )
        leaderboard_version_bump(challenge_id=challenge.pk)
        raise
    _set(
        row.pk,
        status=ChallengeRescore.Status.DONE,
        finished_at=timezone.now(),
        progress=100,
        total=report["entries"],
        done=report["entries"],
        scorer_version=report["scorer_version"],
        report=report,
    )
    leaderboard_version_bump(challenge_id=challenge.pk)
    return report


def _rescore(*, challenge, row_id: int, on_progress) -> dict:
    entries = list(
        Submission.objects.filter(challenge=challenge, status=Submission.Status.SCORED)
        .select_related("entrant")
        .order_by("pk")
    )
    before_board = _board(challenge.pk)
    before = {
        s["submission_id"]: s
        for s in Score.objects.filter(challenge=challenge).values(
            "submission_id", "automatic", "final", "scorer_version", "parts__scorer"
        )
    }
    reference_stats_refresh(challenge=challenge)  # figures of older metrics are measured again, once
    _set(row_id, total=len(entries))
    kept: list[dict] = []
    for i, submission in enumerate(entries):
        try:
            with local_copies(midi_files_of(submission)) as paths:
                pms = load_pieces(paths)
            result = score_pieces(pms, challenge=challenge, exclude_submission_id=submission.pk)
        except (ScoringError, NothingToScoreError) as exc:
            kept.append(
                {"submission": submission.pk, "entrant": submission.entrant.get_username(), "reason": exc.message}
            )
            continue
        finally:
            _set(row_id, done=i + 1, progress=int(100 * (i + 1) / max(len(entries), 1)))
            if on_progress is not None:
                on_progress(i + 1, len(entries))
        submission_score_store(submission=submission, result=result, pms=pms)
    return _report(
        challenge=challenge,
        before=before,
        before_board=before_board,
        kept=kept,
        version=current_scorer_version(challenge),
    )


def _report(*, challenge, before: dict, before_board: dict, kept: list[dict], version: str) -> dict:
    after = {
        s["submission_id"]: s
        for s in Score.objects.filter(challenge=challenge).values(
            "submission_id", "automatic", "final", "scorer_version", "parts__scorer"
        )
    }
    after_board = _board(challenge.pk)
    changed = []
    for sid in sorted(set(before) | set(after) | set(before_board) | set(after_board)):
        b, a = before.get(sid) or {}, after.get(sid) or {}
        old = (_printed(b.get("final")), _printed(b.get("automatic")), before_board.get(sid, (None,))[0])
        new = (_printed(a.get("final")), _printed(a.get("automatic")), after_board.get(sid, (None,))[0])
        if old != new:
            changed.append(
                {
                    "submission": sid,
                    "final": [old[0], new[0]],
                    "automatic": [old[1], new[1]],
                    "rank": [old[2], new[2]],
                    "scorer_before": b.get("parts__scorer") or {},
                    "version_before": b.get("scorer_version", ""),
                }
            )
    unranked = [
        {
            "submission": s.pk,
            "entrant": s.entrant.get_username(),
            "status": s.status,
            "reason": s.error or NO_SCORE_REASON.format(status=s.get_status_display().lower()),
        }
        for s in Submission.objects.filter(challenge=challenge, disqualified=False)
        .exclude(status=Submission.Status.SCORED)
        .select_related("entrant")
        .order_by("pk")
    ]
    versions_before = sorted({b.get("scorer_version") or "(none recorded)" for b in before.values()})
    return {
        "challenge": challenge.slug,
        "scorer_version": version,
        "versions_before": versions_before,
        "entries": len(after),
        "ranked": len(after_board),
        "changed": changed,
        "kept": kept,
        "unranked": unranked,
        "no_change": not changed and not kept,
    }


def challenge_rescore(
    *,
    challenge_id: int,
    reason: str = MANUAL_REASON,
    by=None,
    on_progress: Callable[[int, int], None] | None = None,
    apply: bool | None = None,
) -> dict:
    """Rescore now, in this process (``manage.py rescore``): refused while another rescoring is queued or runs."""
    active = ChallengeRescore.objects.filter(challenge_id=challenge_id, status__in=ChallengeRescore.ACTIVE).first()
    if active is not None:
        raise ApplicationError(
            "rescoring", RUNNING_ELSEWHERE.format(challenge=active.challenge.title, status=active.status), status=409
        )
    row = ChallengeRescore.objects.create(
        challenge_id=challenge_id, reason=reason, requested_by=by, status=ChallengeRescore.Status.RUNNING
    )
    return challenge_rescore_run(rescore_id=row.pk, on_progress=on_progress, apply=apply)
