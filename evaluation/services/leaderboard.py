"""The precomputed leaderboard table: one row per (challenge, entrant) holding that entrant's best ranked entry.

A submission is *ranked* when it is scored, has a Score and is not disqualified (DESIGN section 6). The best one of
an entrant is the highest final score; equal scores go to the earlier submission (then the lower id).
Every refresh recomputes the entrant's row from SQL, so it is right whatever happened before (a new score, a rerun,
a disqualification, a judged score). Refreshes of one challenge are serialised by a lock on its row.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import Exists, OuterRef

from chartbusters.challenges.models import Challenge
from evaluation.models import JudgeAssignment, LeaderboardEntry, LeaderboardVersion, Score
from submissions.models import Submission


def ranked_scores(*, challenge_id: int):
    """Scores that may rank: scored, not disqualified, in this challenge."""
    return Score.objects.filter(
        challenge_id=challenge_id,
        submission__status=Submission.Status.SCORED,
        submission__disqualified=False,
    )


def _in_judging():
    """The entry was given to judges: it stays its entrant's row (their other entries were not judged, so their
    automatic score cannot be compared with a final score)."""
    return Exists(JudgeAssignment.objects.filter(submission_id=OuterRef("submission_id")))


BEST_ORDER = ("-in_judging", "-final", "submission__created_at", "submission_id")


def _best_score(*, challenge_id: int, entrant_id: int) -> Score | None:
    return (
        ranked_scores(challenge_id=challenge_id)
        .filter(submission__entrant_id=entrant_id)
        .annotate(in_judging=_in_judging())
        .select_related("submission")
        .order_by(*BEST_ORDER)
        .first()
    )


def leaderboard_version_bump(*, challenge_id: int) -> str:
    """A new cache token for the challenge's leaderboard pages (inside the caller's transaction)."""
    token = uuid.uuid4().hex
    if not LeaderboardVersion.objects.filter(challenge_id=challenge_id).update(token=token):
        LeaderboardVersion.objects.update_or_create(challenge_id=challenge_id, defaults={"token": token})
    return token


@transaction.atomic
def leaderboard_entry_refresh(*, challenge_id: int, entrant_id: int) -> LeaderboardEntry | None:
    """Recompute one entrant's leaderboard row; deletes it when the entrant has no ranked entry left."""
    # Lock the challenge row, as the submissions lifecycle services already do (they lock submission, challenge and
    # entrant in one statement): one lock order everywhere (challenge, then the version row), so refreshes of one
    # challenge run one after the other and never deadlock with a lifecycle change.
    list(Challenge.objects.select_for_update().filter(pk=challenge_id).values_list("pk", flat=True))
    best = _best_score(challenge_id=challenge_id, entrant_id=entrant_id)
    leaderboard_version_bump(challenge_id=challenge_id)
    if best is None:
        LeaderboardEntry.objects.filter(challenge_id=challenge_id, entrant_id=entrant_id).delete()
        return None
    entry, _ = LeaderboardEntry.objects.update_or_create(
        challenge_id=challenge_id,
        entrant_id=entrant_id,
        defaults={
            "submission_id": best.submission_id,
            "score": best.final,
            "automatic": best.automatic,
            "submitted_at": best.submission.created_at,
            "judged": bool(best.parts.get("judges")),
            "judge_score": best.parts.get("judge_score") if best.parts.get("judges") else None,
        },
    )
    return entry


def leaderboard_refresh_submission(*, submission_id: int) -> LeaderboardEntry | None:
    """Refresh the row of the entrant who owns this submission (after a score, rerun, disqualify or failure)."""
    row = Submission.objects.filter(pk=submission_id).values("challenge_id", "entrant_id").first()
    if row is None:
        return None
    return leaderboard_entry_refresh(challenge_id=row["challenge_id"], entrant_id=row["entrant_id"])


@transaction.atomic
def leaderboard_rebuild(*, challenge_id: int) -> int:
    """Rebuild a challenge's whole table from SQL (repair, or after bulk changes); returns the number of rows."""
    leaderboard_version_bump(challenge_id=challenge_id)
    LeaderboardEntry.objects.filter(challenge_id=challenge_id).delete()
    best_by_entrant: dict[int, Score] = {}
    scores = (
        ranked_scores(challenge_id=challenge_id)
        .select_related("submission")
        .annotate(in_judging=_in_judging())
        .order_by("submission__entrant_id", *BEST_ORDER)
        .only("submission_id", "final", "automatic", "parts", "submission__entrant_id", "submission__created_at")
    )
    for score in scores.iterator(chunk_size=2000):
        best_by_entrant.setdefault(score.submission.entrant_id, score)
    LeaderboardEntry.objects.bulk_create(
        [
            LeaderboardEntry(
                challenge_id=challenge_id,
                entrant_id=entrant_id,
                submission_id=best.submission_id,
                score=best.final,
                automatic=best.automatic,
                submitted_at=best.submission.created_at,
                judged=bool(best.parts.get("judges")),
                judge_score=best.parts.get("judge_score") if best.parts.get("judges") else None,
            )
            for entrant_id, best in best_by_entrant.items()
        ],
        batch_size=1000,
    )
    return len(best_by_entrant)
