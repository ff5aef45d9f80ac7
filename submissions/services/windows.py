"""Who may enter a challenge, when, and with what kind of entry (docs/design.md section 6)."""

from __future__ import annotations

from datetime import datetime

from chartbusters.challenges.models import Challenge
from submissions.models import Submission
from submissions.selectors import challenge_roles_of
from submissions.services.errors import EntryRefusedError

NOT_LOGGED_IN_MESSAGE = "Log in (or send an API token) to enter a challenge."
NOT_PUBLISHED_MESSAGE = "There is no challenge called \u201c{slug}\u201d."
NOT_OPEN_YET_MESSAGE = "\u201c{title}\u201d opens for entries at {opens_at:%Y-%m-%d %H:%M} UTC; it is not open yet."
CLOSED_MESSAGE = "\u201c{title}\u201d closed for entries at {closes_at:%Y-%m-%d %H:%M} UTC."
JUDGE_MESSAGE = "You judge \u201c{title}\u201d, so you cannot enter it."
ORGANIZER_MESSAGE = "You organize \u201c{title}\u201d, so you cannot enter it."
WRONG_KIND_MESSAGE = (
    "\u201c{title}\u201d is a {kind_label} challenge: it takes {expected}, not {got}."
)
KIND_NOUNS = {
    Submission.Kind.COMPOSITION: "a composition (a MIDI file)",
    Submission.Kind.CHECKPOINT: "a model checkpoint (safetensors weights + JSON config)",
}
KIND_OF_CHALLENGE = {
    Challenge.Kind.MELODY_GO_ROUND: Submission.Kind.COMPOSITION,
    Challenge.Kind.MELODY_HARVEST: Submission.Kind.CHECKPOINT,
}


def entry_kind_for(challenge: Challenge) -> str:
    return KIND_OF_CHALLENGE[challenge.kind]


def entry_window_check(*, challenge: Challenge, user, now: datetime) -> None:
    """Raise EntryRefusedError unless ``user`` may enter ``challenge`` at ``now`` (401, 404, 403)."""
    if not getattr(user, "is_authenticated", False):
        raise EntryRefusedError("not_authenticated", NOT_LOGGED_IN_MESSAGE, status=401)
    is_organizer, is_judge = challenge_roles_of(challenge=challenge, user=user)
    if not challenge.published and not (is_organizer or user.is_staff):
        raise EntryRefusedError("not_found", NOT_PUBLISHED_MESSAGE.format(slug=challenge.slug), status=404)
    if is_organizer:
        raise EntryRefusedError("organizer", ORGANIZER_MESSAGE.format(title=challenge.title), status=403)
    if is_judge:
        raise EntryRefusedError("judge", JUDGE_MESSAGE.format(title=challenge.title), status=403)
    if now < challenge.opens_at:
        raise EntryRefusedError(
            "not_open", NOT_OPEN_YET_MESSAGE.format(title=challenge.title, opens_at=challenge.opens_at), status=403
        )
    if now >= challenge.closes_at:
        raise EntryRefusedError(
            "closed", CLOSED_MESSAGE.format(title=challenge.title, closes_at=challenge.closes_at), status=403
        )


def entry_kind_check(*, challenge: Challenge, kind: str) -> None:
    """422 naming the mismatch when ``kind`` is not what the challenge takes."""
    expected = entry_kind_for(challenge)
    if kind != expected:
        raise EntryRefusedError(
            "wrong_kind",
            WRONG_KIND_MESSAGE.format(
                title=challenge.title, kind_label=challenge.get_kind_display().split(" (")[0],
                expected=KIND_NOUNS[expected], got=KIND_NOUNS[kind],
            ),
            status=422,
        )
