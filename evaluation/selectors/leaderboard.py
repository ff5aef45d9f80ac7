"""Leaderboard reads (docs/design.md section 6), from the precomputed LeaderboardEntry table.

Order: score desc, then the earlier submission, then the lower submission id. Ranks are stored in the table
(``rank``: ROW_NUMBER() over that order; ``rank_low``-``rank_high``: the shared rank of neighbours whose score
intervals overlap), recomputed in SQL whenever a row changes (evaluation.services.leaderboard), so a page is an
index range scan on (challenge, rank) and nothing is ranked per request.

The table holds only ranked entries: every change of a submission goes through a submissions service that tells
the listeners (evaluation.listeners), which refresh the entrant's row in the same transaction. As a second line of
defence the page query and the viewer's row also check ``submission.status = scored AND NOT disqualified`` (100
primary-key probes), so a row left stale by a bulk update that bypassed the services is not shown once the page is
recomputed; the count and the rank read the table alone (index scans: joining all 5,000 rows costs ~45 ms).
``rebuild_leaderboard`` repairs the table after such a bulk update.

API pages are cached under the challenge's LeaderboardVersion token, which every refresh replaces.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TypedDict

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from chartbusters.challenges.models import Challenge
from chartbusters.files import FileKind, file_url
from evaluation.models import LeaderboardEntry, LeaderboardVersion, Like, Rendering, Score
from evaluation.ranking import shared_rank_label
from submissions.models import Submission

CACHE_SECONDS = 600
DEFAULT_LIMIT = 100
MAX_LIMIT = 100
# Judged entries first (after publication: when only the top N were judged, an entry the judges never heard cannot
# pass a finalist on its automatic score alone), then the score; before judging every row has judged = False.
ORDER = (F("judged").desc(), F("score").desc(), F("submitted_at").asc(), F("submission_id").asc())


class LeaderboardRow(TypedDict, total=False):
    """A plain dict (rendered as JSON as it is: no per-row serializer cost); parts/style/realness with_parts only."""

    rank: int
    entrant_id: int
    entrant: str
    submission: int
    title: str
    score: float
    automatic: float
    judge_score: float | None
    judged: bool
    likes: int
    shared_rank: str
    rank_low: int | None
    rank_high: int | None
    score_low: float | None
    score_high: float | None
    audience: float | None
    audience_low: float | None
    audience_high: float | None
    audience_votes: int
    submitted_at: datetime
    audio_url: str | None
    parts: dict
    style: float
    realness: float


def _entries(*, challenge_id: int):
    return LeaderboardEntry.objects.filter(challenge_id=challenge_id)


def _ranked_entries(*, challenge_id: int):
    return _entries(challenge_id=challenge_id).filter(
        submission__status=Submission.Status.SCORED, submission__disqualified=False
    )


def _entry_audio():
    """The public_id of the entry's rendering when it has audio (its file URL names it). A checkpoint entry (Melody
    Harvest) has no MIDI of its own: its first output's rendering, once entries are closed (outputs come from
    hidden melodies; the file view's rule, access.outputs_visible)."""
    shown = Q(output__isnull=True) | Q(submission__challenge__closes_at__lte=timezone.now())
    return Subquery(
        Rendering.objects.filter(shown, submission_id=OuterRef("submission_id"))
        .exclude(audio="").order_by(F("output_id").asc(nulls_first=True), "pk").values("public_id")[:1]
    )


def _entry_likes():
    """Audience likes of the row's entry (docs/judging.md "The audience")."""
    return Coalesce(
        Subquery(Like.objects.filter(submission_id=OuterRef("submission_id")).values("submission_id")
                 .annotate(n=Count("pk")).values("n")[:1]),
        Value(0),
    )


def _audio_url(rendering_id) -> str | None:
    """``/files/audio/<uuid>/``: the file view applies the same visibility as the row (a ranked entry)."""
    return file_url(FileKind.AUDIO, rendering_id) if rendering_id else None


_FIELDS = ("rank", "entrant_id", "entrant__username", "submission_id", "submission__title", "score", "automatic",
           "judge_score", "judged", "likes", "submitted_at", "audio", "rank_low", "rank_high", "score_low",
           "score_high", "audience", "audience_low", "audience_high", "audience_votes")
_PART_FIELDS = ("submission__score__parts", "submission__score__style", "submission__score__realness")


def _row(values: dict, *, with_parts: bool) -> LeaderboardRow:
    row: LeaderboardRow = {
        "rank": values["rank"],
        "entrant_id": values["entrant_id"],
        "entrant": values["entrant__username"],
        "submission": values["submission_id"],
        "title": values["submission__title"],
        "score": values["score"],
        "automatic": values["automatic"],
        "judge_score": values["judge_score"],
        "judged": values["judged"],
        "likes": values["likes"],
        "submitted_at": values["submitted_at"],
        "audio_url": _audio_url(values["audio"]),
        "shared_rank": shared_rank_label(values["rank_low"], values["rank_high"], values["rank"]),
        "rank_low": values["rank_low"],
        "rank_high": values["rank_high"],
        "score_low": values["score_low"],
        "score_high": values["score_high"],
        "audience": values["audience"],
        "audience_low": values["audience_low"],
        "audience_high": values["audience_high"],
        "audience_votes": values["audience_votes"],
    }
    if with_parts:
        row["parts"] = values["submission__score__parts"]
        row["style"] = values["submission__score__style"]
        row["realness"] = values["submission__score__realness"]
    return row


def leaderboard_rows(
    *, challenge: Challenge, offset: int = 0, limit: int = DEFAULT_LIMIT, with_parts: bool = False
) -> list[LeaderboardRow]:
    """One page of the leaderboard: the stored ranks offset + 1 .. offset + limit (an index range scan)."""
    fields = (*_FIELDS, *_PART_FIELDS) if with_parts else _FIELDS
    rows = (
        _ranked_entries(challenge_id=challenge.pk)
        .filter(rank__gt=offset, rank__lte=offset + limit)
        .annotate(audio=_entry_audio(), likes=_entry_likes())
        .order_by("rank")
        .values(*fields)
    )
    return [_row(values, with_parts=with_parts) for values in rows]


def leaderboard_page_cached(*, challenge: Challenge, offset: int = 0, limit: int = DEFAULT_LIMIT) -> dict:
    """``{"count", "rows"}`` of one page, cached under the challenge's LeaderboardVersion token: any change of the
    table makes a new token, so a cached page is never stale (tokens are random, so no key is ever reused)."""
    if hasattr(challenge, "leaderboard_token"):  # read with the challenge (access.challenge_get_visible)
        token = challenge.leaderboard_token
    else:
        token = LeaderboardVersion.objects.filter(challenge_id=challenge.pk).values_list("token", flat=True).first()
    key = f"leaderboard:{challenge.pk}:{token}:{offset}:{limit}"
    page = cache.get(key) if token else None
    if page is None:
        page = {
            "count": leaderboard_count(challenge=challenge),
            "rows": leaderboard_rows(challenge=challenge, offset=offset, limit=limit),
        }
        if token:
            cache.set(key, page, CACHE_SECONDS)
    return page


def leaderboard_count(*, challenge: Challenge) -> int:
    """Rows of the table: the highest stored rank (ranks are 1..n), one backward step on the (challenge, rank)
    index instead of counting 5,000 index entries."""
    last = _entries(challenge_id=challenge.pk).filter(rank__isnull=False).order_by("-rank").values_list(
        "rank", flat=True).first()
    return last or 0


def _own_row_sql() -> str:
    """The viewer's row with its stored rank, in one statement (raw SQL: cheaper to compile than the ORM's)."""
    entry, submission = LeaderboardEntry._meta.db_table, Submission._meta.db_table
    user, rendering = get_user_model()._meta.db_table, Rendering._meta.db_table
    like = Like._meta.db_table
    return f"""
        SELECT e.id, e.entrant_id, e.submission_id, e.score, e.automatic, e.judge_score, e.judged, e.submitted_at,
               e.rank, e.rank_low, e.rank_high, e.score_low, e.score_high, e.audience, e.audience_low,
               e.audience_high, e.audience_votes, u.username AS entrant_name, s.title AS submission_title,
               (SELECT r.public_id FROM {rendering} r
                 WHERE r.submission_id = e.submission_id AND r.output_id IS NULL AND r.audio <> ''
                 LIMIT 1) AS audio_id,
               (SELECT COUNT(*) FROM {like} k WHERE k.submission_id = e.submission_id) AS likes_count
          FROM {entry} e
          JOIN {submission} s ON s.id = e.submission_id
          JOIN {user} u ON u.id = e.entrant_id
         WHERE e.challenge_id = %s AND e.entrant_id = %s AND s.status = %s AND s.disqualified = %s
    """


def leaderboard_row_of(*, challenge: Challenge, user, with_parts: bool = False) -> LeaderboardRow | None:
    """The viewer's own row (their best ranked entry) with its true rank (same order as the board), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    params = [challenge.pk, user.pk, Submission.Status.SCORED.value, False]
    found = list(LeaderboardEntry.objects.raw(_own_row_sql(), params))
    if not found:
        return None
    entry = found[0]
    values = {
        "rank": entry.rank, "entrant_id": entry.entrant_id, "entrant__username": entry.entrant_name,
        "submission_id": entry.submission_id, "submission__title": entry.submission_title, "score": entry.score,
        "automatic": entry.automatic, "submitted_at": entry.submitted_at, "audio": entry.audio_id,
        "judge_score": entry.judge_score, "judged": bool(entry.judged), "likes": entry.likes_count,
        **{name: getattr(entry, name) for name in ("rank_low", "rank_high", "score_low", "score_high", "audience",
                                                    "audience_low", "audience_high", "audience_votes")},
    }
    if with_parts:
        score = Score.objects.values("parts", "style", "realness").get(submission_id=entry.submission_id)
        values.update({f"submission__score__{k}": v for k, v in score.items()})
    return _row(values, with_parts=with_parts)


def leaderboard_iter_all(*, challenge: Challenge) -> Iterator[dict]:
    """Every ranked row with its score parts, for the organizers' CSV export (streamed)."""
    rows = (
        _ranked_entries(challenge_id=challenge.pk)
        .order_by("rank")
        .values(
            "rank", "rank_low", "rank_high", "score_low", "score_high", "audience", "audience_votes",
            "entrant_id", "entrant__username", "entrant__email", "submission_id", "submission__title",
            "submission__kind", "score", "automatic", "judge_score", "submitted_at", "judged",
            "submission__score__style", "submission__score__realness", "submission__score__flagged_copy",
        )
    )
    return rows.iterator(chunk_size=1000)


def leaderboard_is_provisional(*, challenge: Challenge, now: datetime | None = None) -> bool:
    """Scores are final once the organizers publish the results, or once judging has ended and every ranked entry
    is judged (or the challenge gives judges no weight, alpha = 0). Until then the board is provisional."""
    if challenge.results_published:
        return False
    if (now or timezone.now()) < challenge.judging_ends_at:
        return True
    if challenge.alpha == 0:
        return False
    return _entries(challenge_id=challenge.pk).filter(judged=False).exists()


def rescoring_exists(challenge_id=None):
    """The condition "being rescored", as an expression on a challenge (``OuterRef("pk")`` by default): a
    ChallengeRescore queued or running, or its realness model queued or training (the entries are rescored when it
    is ready). Two indexed EXISTS."""
    from evaluation.models import ChallengeRescore, RealnessModel

    challenge_id = OuterRef("pk") if challenge_id is None else challenge_id
    rescores = ChallengeRescore.objects.filter(challenge_id=challenge_id, status__in=ChallengeRescore.ACTIVE)
    training = RealnessModel.objects.filter(challenge_id=challenge_id, status__in=[
        RealnessModel.Status.QUEUED, RealnessModel.Status.TRAINING])
    return Exists(rescores) | Exists(training)


def leaderboard_is_rescoring(*, challenge: Challenge) -> bool:
    """The board says "rescoring" while its entries are rescored (``rescoring_exists``); read with the challenge
    when ``challenge_get_visible`` annotated it, else one query."""
    annotated = getattr(challenge, "rescoring_now", None)
    if annotated is not None:
        return bool(annotated)
    return Challenge.objects.filter(pk=challenge.pk).annotate(now=rescoring_exists()).values_list(
        "now", flat=True).first() or False
