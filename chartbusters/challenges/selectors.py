"""Reads: which challenges a user may see, filtered by status (in SQL) and kind; how to describe a challenge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.timesince import timeuntil

from chartbusters.challenges.models import Challenge

Status = Challenge.Status


def status_q(status: str, now: datetime) -> Q:
    """The SQL condition for a challenge status at ``now`` (the same rule as ``Challenge.status_at``)."""
    if status == Status.UPCOMING:
        return Q(opens_at__gt=now)
    if status == Status.OPEN:
        return Q(opens_at__lte=now, closes_at__gt=now)
    if status == Status.JUDGING:
        return Q(closes_at__lte=now, judging_ends_at__gt=now)
    if status == Status.CLOSED:
        return Q(judging_ends_at__lte=now)
    raise ValueError(f"unknown challenge status {status!r}")


def challenge_visible_to(user) -> QuerySet[Challenge]:
    """Staff see every challenge; everyone else only published ones."""
    qs = Challenge.objects.all()
    if not (user is not None and user.is_authenticated and user.is_staff):
        qs = qs.filter(published=True)
    return qs


def challenge_list(*, user, status: str | None = None, kind: str | None = None,
                   now: datetime | None = None) -> QuerySet[Challenge]:
    qs = challenge_visible_to(user)
    if status:
        qs = qs.filter(status_q(status, now or timezone.now()))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-opens_at", "slug")


def challenge_get(*, slug: str, user) -> Challenge:
    """The challenge ``slug`` if ``user`` may see it; raises Http404 otherwise (unpublished looks like absent)."""
    try:
        return challenge_visible_to(user).get(slug=slug)
    except Challenge.DoesNotExist as exc:
        raise Http404(f"No challenge {slug!r}.") from exc


@dataclass(frozen=True)
class TimeLeft:
    """What the clock counts down to now: the opening, the closing or the end of judging."""

    until: str  # "opens" | "closes" | "judging ends" | "" (closed)
    at: datetime | None
    seconds: int | None
    text: str  # "closes in 29 days, 23 hours" / "closed"


def challenge_time_left(challenge: Challenge, now: datetime | None = None) -> TimeLeft:
    now = now or timezone.now()
    status = challenge.status_at(now)
    target = {
        Status.UPCOMING: ("opens", challenge.opens_at),
        Status.OPEN: ("closes", challenge.closes_at),
        Status.JUDGING: ("judging ends", challenge.judging_ends_at),
    }.get(status)
    if target is None:
        return TimeLeft(until="", at=None, seconds=None, text="closed")
    until, at = target
    seconds = max(0, int((at - now) / timedelta(seconds=1)))
    return TimeLeft(until=until, at=at, seconds=seconds, text=f"{until} in {timeuntil(at, now)}".replace("\xa0", " "))


def challenge_quota_text(challenge: Challenge) -> str:
    """E.g. "5 entries per UTC day (resets at 00:00 UTC), 50 in all"."""
    daily = challenge.daily_quota
    total = challenge.total_quota
    per_day = f"{daily} {'entry' if daily == 1 else 'entries'} per UTC day (resets at 00:00 UTC)"
    return f"{per_day}, {total} in all"
