"""The audience (docs/judging.md "The audience"): who listened to what, and likes.

A like needs a signed-in user who listened to the entry (fetched its audio through /files/, which records it), is
not the entrant, not a judge of the challenge, and has not liked it yet; likes are rate limited (RATE_LIMIT_LIKE).
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from chartbusters.errors import ApplicationError
from chartbusters.files import FileKind
from chartbusters.ratelimit import rate_limit_take
from evaluation.models import Like, Listen, Rendering
from evaluation.selectors.access import Access, submission_access
from evaluation.services.leaderboard import leaderboard_version_bump
from submissions.models import Submission, SubmissionOutput

LIKE_LOGIN = "Log in to like an entry."
LIKE_NOT_FOUND = "There is no entry {id} that you may see."
LIKE_OWN = "You cannot like your own entry."
LIKE_JUDGE = "Judges of \u201c{challenge}\u201d cannot like its entries."
LIKE_ORGANIZER = "Organizers of \u201c{challenge}\u201d cannot like its entries."
LIKE_LISTEN_FIRST = "Listen to entry {id} before you like it."
LIKE_TWICE = "You already like entry {id}; one like per entry."
LIKE_NOT_RANKED = "Only ranked entries can be liked."


def listen_record(*, user, kind: str, token: uuid.UUID) -> None:
    """A signed-in user fetched an entry's audio (the entry's, or one of a checkpoint entry's outputs)."""
    if not getattr(user, "is_authenticated", False):
        return
    if kind == FileKind.AUDIO:
        submission_id = Rendering.objects.filter(public_id=token).values_list("submission_id", flat=True).first()
    elif kind == FileKind.OUTPUT_AUDIO:
        submission_id = SubmissionOutput.objects.filter(public_id=token).values_list("submission_id",
                                                                                     flat=True).first()
    else:
        return
    if submission_id is not None:
        Listen.objects.get_or_create(user_id=user.pk, submission_id=submission_id)


@transaction.atomic
def like_add(*, user, submission_id: int, address: str | None = None) -> int:
    """``user`` likes the entry; returns its number of likes. Raises ApplicationError (401, 403, 404, 409) or
    RateLimitedError (429)."""
    if not getattr(user, "is_authenticated", False):
        raise ApplicationError("not_authenticated", LIKE_LOGIN, status=401)
    submission = Submission.objects.select_related("challenge", "score").filter(pk=submission_id).first()
    if submission is None or submission_access(user=user, submission=submission) == Access.NONE:
        raise ApplicationError("not_found", LIKE_NOT_FOUND.format(id=submission_id), status=404)
    if submission.entrant_id == user.pk:
        raise ApplicationError("own_entry", LIKE_OWN, status=403)
    if submission.status != Submission.Status.SCORED or submission.disqualified:
        raise ApplicationError("not_ranked", LIKE_NOT_RANKED, status=403)
    if submission.challenge.organizers.filter(pk=user.pk).exists():
        raise ApplicationError("organizer", LIKE_ORGANIZER.format(challenge=submission.challenge.title), status=403)
    if submission.challenge.judges.filter(pk=user.pk).exists():
        raise ApplicationError("judge", LIKE_JUDGE.format(challenge=submission.challenge.title), status=403)
    if not Listen.objects.filter(user_id=user.pk, submission_id=submission.pk).exists():
        raise ApplicationError("listen_first", LIKE_LISTEN_FIRST.format(id=submission.pk), status=403)
    if Like.objects.filter(user_id=user.pk, submission_id=submission.pk).exists():
        raise ApplicationError("already_liked", LIKE_TWICE.format(id=submission.pk), status=409)
    rate_limit_take(scope="like", user_key=str(user.pk), address=None)  # signed in: per user (issue 24)
    try:
        with transaction.atomic():
            Like.objects.create(user_id=user.pk, submission_id=submission.pk, challenge_id=submission.challenge_id)
    except IntegrityError:  # a second request raced this one
        raise ApplicationError("already_liked", LIKE_TWICE.format(id=submission.pk), status=409) from None
    leaderboard_version_bump(challenge_id=submission.challenge_id)  # cached pages show the new count
    return Like.objects.filter(submission_id=submission.pk).count()
