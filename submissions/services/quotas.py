"""Race-free quota checks: the entrant's user row is locked inside the intake transaction (docs/design.md section 6).

Parallel requests of one entrant queue on ``SELECT ... FOR UPDATE`` of their user row, so each sees the entries
the previous ones committed and exactly the quota is admitted. (SQLite ignores FOR UPDATE but serializes
writers.) A submission counts when accepted; one the platform failed does not (counts_against_quota=False).
Intake also asks ``quota_check`` (no lock) before it reads or parses any file, so a used-up quota is answered
429 at once, before a 413/422 about the files; the locked check inside the transaction still decides.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from chartbusters.challenges.models import Challenge
from submissions.selectors import QuotaUsage, quota_usage_get
from submissions.services.errors import EntryRefusedError

DAILY_QUOTA_MESSAGE = (
    "You have used your {quota} entries for today in this challenge; the daily quota resets at "
    "{resets_at:%Y-%m-%d %H:%M} UTC."
)
TOTAL_QUOTA_MESSAGE = "You have used all {quota} entries this challenge allows per entrant."


def quota_check(*, challenge: Challenge, entrant, now: datetime) -> QuotaUsage:
    """Raise EntryRefusedError (429) when ``entrant``'s quota is used up. Without the lock this is only the early
    answer (429 before any file is read or parsed); the entry is admitted by ``quota_check_locked``."""
    usage = quota_usage_get(challenge=challenge, entrant=entrant, now=now)
    if usage.total_left <= 0:
        raise EntryRefusedError("quota_exceeded", TOTAL_QUOTA_MESSAGE.format(quota=usage.total_quota), status=429)
    if usage.daily_left <= 0:
        raise EntryRefusedError(
            "quota_exceeded",
            DAILY_QUOTA_MESSAGE.format(quota=usage.daily_quota, resets_at=usage.resets_at),
            status=429, retry_at=usage.resets_at,
        )
    return usage


def quota_check_locked(*, challenge: Challenge, entrant, now: datetime) -> QuotaUsage:
    """Lock ``entrant``'s row, then raise EntryRefusedError (429) when the quota is used up. Call inside a
    transaction; the lock is held until it commits, so the caller must create the entry in the same one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quota_check_locked must run inside the intake transaction")
    get_user_model().objects.select_for_update().only("pk").get(pk=entrant.pk)
    return quota_check(challenge=challenge, entrant=entrant, now=now)
