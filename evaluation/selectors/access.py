"""Who may see what: challenges, submissions and the CSV export (documented in README, "Results visibility").

- A challenge's leaderboard is public when the challenge is published; organizers of the challenge and superusers see
  unpublished ones too.
- A submission is seen in FULL (status, error, files, outputs, score) by its entrant, the challenge's organizers and
  superusers; everyone else (anonymous, other entrants, judges) sees a PUBLIC view only while it is ranked (scored, not
  disqualified, published challenge): its score, audio, piano roll and MIDI, never an error; a checkpoint entry's
  outputs (made from the hidden input melodies) only once the challenge is closed for entries. Otherwise: 404.
- Judges of a challenge see no entrant names on its leaderboard and entries until the results are published.
- The leaderboard CSV is for the challenge's organizers and superusers ("staff": every organizer has is_staff for
  the admin, so is_staff alone would open every challenge's CSV to the organizers of any challenge).
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from chartbusters.challenges.models import Challenge
from submissions.models import Submission
from submissions.selectors import user_organizes  # superusers and the challenge's own organizers

__all__ = [
    "Access", "challenge_get_visible", "names_hidden_from", "outputs_visible", "submission_access", "user_organizes",
]


class Access(StrEnum):
    FULL = "full"
    PUBLIC = "public"
    NONE = "none"


def challenge_get_visible(*, slug: str, user, with_leaderboard_token: bool = False) -> Challenge | None:
    """The challenge with this slug if the user may see it, else None. ``with_leaderboard_token`` also reads the
    leaderboard's cache token in the same query (as ``challenge.leaderboard_token``), and whether the viewer judges
    it (``challenge.viewer_is_judge``)."""
    challenges = Challenge.objects.filter(slug=slug)
    if with_leaderboard_token:
        challenges = challenges.annotate(leaderboard_token=F("leaderboard_version__token"))
        if getattr(user, "is_authenticated", False):  # names_hidden_from() then needs no query of its own
            judges = Challenge.judges.through.objects.filter(challenge_id=OuterRef("pk"), user_id=user.pk)
            challenges = challenges.annotate(viewer_is_judge=Exists(judges))
    challenge = challenges.first()
    if challenge is None:
        return None
    if challenge.published or user_organizes(user=user, challenge=challenge):
        return challenge
    return None


def names_hidden_from(*, user, challenge: Challenge) -> bool:
    """Judging is blind: the challenge's judges (who are not also its organizers) see no entrant names on its
    leaderboard or entries until the results are published."""
    if challenge.results_published or not getattr(user, "is_authenticated", False):
        return False
    is_judge = getattr(challenge, "viewer_is_judge", None)
    if is_judge is None:
        is_judge = challenge.judges.filter(pk=user.pk).exists()
    return is_judge and not user_organizes(user=user, challenge=challenge)


def submission_is_ranked(submission: Submission) -> bool:
    return (
        submission.status == Submission.Status.SCORED
        and not submission.disqualified
        and hasattr(submission, "score")
    )


def submission_access(*, user, submission: Submission) -> Access:
    if getattr(user, "is_authenticated", False) and submission.entrant_id == user.pk:
        return Access.FULL
    if user_organizes(user=user, challenge=submission.challenge):
        return Access.FULL
    if submission.challenge.published and submission_is_ranked(submission):
        return Access.PUBLIC
    return Access.NONE


def outputs_visible(*, access: Access, challenge: Challenge) -> bool:
    """Outputs come from hidden input melodies: others hear them only once entries are closed."""
    if access == Access.FULL:
        return True
    return access == Access.PUBLIC and timezone.now() >= challenge.closes_at
