"""Listening in pairs (issue 26; docs/judging.md "The audience"): a listener hears two anonymous 30-s excerpts and says
which they prefer, or "about the same"; the challenge's entries are rated by Bradley-Terry with ties (Davidson),
refitted on every vote (evaluation.ranking.davidson_fit), and the ratings go onto the leaderboard rows.

Rules: a signed-in listener who is not an organizer or judge of the challenge and entered neither entry; the pair
is chosen where a vote tells most (evaluation.ranking.pair_pick); the vote counts only once the page reported both
excerpts played to the end and at least both excerpts' length has passed since the pair was issued; one vote per
pair and listener; votes are rate limited (RATE_LIMIT_VOTE). The refit runs in the vote's request for up to
SYNC_REFIT_LIMIT rated entries, else in the "evaluation.audience_ratings_refresh" task. Blind: the excerpts are
served by the pair's own opaque URLs (``/listen/pairs/<token>/<1|2>/``), re-encoded, every one exactly
EXCERPT_SECONDS long, with no title, entrant or entry id anywhere on the page or in the API.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from chartbusters.challenges.models import Challenge
from chartbusters.dispatch import send_task
from chartbusters.errors import ApplicationError
from chartbusters.ratelimit import rate_limit_take
from evaluation.formula import audience_points
from evaluation.models import AudienceRating, Excerpt, LeaderboardEntry, PairIssue, PairVote, Rendering
from evaluation.ranking import davidson_fit, pair_pick
from evaluation.services.leaderboard import leaderboard_audience_refresh
from submissions.models import Submission

logger = logging.getLogger(__name__)

EXCERPT_SECONDS = 30.0
EXCERPT_START_SHARE = 0.25  # the passage rule: from a quarter of the piece, or the last 30 s when shorter than that
ISSUE_REUSE = timedelta(hours=1)  # an unvoted pair is handed out again for an hour (no fishing for other pairs)
END_SLACK_SECONDS = 1.0  # timer granularity between the browser and the server
SYNC_REFIT_LIMIT = 300  # rated entries up to which a vote refits the ratings in the request (~50 ms)
REFIT_TASK = "evaluation.audience_ratings_refresh"

LOGIN = "Log in to compare entries."
NOT_FOUND = "There is no challenge called \u201c{slug}\u201d."
ORGANIZER = "Organizers of \u201c{challenge}\u201d cannot vote on its entries."
JUDGE = "Judges of \u201c{challenge}\u201d cannot vote on its entries."
CLOSED = "The results of \u201c{challenge}\u201d are published; listening in pairs is closed."
NO_PAIR = "There is no pair left for you to compare in \u201c{challenge}\u201d; thank you for listening."
PAIR_NOT_FOUND = "There is no pair {token} of yours."
ALREADY_VOTED = "You already voted on this pair; one vote per pair."
PLAY_BOTH = "Play both excerpts to the end before you vote."
TOO_SOON = "Play both excerpts to the end before you vote ({left:.0f} s of music left)."
BAD_CHOICE = "choice must be \u201cfirst\u201d, \u201csecond\u201d or \u201csame\u201d; got {value!r}."
BAD_WHICH = "which must be 1 or 2; got {value!r}."
OWN_ENTRY = "You entered one of these entries; you cannot vote on it."
CHOICES = ("first", "second", "same")


def excerpt_start(duration: float) -> float:
    """The passage rule, the same for every entry: the EXCERPT_SECONDS from a quarter of the piece, moved earlier
    when the piece would end first; a piece shorter than that is played whole (and padded with silence)."""
    return max(0.0, min(EXCERPT_START_SHARE * duration, duration - EXCERPT_SECONDS))


def _excerpt_make(submission_id: int) -> Excerpt | None:
    """Cut (and store) the entry's excerpt from its rendered audio; None when it has no audio."""
    from evaluation.audio import SAMPLE_RATE, read_audio, write_audio

    found = Excerpt.objects.filter(submission_id=submission_id).first()
    if found is not None:
        return found
    rendering = Rendering.objects.filter(submission_id=submission_id, output__isnull=True).exclude(audio="").first()
    if rendering is None:
        return None
    with tempfile.TemporaryDirectory(prefix="chartbusters-excerpt-") as tmp:
        source = Path(tmp) / f"source{Path(rendering.audio.name).suffix}"
        with rendering.audio.open("rb") as f:
            source.write_bytes(f.read())
        audio = read_audio(source)  # (samples, channels) float
        duration = audio.shape[0] / SAMPLE_RATE
        start = excerpt_start(duration)
        frames = round(EXCERPT_SECONDS * SAMPLE_RATE)
        cut = audio[int(start * SAMPLE_RATE): int(start * SAMPLE_RATE) + frames]
        fade = min(len(cut), int(0.5 * SAMPLE_RATE))
        if fade:
            ramp = np.linspace(1.0, 0.0, fade)[:, None] if cut.ndim == 2 else np.linspace(1.0, 0.0, fade)
            cut = cut.copy()
            cut[-fade:] = cut[-fade:] * ramp
        padded = np.zeros((frames, *cut.shape[1:]), dtype=cut.dtype)
        padded[: len(cut)] = cut
        out = Path(tmp) / "excerpt.mp3"
        write_audio(padded, out)
        excerpt = Excerpt(submission_id=submission_id, start_seconds=start, seconds=EXCERPT_SECONDS)
        with out.open("rb") as f:
            excerpt.audio.save("excerpt.mp3", File(f), save=False)
    try:
        with transaction.atomic():
            excerpt.save()
    except IntegrityError:  # made meanwhile by another request
        excerpt.audio.delete(save=False)
        return Excerpt.objects.get(submission_id=submission_id)
    return excerpt


def _challenge_for_listener(*, slug: str, user) -> Challenge:
    from evaluation.selectors.access import challenge_get_visible, user_organizes

    if not getattr(user, "is_authenticated", False):
        raise ApplicationError("not_authenticated", LOGIN, status=401)
    challenge = challenge_get_visible(slug=slug, user=user)
    if challenge is None:
        raise ApplicationError("not_found", NOT_FOUND.format(slug=slug), status=404)
    if user_organizes(user=user, challenge=challenge):
        raise ApplicationError("organizer", ORGANIZER.format(challenge=challenge.title), status=403)
    if challenge.judges.filter(pk=user.pk).exists():
        raise ApplicationError("judge", JUDGE.format(challenge=challenge.title), status=403)
    if challenge.results_published:
        raise ApplicationError("closed", CLOSED.format(challenge=challenge.title), status=409)
    return challenge


def pair_candidates(*, challenge: Challenge, user) -> list[int]:
    """Submission ids that may be put to this listener: ranked rows (each entrant's best entry) with entry audio,
    not the listener's own."""
    with_audio = Rendering.objects.filter(output__isnull=True).exclude(audio="").values("submission_id")
    return list(
        LeaderboardEntry.objects.filter(challenge=challenge, submission__status=Submission.Status.SCORED,
                                        submission__disqualified=False, submission_id__in=with_audio)
        .exclude(entrant_id=user.pk).order_by("submission_id").values_list("submission_id", flat=True)
    )


def pair_issue(*, slug: str, user, now: datetime | None = None, seed: int | None = None) -> PairIssue:
    """The listener's pair: the one handed out in the last hour and not voted on yet, else a new one where a vote
    tells most. Raises ApplicationError (401, 403, 404, 409)."""
    now = now or timezone.now()
    challenge = _challenge_for_listener(slug=slug, user=user)
    candidates = pair_candidates(challenge=challenge, user=user)
    open_issue = (
        PairIssue.objects.filter(challenge=challenge, listener=user, voted_at__isnull=True,
                                 issued_at__gte=now - ISSUE_REUSE,
                                 first_id__in=candidates, second_id__in=candidates)
        .order_by("-issued_at").first()
    )
    if open_issue is not None:
        return open_issue
    votes = PairVote.objects.filter(challenge=challenge)
    mine = {frozenset(p) for p in votes.filter(listener=user).values_list("low_id", "high_id")}
    pair_counts = {(r["low_id"], r["high_id"]): r["n"] for r in
                   votes.values("low_id", "high_id").annotate(n=Count("pk"))}
    ratings = AudienceRating.objects.filter(challenge=challenge).values_list("submission_id", "strength",
                                                                             "comparisons")
    strength = {s: x for s, x, _ in ratings}
    comparisons = {s: n for s, _, n in ratings}
    rng = np.random.default_rng(seed)
    while True:
        pair = pair_pick(candidates=candidates, strength=strength, comparisons=comparisons, pair_counts=pair_counts,
                         excluded_pairs=mine, rng=rng)
        if pair is None:
            raise ApplicationError("no_pair", NO_PAIR.format(challenge=challenge.title), status=409)
        broken = [submission_id for submission_id in pair if not _excerpt_ready(submission_id)]
        if not broken:
            break
        candidates = [c for c in candidates if c not in broken]  # its audio cannot be cut: leave it out
    return PairIssue.objects.create(challenge=challenge, listener=user, first_id=pair[0], second_id=pair[1],
                                    issued_at=now)


def _excerpt_ready(submission_id: int) -> bool:
    try:
        return _excerpt_make(submission_id) is not None
    except Exception:  # an unreadable rendering must not stop listening: the entry is left out of pairs
        logger.exception("Could not cut the excerpt of submission %s", submission_id)
        return False


def _own_issue(*, token, user, lock: bool = False) -> PairIssue:
    if not getattr(user, "is_authenticated", False):
        raise ApplicationError("not_authenticated", LOGIN, status=401)
    rows = PairIssue.objects.select_related("challenge", "first", "second")
    if lock:
        rows = rows.select_for_update()
    found = rows.filter(token=token, listener_id=user.pk).first()
    if found is None:
        raise ApplicationError("not_found", PAIR_NOT_FOUND.format(token=token), status=404)
    return found


def pair_excerpt(*, token, user, which: int) -> Excerpt | None:
    """The excerpt of a pair's first (1) or second (2) entry, for its listener only; None when not theirs."""
    try:
        issue = _own_issue(token=token, user=user)
    except ApplicationError:
        return None
    if which not in (1, 2):
        return None
    return _excerpt_make(issue.first_id if which == 1 else issue.second_id)


@transaction.atomic
def pair_played(*, token, user, which, now: datetime | None = None) -> PairIssue:
    """The page reports that excerpt ``which`` (1 or 2) played to its end."""
    if str(which) not in ("1", "2"):
        raise ApplicationError("invalid", BAD_WHICH.format(value=which), status=400)
    issue = _own_issue(token=token, user=user, lock=True)
    field = "first_ended_at" if str(which) == "1" else "second_ended_at"
    if getattr(issue, field) is None:
        setattr(issue, field, now or timezone.now())
        issue.save(update_fields=[field])
    return issue


def _excerpt_seconds(issue: PairIssue) -> float:
    lengths = dict(Excerpt.objects.filter(submission_id__in=[issue.first_id, issue.second_id])
                   .values_list("submission_id", "seconds"))
    return lengths.get(issue.first_id, EXCERPT_SECONDS) + lengths.get(issue.second_id, EXCERPT_SECONDS)


@transaction.atomic
def pair_vote(*, token, user, choice: str, address: str | None = None, now: datetime | None = None) -> PairVote:
    """Record the listener's verdict on their pair and refit the challenge's ratings. Raises ApplicationError
    (400, 401, 403, 404, 409) or RateLimitedError (429)."""
    now = now or timezone.now()
    if choice not in CHOICES:
        raise ApplicationError("invalid", BAD_CHOICE.format(value=choice), status=400)
    issue = _own_issue(token=token, user=user, lock=True)
    _challenge_for_listener(slug=issue.challenge.slug, user=user)  # judges/organizers added since are refused too
    if user.pk in (issue.first.entrant_id, issue.second.entrant_id):
        raise ApplicationError("own_entry", OWN_ENTRY, status=403)
    if issue.voted_at is not None:
        raise ApplicationError("already_voted", ALREADY_VOTED, status=409)
    if issue.first_ended_at is None or issue.second_ended_at is None:
        raise ApplicationError("play_first", PLAY_BOTH, status=403)
    left = _excerpt_seconds(issue) - END_SLACK_SECONDS - (now - issue.issued_at).total_seconds()
    if left > 0:
        raise ApplicationError("play_first", TOO_SOON.format(left=left), status=403)
    low, high = sorted((issue.first_id, issue.second_id))
    if PairVote.objects.filter(listener=user, low_id=low, high_id=high).exists():
        raise ApplicationError("already_voted", ALREADY_VOTED, status=409)
    rate_limit_take(scope="vote", user_key=str(user.pk), address=address)
    preferred = {"first": issue.first_id, "second": issue.second_id, "same": None}[choice]
    try:
        with transaction.atomic():
            vote = PairVote.objects.create(challenge_id=issue.challenge_id, listener=user, low_id=low, high_id=high,
                                           preferred_id=preferred)
    except IntegrityError:  # a second request raced this one
        raise ApplicationError("already_voted", ALREADY_VOTED, status=409) from None
    issue.voted_at = now
    issue.save(update_fields=["voted_at"])
    if AudienceRating.objects.filter(challenge_id=issue.challenge_id).count() <= SYNC_REFIT_LIMIT:
        audience_ratings_refresh(challenge_id=issue.challenge_id)  # at once: the next page shows it
    else:  # thousands of rated entries: every row moves a little; a worker refits (seconds), after the commit
        send_task(REFIT_TASK, args=(issue.challenge_id,), queue="scoring")
    return vote


def audience_ratings_refresh(*, challenge_id: int) -> int:
    """Refit the challenge's ratings from all its votes (entries since disqualified or failed left out), store
    them and carry them onto the leaderboard rows (and into final scores when beta > 0). Returns entries rated."""
    ranked = Submission.objects.filter(challenge_id=challenge_id, status=Submission.Status.SCORED,
                                       disqualified=False).values("pk")
    votes = PairVote.objects.filter(challenge_id=challenge_id, low_id__in=ranked, high_id__in=ranked)
    fit = davidson_fit(
        (v["low_id"], v["high_id"], 0.5 if v["preferred_id"] is None else float(v["preferred_id"] == v["low_id"]))
        for v in votes.values("low_id", "high_id", "preferred_id")
    )
    with transaction.atomic():
        AudienceRating.objects.filter(challenge_id=challenge_id).exclude(submission_id__in=list(fit.ratings)).delete()
        existing = {r.submission_id: r for r in AudienceRating.objects.filter(challenge_id=challenge_id)}
        changed, new = [], []
        for submission_id, r in fit.ratings.items():
            values = {"strength": r.strength, "rating": audience_points(r.strength), "low": audience_points(r.low),
                      "high": audience_points(r.high), "comparisons": r.comparisons}
            row = existing.get(submission_id)
            if row is None:
                new.append(AudienceRating(submission_id=submission_id, challenge_id=challenge_id, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
                changed.append(row)
        AudienceRating.objects.bulk_create(new)
        AudienceRating.objects.bulk_update(changed, ["strength", "rating", "low", "high", "comparisons"],
                                           batch_size=500)
        leaderboard_audience_refresh(challenge_id=challenge_id)
    return len(fit.ratings)


def pair_stats(*, challenge: Challenge, user) -> dict:
    """How many votes the listener gave here, and in all."""
    votes = PairVote.objects.filter(challenge=challenge)
    return {"mine": votes.filter(listener_id=user.pk).count(), "all": votes.count(),
            "listeners": votes.aggregate(n=Count("listener", distinct=True))["n"],
            "rated": AudienceRating.objects.filter(~Q(comparisons=0), challenge=challenge).count()}
