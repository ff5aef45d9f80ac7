"""Reads of the submissions app: quota usage, an entrant's compositions, what an organizer may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from chartbusters.challenges.models import Challenge
from submissions.models import Composition, Submission

CHALLENGE_NOT_FOUND_MESSAGE = "There is no challenge called \u201c{slug}\u201d."


def utc_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The UTC day holding ``now``: [00:00 UTC, next 00:00 UTC)."""
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class QuotaUsage:
    used_today: int
    daily_quota: int
    used_total: int
    total_quota: int
    resets_at: datetime  # next 00:00 UTC, when the day's count starts again

    @property
    def daily_left(self) -> int:
        return max(0, self.daily_quota - self.used_today)

    @property
    def total_left(self) -> int:
        return max(0, self.total_quota - self.used_total)

    @property
    def can_submit(self) -> bool:
        return self.daily_left > 0 and self.total_left > 0

    def describe(self) -> str:
        """E.g. "3 of 5 today (resets 00:00 UTC), 7 of 50 in all"."""
        return (
            f"{self.used_today} of {self.daily_quota} today (resets {self.resets_at:%H:%M} UTC), "
            f"{self.used_total} of {self.total_quota} in all"
        )


def quota_usage_get(*, challenge: Challenge, entrant, now: datetime | None = None) -> QuotaUsage:
    """Entries of ``entrant`` in ``challenge`` that count against the quota, today (UTC) and in all: one query."""
    day_start, day_end = utc_day_bounds(now or timezone.now())
    counts = Submission.objects.filter(challenge=challenge, entrant=entrant, counts_against_quota=True).aggregate(
        total=Count("id"), today=Count("id", filter=Q(created_at__gte=day_start))
    )
    return QuotaUsage(
        used_today=counts["today"], daily_quota=challenge.daily_quota,
        used_total=counts["total"], total_quota=challenge.total_quota, resets_at=day_end,
    )


def challenge_get_for_entry(*, slug: str) -> Challenge:
    """The challenge ``slug`` an entry is aimed at (windows and roles are checked by the intake service)."""
    try:
        return Challenge.objects.get(slug=slug)
    except Challenge.DoesNotExist as exc:
        raise Http404(CHALLENGE_NOT_FOUND_MESSAGE.format(slug=slug)) from exc


def challenge_roles_of(*, challenge: Challenge, user) -> tuple[bool, bool]:
    """(organizes, judges): whether ``user`` organizes and whether they judge ``challenge``, in one query."""
    organizers, judges = Challenge.organizers.through.objects, Challenge.judges.through.objects
    return Challenge.objects.filter(pk=challenge.pk).annotate(
        organizes=Exists(organizers.filter(challenge_id=OuterRef("pk"), user_id=user.pk)),
        judges_it=Exists(judges.filter(challenge_id=OuterRef("pk"), user_id=user.pk)),
    ).values_list("organizes", "judges_it").get()


def composition_list_for_owner(*, owner) -> QuerySet[Composition]:
    return Composition.objects.filter(owner=owner).order_by("-created_at")


def challenge_list_open_for_entries(*, kind: str, now: datetime | None = None) -> QuerySet[Challenge]:
    """Published challenges of ``kind`` open for entries now (the one-click submit of My compositions: Melody-Go-Round;
    of My models: Melody Harvest)."""
    now = now or timezone.now()
    return Challenge.objects.filter(kind=kind, published=True, opens_at__lte=now,
                                    closes_at__gt=now).order_by("closes_at", "slug")


def submission_list_for_organizer(*, user) -> QuerySet[Submission]:
    """What the admin shows: every submission to a superuser, else those of the challenges ``user`` organizes."""
    qs = Submission.objects.select_related("challenge", "entrant")
    if user.is_superuser:
        return qs
    return qs.filter(challenge__organizers=user)


def composition_list_for_organizer(*, user) -> QuerySet[Composition]:
    """Saved compositions are private: a superuser sees all, an organizer those entered in their challenges."""
    qs = Composition.objects.select_related("owner")
    if user.is_superuser:
        return qs
    return qs.filter(submission__challenge__organizers=user).distinct()


def user_organizes(*, user, challenge: Challenge) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or challenge.organizers.filter(pk=user.pk).exists()
