"""Scoring one submission: the pipeline the "evaluation.score_submission" task runs (docs/design.md sections 5 and 6).

scoring -> score_pieces (reads: composition: its MIDI; checkpoint: the mean over its outputs) -> Score with every
part -> the entry's originality fingerprint, so later entries are checked against it -> scored, then audio is
queued (the last three in one transaction). Bad music (ScoringError) fails the entry with the scorer's message; any
other exception is the platform's fault: the entry fails with PLATFORM_FAULT_MESSAGE and does not count against quota.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models.fields.files import FieldFile

from chartbusters.dispatch import send_task
from evaluation.services.input_split import input_scores_apply
from evaluation.services.score_store import score_store
from submissions.models import Submission
from submissions.services.lifecycle import (
    submission_mark_failed,
    submission_mark_scored,
    submission_mark_scoring,
)

if TYPE_CHECKING:
    from evaluation.automatic import AutomaticScore

logger = logging.getLogger(__name__)

PLATFORM_FAULT_MESSAGE = (
    "The platform could not score this entry because of an internal error (it has been logged). "
    "It does not count against your quota: please submit it again later."
)
NO_OUTPUTS_MESSAGE = "Your model generated no output for any input melody, so there is nothing to score."
NO_MIDI_MESSAGE = "This entry has no MIDI file to score; submit the composition again."
FINISHED = (Submission.Status.SCORED, Submission.Status.FAILED)
RENDER_TASK = "evaluation.render_submission_audio"


class NothingToScoreError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def midi_files_of(submission: Submission) -> list[FieldFile]:
    """Composition entry: its MIDI; checkpoint entry: every generated output."""
    if submission.kind == Submission.Kind.CHECKPOINT:
        files = [output.midi for output in submission.outputs.all() if output.midi]
        if not files:
            raise NothingToScoreError(NO_OUTPUTS_MESSAGE)
        return files
    if not submission.midi:
        raise NothingToScoreError(NO_MIDI_MESSAGE)
    return [submission.midi]


@contextmanager
def local_copies(files: list[FieldFile]) -> Iterator[list[Path]]:
    """Copies of stored files on the local disk (media may live on S3-compatible storage)."""
    with tempfile.TemporaryDirectory(prefix="chartbusters-score-") as tmp:
        paths = []
        for i, field in enumerate(files):
            path = Path(tmp) / f"{i:03d}.mid"
            with field.open("rb") as src:
                path.write_bytes(src.read())
            paths.append(path)
        yield paths


def _score(submission: Submission):
    """(AutomaticScore, parsed pieces): the pieces are registered as the entry's fingerprint when the score lands."""
    from evaluation.automatic import load_pieces, score_pieces  # imports torch lazily: worker only

    with local_copies(midi_files_of(submission)) as paths:
        pms = load_pieces(paths)
    return score_pieces(pms, challenge=submission.challenge, exclude_submission_id=submission.pk), pms


def submission_score(*, submission_id: int) -> str:
    """Score a submission end to end; returns the status it ends in. A finished entry is left alone (a task
    delivered twice does nothing the second time)."""
    from evaluation.automatic import ScoringError

    submission = Submission.objects.select_related("challenge").get(pk=submission_id)
    if submission.status in FINISHED:
        return submission.status
    submission_mark_scoring(submission_id=submission_id)
    try:
        result, pms = _score(submission)
    except (ScoringError, NothingToScoreError) as exc:
        return _fail(submission_id=submission_id, error=exc.message, platform_fault=False)
    except Exception:
        logger.exception("Scoring submission %s failed", submission_id)
        return _fail(submission_id=submission_id, error=PLATFORM_FAULT_MESSAGE, platform_fault=True)
    try:
        submission_score_land(submission_id=submission_id, result=result, pms=pms)
    except Exception:
        logger.exception("Storing the score of submission %s failed", submission_id)
        return _fail(submission_id=submission_id, error=PLATFORM_FAULT_MESSAGE, platform_fault=True)
    return Submission.Status.SCORED


@transaction.atomic
def submission_score_land(*, submission_id: int, result: AutomaticScore, pms: list | None = None) -> None:
    """Store an AutomaticScore, register the entry's originality fingerprint (``pms``: its parsed pieces), mark the
    entry scored (its leaderboard row follows) and queue its audio, at once."""

    # Take the lifecycle's locks first (submission, challenge, entrant in one statement), so that this transaction
    # locks in the same order as every lifecycle change: no deadlock with another landing score or the reaper.
    submission = Submission.objects.select_for_update().select_related("challenge", "entrant").get(pk=submission_id)
    submission_score_store(submission=submission, result=result, pms=pms)
    submission_mark_scored(submission_id=submission_id)
    send_task(RENDER_TASK, args=(submission_id,), queue="audio")


def submission_score_store(*, submission: Submission, result: AutomaticScore, pms: list | None = None) -> None:
    """Store a scored entry's result as everyone sees it: per-input scores of a split Melody Harvest challenge
    (public / private, issue 26), the Score row, and the entry's originality fingerprint (``pms``). The one way a
    score is stored, by a landing score and by a rescore alike."""
    from evaluation.originality import originality_register

    result = input_scores_apply(submission=submission, result=result)
    score_store(
        submission_id=submission.pk,
        automatic=result.automatic,
        style=result.style,
        realness=result.realness,
        parts=result.parts,
        flagged_copy=result.flagged_copy,
        copy_penalty=result.copy_penalty,
        automatic_unpenalized=result.automatic_unpenalized,
        scorer_version=result.scorer_version,
    )
    if pms:
        originality_register(submission_id=submission.pk, pms=pms)


def _fail(*, submission_id: int, error: str, platform_fault: bool) -> str:
    """Fail the entry unless it already finished meanwhile (e.g. the reaper failed it while it was scoring)."""
    status = Submission.objects.filter(pk=submission_id).values_list("status", flat=True).first()
    if status in FINISHED:
        return status
    submission_mark_failed(submission_id=submission_id, error=error, platform_fault=platform_fault)
    return Submission.Status.FAILED
