"""Submission reads for the results pages and API, with the visibility rules of ``evaluation.selectors.access``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from chartbusters.files import FileKind, file_url
from evaluation.models import Rendering, Score
from evaluation.selectors.access import (
    HIDDEN_NAME,
    HIDDEN_TITLE,
    Access,
    checkpoint_visible,
    entrant_name_shown,
    entrant_names_hidden,
    input_roles_of,
    music_withheld,
    outputs_visible,
    submission_access,
    user_organizes,
)
from submissions.models import Submission, SubmissionOutput

__all__ = ["HIDDEN_NAME", "OutputView", "ScoreView", "SubmissionView", "submission_get_for_viewer",
           "submission_list_mine", "submission_view", "submission_views_mine"]

REFERENCE_SOURCE = "a piece of the challenge's reference set"
ENTRY_SOURCE = "an earlier entry of this challenge"  # which one: the organizers' only while entries are open
INPUT_LABEL = "input {n}"  # outputs are named by position: hidden inputs' names are the organizers' only
IN_PROGRESS = (Submission.Status.QUEUED, Submission.Status.GENERATING, Submission.Status.SCORING)


@dataclass(frozen=True)
class ScoreView:
    automatic: float
    final: float
    style: float
    realness: float
    parts: dict
    flagged_copy: bool | None  # None: not shown (organizers and the entry's own entrant only)
    copy_penalty: float = 1.0  # the factor applied to the automatic score (1: none)
    automatic_unpenalized: float | None = None
    copy_cleared: bool = False  # an organizer cleared the copy flag


@dataclass(frozen=True)
class OutputView:
    id: int
    input_name: str
    midi_url: str | None
    audio_url: str | None
    pianoroll_url: str | None
    audio_error: str


@dataclass(frozen=True)
class SubmissionView:
    id: int
    challenge: str
    challenge_title: str
    title: str
    entrant: str
    kind: str
    status: str
    progress: int
    error: str
    disqualified: bool
    score: ScoreView | None
    midi_url: str | None
    audio_url: str | None
    pianoroll_url: str | None
    audio_error: str
    created_at: datetime
    checkpoint_url: str | None
    access: Access
    outputs: list[OutputView] = field(default_factory=list)
    disqualification_reason: str = ""  # the organizers' reason: the entrant and organizers only
    likes: int = 0

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS


def _url(kind: FileKind, row, name: str | None) -> str | None:
    """The access-checked URL of one of ``row``'s files (``/files/<kind>/<public_id>/``), None when it has none."""
    return file_url(kind, row.public_id) if row is not None and name else None


def _audio_url(rendering: Rendering | None) -> str | None:
    return _url(FileKind.AUDIO, rendering, rendering.audio.name if rendering else None)


def _pianoroll_url(rendering: Rendering | None) -> str | None:
    return _url(FileKind.PIANOROLL, rendering, rendering.pianoroll.name if rendering else None)


def _queryset() -> QuerySet[Submission]:
    return Submission.objects.select_related("challenge", "entrant", "score").annotate(
        n_likes=Count("likes", distinct=True)
    ).prefetch_related(
        Prefetch("renderings", queryset=Rendering.objects.filter(output__isnull=True), to_attr="entry_renderings"),
        Prefetch("outputs", queryset=SubmissionOutput.objects.select_related("rendering")),
    )


def _score_view(score: Score | None, *, organizer: bool, own: bool = False,
                entries_open: bool = False) -> ScoreView | None:
    if score is None:
        return None
    parts = dict(score.parts)
    if not organizer and parts.get("judges"):
        # Judging is blind both ways: entrants see each rubric, not who gave it.
        parts["judges"] = [{k: v for k, v in j.items() if k != "judge"} for j in parts["judges"]]
    longest = (parts.get("originality") or {}).get("longest")
    if not organizer and isinstance(longest, dict) and longest.get("kind") == "reference":
        # Reference files, like hidden inputs, are the organizers' only: their names too.
        parts["originality"] = {**parts["originality"], "longest": {**longest, "source": REFERENCE_SOURCE}}
    if not organizer and entries_open and isinstance(longest, dict) and longest.get("kind") == "entry":
        # Issue 24: while entries are open the matched entry is not named (nor its track and bar): an entrant could
        # otherwise find, and study, the entry that theirs resembles.
        parts["originality"] = {**parts["originality"], "longest": {
            **longest, "source": ENTRY_SOURCE, "source_track": "", "source_bar": None}}
    return ScoreView(
        automatic=score.automatic,
        final=score.final,
        style=score.style,
        realness=score.realness,
        parts=parts,
        flagged_copy=score.flagged_copy if (organizer or own) else None,
        copy_penalty=score.copy_penalty,
        automatic_unpenalized=score.automatic if score.automatic_unpenalized is None else score.automatic_unpenalized,
        copy_cleared=score.copy_cleared_at is not None,
    )


def _output_view(output: SubmissionOutput, *, position: int, organizer: bool) -> OutputView:
    rendering = getattr(output, "rendering", None)
    audio_url = _audio_url(rendering) or _url(FileKind.OUTPUT_AUDIO, output, output.audio.name)
    return OutputView(
        id=output.pk,
        input_name=output.input_name if organizer else INPUT_LABEL.format(n=position),
        midi_url=_url(FileKind.OUTPUT, output, output.midi.name),
        audio_url=audio_url,
        pianoroll_url=_pianoroll_url(rendering),
        audio_error=rendering.error if rendering else "",
    )


def submission_view(*, submission: Submission, access: Access, organizer: bool,
                    entrant: str | None = None) -> SubmissionView:
    """What ``access`` shows of ``submission``; ``entrant`` replaces the entrant's name (blind judging)."""
    rendering = submission.entry_renderings[0] if getattr(submission, "entry_renderings", None) else None
    full = access == Access.FULL
    score = getattr(submission, "score", None) if (full or submission.status == Submission.Status.SCORED) else None
    roles = input_roles_of(challenge=submission.challenge) if submission.outputs.all() else {}
    outputs = [
        _output_view(o, position=i, organizer=organizer)
        for i, o in enumerate(submission.outputs.all(), start=1)
        if outputs_visible(access=access, challenge=submission.challenge, organizer=organizer,
                           input_role=roles.get(o.input_name))
    ]
    checkpoint = submission.checkpoint.name if checkpoint_visible(access=access) else None
    return SubmissionView(
        id=submission.pk,
        challenge=submission.challenge.slug,
        challenge_title=submission.challenge.title,
        title=submission.title,
        entrant=submission.entrant.username if entrant is None else entrant,
        kind=submission.kind,
        status=submission.status,
        progress=submission.progress,
        error=submission.error if full else "",
        disqualified=submission.disqualified,
        score=_score_view(score, organizer=organizer, own=full,
                          entries_open=timezone.now() < submission.challenge.closes_at),
        midi_url=_url(FileKind.ENTRY, submission, submission.midi.name),
        audio_url=_audio_url(rendering),
        pianoroll_url=_pianoroll_url(rendering),
        audio_error=rendering.error if rendering else "",
        created_at=submission.created_at,
        checkpoint_url=_url(FileKind.CHECKPOINT, submission, checkpoint),
        access=access,
        outputs=outputs,
        disqualification_reason=submission.disqualification_reason if (full and submission.disqualified) else "",
        likes=getattr(submission, "n_likes", 0),
    )


def submission_get_for_viewer(*, user, submission_id: int) -> SubmissionView | None:
    """The submission as this user may see it, or None (not there, or not theirs to see: the API answers 404)."""
    submission = _queryset().filter(pk=submission_id).first()
    if submission is None:
        return None
    access = submission_access(user=user, submission=submission)
    if access == Access.NONE:
        return None
    challenge = submission.challenge
    hidden = entrant_names_hidden(user=user, challenge=challenge)
    entrant = entrant_name_shown(
        name=submission.entrant.username, entrant_id=submission.entrant_id, user=user, names_hidden=hidden
    )
    view = submission_view(
        submission=submission, access=access, organizer=user_organizes(user=user, challenge=challenge),
        entrant=entrant,
    )
    own = submission.entrant_id == getattr(user, "pk", None)
    if hidden and not own:
        view = replace(view, title=HIDDEN_TITLE)
    if music_withheld(user=user, challenge=challenge, access=access):
        view = replace(view, midi_url=None, audio_url=None, pianoroll_url=None, outputs=[])
    return view


def submission_list_mine(*, user, challenge_slug: str | None = None) -> QuerySet[Submission]:
    """The user's own submissions, newest first (turn each into a view with ``submission_views_mine``)."""
    qs = _queryset().filter(entrant_id=user.pk).order_by("-created_at", "-id")
    if challenge_slug:
        qs = qs.filter(challenge__slug=challenge_slug)
    return qs


def submission_views_mine(submissions) -> list[SubmissionView]:
    return [
        submission_view(submission=s, access=Access.FULL, organizer=s.entrant.is_superuser) for s in submissions
    ]
