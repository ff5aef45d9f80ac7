"""The precomputed leaderboard table: one row per (challenge, entrant) holding that entrant's best ranked entry.

A submission is *ranked* when it is scored, has a Score and is not disqualified (docs/design.md §6). The best one of
an entrant is the highest final score; equal scores go to the earlier submission (then the lower id).
Every refresh recomputes the entrant's row from SQL, so it is right whatever happened before (a new score, a rerun,
a disqualification, a judged score). Refreshes of one challenge are serialised by a lock on its row.

Issue 26: the row also carries the score's 95 % interval (from the judges' bootstrap interval and the audience
rating's interval, through the one final-score formula), the audience rating, and the stored rank with its shared
range (``rank_low``-``rank_high``: a run of neighbours whose intervals overlap), recomputed for the whole challenge
by one SQL statement (``leaderboard_ranks_refresh``) whenever a row changes, so reads never rank in Python.
"""

from __future__ import annotations

import uuid

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from chartbusters.challenges.models import Challenge
from evaluation.formula import final_score
from evaluation.models import (
    AudienceRating,
    JudgeAssignment,
    LeaderboardEntry,
    LeaderboardVersion,
    RankingSettings,
    Score,
)
from evaluation.services.input_split import final_entries_of, private_scores, split_phase
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


def leaderboard_version_bump(*, challenge_id: int, phase: str | None = None) -> str:
    """A new cache token for the challenge's leaderboard pages (inside the caller's transaction); ``phase``: the
    part a rebuilt table ranks on."""
    token = uuid.uuid4().hex
    values = {"token": token} if phase is None else {"token": token, "phase": phase}
    if not LeaderboardVersion.objects.filter(challenge_id=challenge_id).update(**values):
        LeaderboardVersion.objects.update_or_create(challenge_id=challenge_id, defaults=values)
    return token


@transaction.atomic
def leaderboard_entry_refresh(*, challenge_id: int, entrant_id: int) -> LeaderboardEntry | None:
    """Recompute one entrant's leaderboard row; deletes it when the entrant has no ranked entry left."""
    # Lock the challenge row, as the submissions lifecycle services already do (they lock submission, challenge and
    # entrant in one statement): one lock order everywhere (challenge, then the version row), so refreshes of one
    # challenge run one after the other and never deadlock with a lifecycle change.
    list(Challenge.objects.select_for_update().filter(pk=challenge_id).values_list("pk", flat=True))
    leaderboard_version_bump(challenge_id=challenge_id)
    entry = _entry_row_refresh(challenge_id=challenge_id, entrant_id=entrant_id)
    leaderboard_ranks_refresh(challenge_id=challenge_id)
    return entry


def _entry_row_refresh(*, challenge_id: int, entrant_id: int) -> LeaderboardEntry | None:
    challenge = Challenge.objects.only("alpha", "closes_at").get(pk=challenge_id)
    automatic = None
    if split_phase(challenge=challenge) == "private":
        best, automatic = _private_best(challenge_id=challenge_id, entrant_id=entrant_id)
    else:
        best = _best_score(challenge_id=challenge_id, entrant_id=entrant_id)
    if best is None:
        LeaderboardEntry.objects.filter(challenge_id=challenge_id, entrant_id=entrant_id).delete()
        return None
    rating = AudienceRating.objects.filter(submission_id=best.submission_id).first()
    entry, _ = LeaderboardEntry.objects.update_or_create(
        challenge_id=challenge_id,
        entrant_id=entrant_id,
        defaults=_row_values(best, alpha=challenge.alpha, beta=audience_weight_of(challenge_id=challenge_id),
                             rating=rating, automatic=automatic),
    )
    return entry


def _private_best(*, challenge_id: int, entrant_id: int) -> tuple[Score | None, float | None]:
    """After the close of a split challenge: the entrant's final entries (marked, else best N on the public part);
    the one given to judges, else the best on the private inputs (then the earlier entry). (score, private mean)."""
    ranked = list(
        ranked_scores(challenge_id=challenge_id).filter(submission__entrant_id=entrant_id)
        .annotate(in_judging=_in_judging()).select_related("submission")
        .order_by("-automatic", "submission__created_at", "submission_id")
    )
    candidates = final_entries_of(challenge_id=challenge_id, entrant_id=entrant_id, ranked=ranked)
    private = private_scores(submission_ids=[s.submission_id for s in candidates])
    candidates = [s for s in candidates if s.submission_id in private]
    if not candidates:
        return None, None
    best = min(candidates, key=lambda s: (not s.in_judging, -private[s.submission_id], s.submission.created_at,
                                          s.submission_id))
    return best, private[best.submission_id]


def leaderboard_phase_sync(*, challenge_id: int) -> bool:
    """A split Melody Harvest challenge ranks on its public inputs while open and on its private ones once closed:
    rebuild its table when the part changed (the periodic task, and before judges are assigned). True if rebuilt."""
    challenge = Challenge.objects.only("closes_at").get(pk=challenge_id)
    phase = split_phase(challenge=challenge)
    stored = LeaderboardVersion.objects.filter(challenge_id=challenge_id).values_list("phase", flat=True).first()
    if phase == (stored or ""):
        return False
    leaderboard_rebuild(challenge_id=challenge_id)
    return True


def leaderboard_phases_due() -> list[str]:
    """The periodic task: every split challenge whose table ranks on the wrong part is rebuilt; returns slugs."""
    split = Challenge.objects.filter(input_melodies__role="private").distinct()
    return [c.slug for c in split if leaderboard_phase_sync(challenge_id=c.pk)]


@transaction.atomic
def leaderboard_audience_refresh(*, challenge_id: int, everything: bool = False) -> int:
    """The audience ratings changed (a vote): when they count (beta > 0) the final scores of the entries concerned
    follow (evaluation.formula.final_score); the rows of the entrants concerned are recomputed and the challenge
    re-ranked. ``everything``: beta changed, so every rated entry's final score is recomputed whatever beta is now
    (the ratings may have been counted before). Returns the rows refreshed."""
    list(Challenge.objects.select_for_update().filter(pk=challenge_id).values_list("pk", flat=True))
    leaderboard_version_bump(challenge_id=challenge_id)
    alpha = Challenge.objects.values_list("alpha", flat=True).get(pk=challenge_id)
    beta = audience_weight_of(challenge_id=challenge_id)
    ratings = dict(AudienceRating.objects.filter(challenge_id=challenge_id).values_list("submission_id", "rating"))
    shown = set(LeaderboardEntry.objects.filter(challenge_id=challenge_id, audience__isnull=False)
                .values_list("submission_id", flat=True))
    concerned = set(ratings) | shown
    if everything:
        concerned |= set(Score.objects.filter(challenge_id=challenge_id).values_list("submission_id", flat=True))
    scores = list(Score.objects.filter(submission_id__in=concerned).select_related("submission"))
    if beta > 0 or everything:
        for score in scores:
            judge = score.parts.get("judge_score") if score.parts.get("judges") else None
            score.final = final_score(automatic=score.automatic, judge=judge,
                                      audience=ratings.get(score.submission_id), alpha=alpha, beta=beta)
        Score.objects.bulk_update(scores, ["final"], batch_size=500)
    if everything:  # every row may move: one bulk rebuild
        return leaderboard_rebuild(challenge_id=challenge_id)
    entrants = {score.submission.entrant_id for score in scores}
    for entrant_id in entrants:
        _entry_row_refresh(challenge_id=challenge_id, entrant_id=entrant_id)
    leaderboard_ranks_refresh(challenge_id=challenge_id)
    return len(entrants)


def audience_weight_of(*, challenge_id: int) -> float:
    """beta: the audience rating's share of the final score (RankingSettings; 0 without a row)."""
    found = RankingSettings.objects.filter(challenge_id=challenge_id).values_list("audience_weight", flat=True).first()
    return float(found or 0.0)


def _row_values(best: Score, *, alpha: float, beta: float, rating: AudienceRating | None,
                automatic: float | None = None) -> dict:
    """The row's columns from the entrant's best score and its audience rating. The score's interval: the final-score
    formula at the low and at the high ends of the judges' interval (``parts["judge_interval"]``, a bootstrap over
    judges and reviews) and of the audience rating's interval (when beta > 0); null when no part is uncertain."""
    judged = bool(best.parts.get("judges"))
    judge = best.parts.get("judge_score") if judged else None
    score = best.final
    if automatic is None:
        automatic = best.automatic
    else:  # a split challenge after its close: the private inputs' score in the formula
        score = final_score(automatic=automatic, judge=judge, audience=rating.rating if rating and beta > 0 else None,
                            alpha=alpha, beta=beta)
    judge_interval = best.parts.get("judge_interval") if judged else None
    counted = rating is not None and beta > 0
    low = high = None
    if judge_interval or counted:
        ends = []
        for k in (0, 1):
            j = judge_interval[k] if judge_interval else judge
            u = (rating.low, rating.high)[k] if counted else None
            ends.append(final_score(automatic=automatic, judge=j, audience=u, alpha=alpha, beta=beta))
        low, high = min(ends), max(ends)
    return {
        "submission_id": best.submission_id,
        "score": score,
        "automatic": automatic,
        "submitted_at": best.submission.created_at,
        "judged": judged,
        "judge_score": judge,
        "score_low": low,
        "score_high": high,
        "audience": rating.rating if rating else None,
        "audience_low": rating.low if rating else None,
        "audience_high": rating.high if rating else None,
        "audience_votes": rating.comparisons if rating else 0,
    }


def _ranks_sql() -> str:
    """Rank every row of one challenge in the board's order (judged first, score desc, earlier entry, lower id) and
    give each run of neighbours whose score intervals overlap one shared rank ``rank_low``-``rank_high`` (rows
    without an interval never tie; judged and unjudged rows never tie). Only rows whose ranks change are written.
    Portable SQL (window functions, UPDATE ... FROM): PostgreSQL and SQLite >= 3.33."""
    table = LeaderboardEntry._meta.db_table
    return f"""
        WITH ordered AS (
            SELECT id, judged, score_low, score_high,
                   ROW_NUMBER() OVER w AS rn, LAG(score_low) OVER w AS prev_low, LAG(judged) OVER w AS prev_judged
              FROM {table} WHERE challenge_id = %s
            WINDOW w AS (ORDER BY judged DESC, score DESC, submitted_at ASC, submission_id ASC)
        ), grouped AS (
            SELECT id, rn, SUM(CASE WHEN score_high IS NOT NULL AND prev_low IS NOT NULL AND prev_judged = judged
                                         AND score_high >= prev_low THEN 0 ELSE 1 END) OVER (ORDER BY rn) AS grp
              FROM ordered
        ), bounds AS (
            SELECT id, rn, MIN(rn) OVER (PARTITION BY grp) AS lo, MAX(rn) OVER (PARTITION BY grp) AS hi FROM grouped
        )
        UPDATE {table} SET rank = bounds.rn, rank_low = bounds.lo, rank_high = bounds.hi
          FROM bounds
         WHERE {table}.id = bounds.id
           AND ({table}.rank IS NULL OR {table}.rank <> bounds.rn OR {table}.rank_low <> bounds.lo
                OR {table}.rank_high <> bounds.hi)
    """


def leaderboard_ranks_refresh(*, challenge_id: int) -> None:
    """Recompute the stored ranks and shared ranks of a challenge's rows (one SQL statement)."""
    with connection.cursor() as cursor:
        cursor.execute(_ranks_sql(), [challenge_id])


def leaderboard_refresh_submission(*, submission_id: int) -> LeaderboardEntry | None:
    """Refresh the row of the entrant who owns this submission (after a score, rerun, disqualify or failure)."""
    row = Submission.objects.filter(pk=submission_id).values("challenge_id", "entrant_id").first()
    if row is None:
        return None
    return leaderboard_entry_refresh(challenge_id=row["challenge_id"], entrant_id=row["entrant_id"])


@transaction.atomic
def leaderboard_rebuild(*, challenge_id: int) -> int:
    """Rebuild a challenge's whole table from SQL (repair, or after bulk changes); returns the number of rows."""
    list(Challenge.objects.select_for_update().filter(pk=challenge_id).values_list("pk", flat=True))
    challenge = Challenge.objects.only("closes_at").get(pk=challenge_id)
    phase = split_phase(challenge=challenge)
    leaderboard_version_bump(challenge_id=challenge_id, phase=phase)
    LeaderboardEntry.objects.filter(challenge_id=challenge_id).delete()
    if phase == "private":  # each entrant's final entries on the private inputs (a few thousand rows at most)
        entrants = set(ranked_scores(challenge_id=challenge_id).values_list("submission__entrant_id", flat=True))
        for entrant_id in entrants:
            _entry_row_refresh(challenge_id=challenge_id, entrant_id=entrant_id)
        leaderboard_ranks_refresh(challenge_id=challenge_id)
        return LeaderboardEntry.objects.filter(challenge_id=challenge_id).count()
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
    alpha = Challenge.objects.values_list("alpha", flat=True).get(pk=challenge_id)
    beta = audience_weight_of(challenge_id=challenge_id)
    ratings = {r.submission_id: r for r in AudienceRating.objects.filter(challenge_id=challenge_id)}
    LeaderboardEntry.objects.bulk_create(
        [
            LeaderboardEntry(
                challenge_id=challenge_id, entrant_id=entrant_id,
                **_row_values(best, alpha=alpha, beta=beta, rating=ratings.get(best.submission_id)),
            )
            for entrant_id, best in best_by_entrant.items()
        ],
        batch_size=1000,
    )
    leaderboard_ranks_refresh(challenge_id=challenge_id)
    return len(best_by_entrant)
