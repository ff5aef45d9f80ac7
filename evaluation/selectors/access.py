"""Who may see what: challenges, submissions, names, files and the CSV export (docs/competing.md "Results visibility").

This module is the one place for these rules: the pages, the API and the file view (/files/<kind>/<uuid>/) all ask it.

- A challenge's leaderboard is public when the challenge is published; organizers of the challenge and superusers see
  unpublished ones too.
- A submission is seen in FULL (status, error, files, outputs, score) by its entrant, the challenge's organizers and
  superusers; everyone else (anonymous, other entrants, judges) sees a PUBLIC view only while it is ranked (scored, not
  disqualified, published challenge): its score, audio, piano roll and MIDI, never an error; a checkpoint entry's
  outputs (made from the hidden input melodies) only once the challenge is closed for entries. Otherwise: 404.
- Hidden inputs stay with the organizers until the close (issue 24): a checkpoint entry's outputs made from hidden
  inputs are withheld from everyone but the organizers until entries close, the entrant included; the entrant
  hears their model on the challenge's example inputs (InputMelody.Role.EXAMPLE) at once.
- Files follow their row: an entry's MIDI, audio and piano roll whoever sees the entry; its checkpoint FULL only;
  outputs as above; hidden input melodies and reference files the challenge's organizers and superusers only
  (workers read the disk); a saved composition its owner (and superusers) only.
- Blind until publication (issue 24): a challenge with human judging (alpha > 0) is blind from its opening until
  its results are final. Its organizers choose what the public board shows meanwhile (JudgingSettings.public_board):
  music without names (nobody but the organizers sees who entered what, nor an entry's title, except each entrant
  their own) or names without music (names and titles shown, but no entry's MIDI, audio or piano roll to anyone
  but the entrant and organizers). Either way no public page, answer or file ties music to an entrant or title.
- Blind judging: while a challenge is being judged (from its closing until the results are final: published, or
  judging ended with every ranked entry judged), nobody without organizer rights sees who entered what, except each
  entrant their own entries. The challenge's judges see no names from the start until then.
- The leaderboard CSV is for the challenge's organizers and superusers ("staff": every organizer has is_staff for
  the admin, so is_staff alone would open every challenge's CSV to the organizers of any challenge).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from django.db.models import Exists, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from chartbusters.challenges.models import Challenge, InputMelody
from evaluation.models import JudgingSettings
from evaluation.selectors.leaderboard import leaderboard_is_provisional, rescoring_exists
from submissions.models import Composition, Submission
from submissions.selectors import user_organizes  # superusers and the challenge's own organizers

__all__ = [
    "HIDDEN_NAME", "HIDDEN_TITLE", "Access", "challenge_files_visible", "challenge_get_visible", "checkpoint_visible",
    "composition_visible", "entrant_name_shown", "entrant_names_hidden", "input_roles_of", "leaderboard_row_shown",
    "music_withheld", "outputs_visible", "submission_access", "user_organizes",
]

HIDDEN_NAME = "(hidden during judging)"
HIDDEN_TITLE = "(title hidden during judging)"


class Access(StrEnum):
    FULL = "full"
    PUBLIC = "public"
    NONE = "none"


def challenge_get_visible(*, slug: str, user, with_leaderboard_token: bool = False) -> Challenge | None:
    """The challenge with this slug if the user may see it, else None. ``with_leaderboard_token`` also reads the
    leaderboard's cache token in the same query (as ``challenge.leaderboard_token``), what its public board shows
    (``challenge.public_board``), whether it is being rescored (``challenge.rescoring_now``) and whether the viewer
    judges it or organizes it (``challenge.viewer_is_judge``, ``challenge.viewer_organizes``): the leaderboard's
    whole state in one query."""
    challenges = Challenge.objects.filter(slug=slug)
    if with_leaderboard_token:
        board = JudgingSettings.objects.filter(challenge_id=OuterRef("pk")).values("public_board")[:1]
        challenges = challenges.annotate(
            leaderboard_token=F("leaderboard_version__token"),
            public_board=Coalesce(Subquery(board), Value(JudgingSettings.PublicBoard.MUSIC.value)),
            rescoring_now=rescoring_exists(),
        )
        if getattr(user, "is_authenticated", False):  # entrant_names_hidden() then needs no query of its own
            judges = Challenge.judges.through.objects.filter(challenge_id=OuterRef("pk"), user_id=user.pk)
            organizers = Challenge.organizers.through.objects.filter(challenge_id=OuterRef("pk"), user_id=user.pk)
            challenges = challenges.annotate(viewer_is_judge=Exists(judges), viewer_organizes=Exists(organizers))
    challenge = challenges.first()
    if challenge is None:
        return None
    if challenge.published or user_organizes(user=user, challenge=challenge):
        return challenge
    return None


def _organizes(*, user, challenge: Challenge) -> bool:
    organizes = getattr(challenge, "viewer_organizes", None)
    if organizes is None or not getattr(user, "is_authenticated", False):
        return user_organizes(user=user, challenge=challenge)
    return organizes or user.is_superuser


def _judges(*, user, challenge: Challenge) -> bool:
    is_judge = getattr(challenge, "viewer_is_judge", None)
    if is_judge is None:
        is_judge = challenge.judges.filter(pk=user.pk).exists()
    return is_judge


def _blind_until_final(*, challenge: Challenge, now: datetime) -> bool:
    """A challenge with human judging (alpha > 0) is blind from its opening until its results are final."""
    return challenge.alpha > 0 and leaderboard_is_provisional(challenge=challenge, now=now)


def _public_board(challenge: Challenge) -> str:
    board = getattr(challenge, "public_board", None)  # the pages may read it once per request
    if board is None:
        board = JudgingSettings.objects.filter(challenge_id=challenge.pk).values_list("public_board", flat=True)
        board = board.first() or JudgingSettings.PublicBoard.MUSIC
        challenge.public_board = board
    return board


def entrant_names_hidden(*, user, challenge: Challenge, now: datetime | None = None) -> bool:
    """Blind judging: whether ``user`` must not see who entered what in ``challenge`` (except their own entries,
    see ``entrant_name_shown``), nor the entries' titles. Hidden from everyone but the challenge's organizers and
    superusers from the opening of a judged challenge whose public board shows music without names, and while any
    challenge is being judged (closed for entries, results not final yet); from its judges from the start."""
    if challenge.results_published or _organizes(user=user, challenge=challenge):
        return False
    now = now or timezone.now()
    is_judge = getattr(user, "is_authenticated", False) and _judges(user=user, challenge=challenge)
    if _blind_until_final(challenge=challenge, now=now):
        return is_judge or _public_board(challenge) == JudgingSettings.PublicBoard.MUSIC
    if now >= challenge.closes_at:
        return leaderboard_is_provisional(challenge=challenge, now=now)
    return is_judge


def music_withheld(*, user, challenge: Challenge, access: Access | None = None, now: datetime | None = None) -> bool:
    """Names without music: whether the entries' files (MIDI, audio, piano roll, outputs) are withheld from
    ``user`` (everyone but the entrant, with FULL access, and the organizers) until the results are final."""
    if access == Access.FULL or challenge.results_published or _organizes(user=user, challenge=challenge):
        return False
    now = now or timezone.now()
    return _blind_until_final(challenge=challenge, now=now) and (
        _public_board(challenge) == JudgingSettings.PublicBoard.NAMES)


def entrant_name_shown(*, name: str, entrant_id: int, user, names_hidden: bool) -> str:
    """The entrant's name as ``user`` may see it: their own always, others' unless names are hidden."""
    if names_hidden and entrant_id != getattr(user, "pk", None):
        return HIDDEN_NAME
    return name


def leaderboard_row_shown(row: dict | None, *, user, names_hidden: bool, music_hidden: bool = False) -> dict | None:
    """A leaderboard row as ``user`` may see it: without the entrant's id, with their name and the entry's title
    only where blind judging allows it (``names_hidden`` from ``entrant_names_hidden``, asked once per page), without
    audio where the music is withheld (``music_hidden`` from ``music_withheld``)."""
    if row is None:
        return None
    own = row["entrant_id"] == getattr(user, "pk", None)
    shown = {key: value for key, value in row.items() if key != "entrant_id"}
    shown["entrant"] = entrant_name_shown(name=row["entrant"], entrant_id=row["entrant_id"], user=user,
                                          names_hidden=names_hidden)
    if names_hidden and not own and "title" in shown:
        shown["title"] = HIDDEN_TITLE
    if music_hidden and not own and "audio_url" in shown:
        shown["audio_url"] = None
    return shown


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


def input_roles_of(*, challenge: Challenge) -> dict[str, str]:
    """{input melody name: role} of the challenge's inputs (InputMelody.Role: example, public or private)."""
    return dict(challenge.input_melodies.values_list("name", "role"))


def outputs_visible(*, access: Access, challenge: Challenge, organizer: bool = False,
                    input_role: str | None = None) -> bool:
    """Whether a checkpoint entry's output made from an input of role ``input_role`` (None: a hidden one) is seen.

    Outputs made from a hidden input (public or private part) would give the hidden melody away (the models keep
    the melody): until entries close, nobody but the challenge's organizers hears them, the entrant included.
    Outputs made from an example input are the entrant's at once (how they hear their model). Others hear outputs
    only once entries are closed (and not while the music of a judged challenge is withheld)."""
    if organizer:
        return True
    closed = timezone.now() >= challenge.closes_at
    if access == Access.FULL:
        return closed or input_role == InputMelody.Role.EXAMPLE
    return access == Access.PUBLIC and closed and not music_withheld(user=None, challenge=challenge, access=access)


def checkpoint_visible(*, access: Access) -> bool:
    """A checkpoint entry's weights: its entrant, the challenge's organizers and superusers only."""
    return access == Access.FULL


def challenge_files_visible(*, user, challenge: Challenge) -> bool:
    """Hidden input melodies and reference files: the challenge's organizers and superusers (workers read the
    disk directly)."""
    return user_organizes(user=user, challenge=challenge)


def composition_visible(*, user, composition: Composition) -> bool:
    """A saved composition is private: its owner (and superusers)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return composition.owner_id == user.pk or user.is_superuser
