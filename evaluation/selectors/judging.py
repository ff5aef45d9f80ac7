"""Reads for human judging (docs/judging.md): what to judge, the judge's queue and one anonymous entry, the
results as they stand (raw and leniency-adjusted), agreement, and the organizers' overview.

A judge's views hold an entry number, never the entry's id, title, entrant, e-mail or file name, and the files
by the review's own URLs (``review_url``), never the entry's public ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from chartbusters.challenges.models import Challenge
from evaluation.formula import final_score
from evaluation.judging import Agreement, agreement, standardize
from evaluation.models import JudgeAssignment, JudgeConflict, JudgingSettings, LeaderboardEntry, Like, Rendering
from submissions.models import Submission, SubmissionOutput

Status = JudgeAssignment.Status


def judging_settings_of(*, challenge: Challenge) -> JudgingSettings:
    """The challenge's judging settings (an unsaved row with the defaults when it has none)."""
    found = JudgingSettings.objects.filter(challenge_id=challenge.pk).first()
    return found or JudgingSettings(challenge=challenge)


def _likes_of_submission():
    return Coalesce(
        Subquery(Like.objects.filter(submission_id=OuterRef("submission_id")).values("submission_id")
                 .annotate(n=Count("pk")).values("n")[:1]),
        Value(0),
    )


def judging_entries_to_judge(*, challenge: Challenge, settings: JudgingSettings) -> list[tuple[int, int]]:
    """(submission id, entrant id) of the entries to judge: each entrant's best ranked entry (the leaderboard's
    rows), all of them or the top N by automatic score or by audience likes."""
    rows = LeaderboardEntry.objects.filter(
        challenge=challenge, submission__status=Submission.Status.SCORED, submission__disqualified=False
    )
    selection = settings.selection
    if selection == JudgingSettings.Selection.TOP_LIKES:
        rows = rows.annotate(n_likes=_likes_of_submission()).order_by(
            "-n_likes", "-automatic", "submitted_at", "submission_id")[: settings.selection_top_n]
    elif selection == JudgingSettings.Selection.TOP_AUTOMATIC:
        rows = rows.order_by("-automatic", "submitted_at", "submission_id")[: settings.selection_top_n]
    else:
        rows = rows.order_by("submission_id")
    return [(r["submission_id"], r["entrant_id"]) for r in rows.values("submission_id", "entrant_id")]


def judging_forbidden_pairs(*, challenge: Challenge, submissions: list[tuple[int, int]],
                            judges: list[int]) -> set[tuple[int, int]]:
    """(submission, judge) pairs that may not meet: the judge entered it, or is marked as connected to its
    entrant."""
    conflicts = set(JudgeConflict.objects.filter(challenge=challenge).values_list("judge_id", "entrant_id"))
    return {
        (submission_id, judge_id)
        for submission_id, entrant_id in submissions
        for judge_id in judges
        if judge_id == entrant_id or (judge_id, entrant_id) in conflicts
    }


# --------------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ReviewResult:
    assignment_id: int
    judge_id: int
    judge: str
    round: int
    status: str
    originality: int | None
    balance: int | None
    emotion: int | None
    comment: str
    raw: float | None
    adjusted: float | None


@dataclass
class EntryResult:
    submission_id: int
    entrant_id: int
    entrant: str
    entry_number: int
    automatic: float
    likes: int
    reviews: list[ReviewResult] = field(default_factory=list)
    counted_round: int | None = None  # the round whose submitted reviews make the judge score
    judge_score: float | None = None
    raw_mean: float | None = None
    adjusted_mean: float | None = None
    spread_low: float | None = None  # lowest and highest raw judge score of the counted round
    spread_high: float | None = None
    final: float = 0.0
    judges_for_score: list[dict] = field(default_factory=list)


@dataclass
class JudgingResults:
    settings: JudgingSettings
    entries: list[EntryResult]
    agreement: Agreement
    total: int
    done: int
    final_round_started: bool = False


def judging_results(*, challenge: Challenge) -> JudgingResults:
    """Every judged entry with its reviews, raw and leniency-adjusted judge scores and the final score they give
    (docs/design.md §5: final = (1 - alpha) * automatic + alpha * mean judge score, the judge score raw or adjusted
    as the settings say). An entry's judge score comes from its last round with submitted reviews (a finalist's:
    the final round). Standardization uses every submitted review of the challenge, both rounds."""
    settings = judging_settings_of(challenge=challenge)
    assignments = list(
        JudgeAssignment.objects.filter(challenge=challenge)
        .select_related("judge", "submission__score", "submission__entrant")
        .annotate(n_likes=_likes_of_submission())
        .order_by("entry_number", "round", "pk")
    )
    submitted = [a for a in assignments if a.status == Status.SUBMITTED]
    adjusted = standardize((a.judge_id, (a.submission_id, a.round), a.raw_score) for a in submitted)
    entries: dict[int, EntryResult] = {}
    for a in assignments:
        score = getattr(a.submission, "score", None)
        entry = entries.get(a.submission_id)
        if entry is None:
            entry = entries[a.submission_id] = EntryResult(
                submission_id=a.submission_id, entrant_id=a.submission.entrant_id,
                entrant=a.submission.entrant.get_username(), entry_number=a.entry_number,
                automatic=score.automatic if score else 0.0, likes=a.n_likes,
            )
        done = a.status == Status.SUBMITTED
        entry.reviews.append(ReviewResult(
            assignment_id=a.pk, judge_id=a.judge_id, judge=a.judge.get_username(), round=a.round, status=a.status,
            originality=a.originality, balance=a.balance, emotion=a.emotion, comment=a.comment,
            raw=a.raw_score if done else None,
            adjusted=adjusted.get((a.judge_id, (a.submission_id, a.round))) if done else None,
        ))
    use_adjusted = settings.judge_scores == JudgingSettings.JudgeScores.ADJUSTED
    for entry in entries.values():
        counted_round = max((r.round for r in entry.reviews if r.raw is not None), default=None)
        entry.counted_round = counted_round
        counted = [r for r in entry.reviews if r.raw is not None and r.round == counted_round]
        entry.final = entry.automatic
        if counted:
            entry.raw_mean = sum(r.raw for r in counted) / len(counted)
            entry.spread_low, entry.spread_high = min(r.raw for r in counted), max(r.raw for r in counted)
            entry.adjusted_mean = sum(r.adjusted for r in counted) / len(counted)
            entry.judge_score = entry.adjusted_mean if use_adjusted else entry.raw_mean
            entry.final = final_score(automatic=entry.automatic, judge=entry.judge_score, audience=None,
                                      alpha=challenge.alpha)
            entry.judges_for_score = [
                {"judge": r.judge_id, "round": r.round, "originality": r.originality, "balance": r.balance,
                 "emotion": r.emotion, "comment": r.comment, "raw": r.raw, "adjusted": r.adjusted,
                 "score": r.adjusted if use_adjusted else r.raw}
                for r in counted
            ]
    return JudgingResults(
        settings=settings,
        entries=sorted(entries.values(), key=lambda e: e.entry_number),
        agreement=agreement((a.judge.get_username(), (a.entry_number, a.round), a.raw_score) for a in submitted),
        total=len(assignments),
        done=len(submitted),
        final_round_started=any(a.round == 2 for a in assignments),
    )


# ------------------------------------------------------------------------------------------- the judge's side
@dataclass(frozen=True)
class QueueItem:
    id: int
    challenge: str
    challenge_title: str
    round: int
    entry_number: int
    status: str


@dataclass(frozen=True)
class QueueGroup:
    challenge: str
    challenge_title: str
    done: int
    total: int
    items: list[QueueItem]


def judge_queue(*, judge) -> list[QueueGroup]:
    """The judge's assignments, per challenge, with progress (submitted of assigned)."""
    rows = (
        JudgeAssignment.objects.filter(judge_id=judge.pk)
        .select_related("challenge")
        .order_by("challenge__closes_at", "challenge_id", "round", "entry_number")
    )
    groups: dict[int, list[QueueItem]] = defaultdict(list)
    titles: dict[int, tuple[str, str]] = {}
    for a in rows:
        titles[a.challenge_id] = (a.challenge.slug, a.challenge.title)
        groups[a.challenge_id].append(QueueItem(id=a.pk, challenge=a.challenge.slug,
                                                challenge_title=a.challenge.title, round=a.round,
                                                entry_number=a.entry_number, status=a.status))
    return [
        QueueGroup(challenge=titles[cid][0], challenge_title=titles[cid][1],
                   done=sum(i.status == Status.SUBMITTED for i in items), total=len(items), items=items)
        for cid, items in groups.items()
    ]


@dataclass(frozen=True)
class ListenView:
    label: str
    audio_url: str | None
    pianoroll_url: str | None


@dataclass(frozen=True)
class JudgeEntryView:
    """One assignment as its judge sees it: anonymous (an entry number), the music, the rubric so far."""

    id: int
    challenge: str
    challenge_title: str
    round: int
    entry_number: int
    status: str
    originality: int | None
    balance: int | None
    emotion: int | None
    comment: str
    automatic: float | None  # None unless the organizers show it to judges
    midi_url: str | None
    listen: list[ListenView]
    position: int
    total: int
    done: int
    previous_id: int | None
    next_id: int | None
    editable: bool


def review_url(assignment_id: int, name: str) -> str:
    """A file of a review, by the review's own URL (``/judging/assignments/<id>/files/<name>/``): never the
    entry's public file URL, so a judge cannot match an entry number with a row of the public leaderboard."""
    return f"/judging/assignments/{assignment_id}/files/{name}/"


def _review_renderings(submission: Submission) -> list[tuple[str, Rendering | None]]:
    """(label, rendering) in the order the review's files are numbered: the entry's, then each output's."""
    found: list[tuple[str, Rendering | None]] = []
    entry_rendering = Rendering.objects.filter(submission=submission, output__isnull=True).first()
    if entry_rendering is not None:
        found.append(("The entry", entry_rendering))
    outputs = SubmissionOutput.objects.filter(submission=submission).select_related("rendering").order_by(
        "input_name", "pk")
    for i, output in enumerate(outputs, start=1):
        found.append((f"Input {i}", getattr(output, "rendering", None)))
    return found


@dataclass(frozen=True)
class ReviewSource:
    """What a judge's file is made from: the entry's (or output's) MIDI, anonymized per judge by
    ``evaluation.services.review_copies`` (never the stored public file itself)."""

    assignment_id: int
    challenge_id: int
    entry_number: int
    name: str  # midi, audio-<n> or pianoroll-<n>
    kind: str  # midi, audio or pianoroll
    midi_name: str  # the stored MIDI it is made from
    ordinal: int = 0  # this review's place among the entry's reviews: each judge's copy starts at its own time


def judge_review_file(*, judge, assignment_id: int, name: str) -> ReviewSource | None:
    """A file of the judge's own review: ``midi``, ``audio-<n>`` or ``pianoroll-<n>`` (n from 0 as listed on the
    page); None when it is not theirs or not there."""
    a = JudgeAssignment.objects.select_related("submission").filter(
        pk=assignment_id, judge_id=getattr(judge, "pk", None)).first()
    if a is None:
        return None
    if name == "midi":
        kind, stored = "midi", a.submission.midi.name
    else:
        kind, _, index = name.partition("-")
        renderings = _review_renderings(a.submission)
        if kind not in ("audio", "pianoroll") or not index.isdigit() or int(index) >= len(renderings):
            return None
        rendering = renderings[int(index)][1]
        if rendering is None or not getattr(rendering, kind).name:
            return None
        midi = rendering.output.midi if rendering.output_id is not None else a.submission.midi
        stored = midi.name
    if not stored:
        return None
    ordinal = JudgeAssignment.objects.filter(submission_id=a.submission_id, pk__lt=a.pk).count()
    return ReviewSource(assignment_id=a.pk, challenge_id=a.challenge_id, entry_number=a.entry_number, name=name,
                        kind=kind, midi_name=stored, ordinal=ordinal)


def judging_public_file_sizes(*, challenge_id: int) -> frozenset[int]:
    """Sizes of every file of the challenge that a public page can serve (entries' MIDI, outputs, audio, piano
    rolls): a judge's copy is made to differ from each."""
    from django.core.files.storage import default_storage

    names = [*Submission.objects.filter(challenge_id=challenge_id).exclude(midi="").values_list("midi", flat=True),
             *SubmissionOutput.objects.filter(submission__challenge_id=challenge_id).exclude(midi="")
             .values_list("midi", flat=True)]
    for audio, roll in Rendering.objects.filter(submission__challenge_id=challenge_id).values_list("audio",
                                                                                                   "pianoroll"):
        names += [audio, roll]
    sizes = set()
    for stored in filter(None, names):
        try:
            sizes.add(default_storage.size(stored))
        except OSError:
            continue
    return frozenset(sizes)


def judge_assignment_view(*, judge, assignment_id: int) -> JudgeEntryView | None:
    """The assignment if it is this judge's, else None."""
    a = (
        JudgeAssignment.objects.select_related("challenge", "submission__score")
        .filter(pk=assignment_id, judge_id=getattr(judge, "pk", None)).first()
    )
    if a is None:
        return None
    submission = a.submission
    listen = [
        ListenView(label,
                   review_url(a.pk, f"audio-{i}") if rendering is not None and rendering.audio else None,
                   review_url(a.pk, f"pianoroll-{i}") if rendering is not None and rendering.pianoroll else None)
        for i, (label, rendering) in enumerate(_review_renderings(submission))
    ]
    siblings = list(JudgeAssignment.objects.filter(judge_id=judge.pk, challenge_id=a.challenge_id)
                    .order_by("round", "entry_number").values_list("pk", "status"))
    ids = [pk for pk, _ in siblings]
    index = ids.index(a.pk)
    settings = judging_settings_of(challenge=a.challenge)
    score = getattr(submission, "score", None)
    return JudgeEntryView(
        id=a.pk, challenge=a.challenge.slug, challenge_title=a.challenge.title, round=a.round,
        entry_number=a.entry_number, status=a.status, originality=a.originality, balance=a.balance,
        emotion=a.emotion, comment=a.comment,
        automatic=score.automatic if (settings.show_automatic and score is not None) else None,
        midi_url=review_url(a.pk, "midi") if submission.midi else None,
        listen=listen, position=index + 1, total=len(ids),
        done=sum(status == Status.SUBMITTED for _, status in siblings),
        previous_id=ids[index - 1] if index > 0 else None,
        next_id=ids[index + 1] if index + 1 < len(ids) else None,
        editable=a.status != Status.SUBMITTED and not a.challenge.results_published,
    )
