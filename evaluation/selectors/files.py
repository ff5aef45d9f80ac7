"""Stored files as a viewer may read them: ``/files/<kind>/<uuid>/`` (chartbusters.files) -> the file, or None.

Every rule comes from ``evaluation.selectors.access`` (the same functions the pages and the API use), applied to
the row that holds the file. None means "not there, or not yours to read": the view answers 404 either way, so a
URL tells nobody whether a file exists.
"""

from __future__ import annotations

import uuid

from chartbusters.challenges.models import InputMelody, ReferenceFile
from chartbusters.files import FileKind, StoredFile, download_name
from chartbusters.signals import file_read_requested
from evaluation.models import Rendering
from evaluation.selectors.access import (
    Access,
    challenge_files_visible,
    checkpoint_visible,
    composition_visible,
    input_roles_of,
    music_withheld,
    outputs_visible,
    submission_access,
    user_organizes,
)
from submissions.models import Composition, Submission, SubmissionOutput

_SUBMISSION = ("challenge", "score")


def _stored(name: str, *, stem: str, token: uuid.UUID) -> StoredFile | None:
    return StoredFile(name=name, download_name=download_name(stem, token, name)) if name else None


def _submission_file(*, user, kind: str, token: uuid.UUID) -> StoredFile | None:
    submission = Submission.objects.select_related(*_SUBMISSION).filter(public_id=token).first()
    if submission is None:
        return None
    access = submission_access(user=user, submission=submission)
    if kind == FileKind.ENTRY and access != Access.NONE and not music_withheld(
            user=user, challenge=submission.challenge, access=access):
        return _stored(submission.midi.name, stem="entry", token=token)
    if kind == FileKind.CHECKPOINT and checkpoint_visible(access=access):
        return _stored(submission.checkpoint.name, stem="checkpoint", token=token)
    return None


def _output_visible(*, user, access: Access, output: SubmissionOutput) -> bool:
    challenge = output.submission.challenge
    return outputs_visible(access=access, challenge=challenge, organizer=user_organizes(user=user, challenge=challenge),
                           input_role=input_roles_of(challenge=challenge).get(output.input_name))


def _output_file(*, user, kind: str, token: uuid.UUID) -> StoredFile | None:
    output = SubmissionOutput.objects.select_related(
        *(f"submission__{name}" for name in _SUBMISSION)
    ).filter(public_id=token).first()
    if output is None:
        return None
    access = submission_access(user=user, submission=output.submission)
    if not _output_visible(user=user, access=access, output=output):
        return None
    field = output.midi if kind == FileKind.OUTPUT else output.audio
    return _stored(field.name, stem=kind, token=token)


def _rendering_file(*, user, kind: str, token: uuid.UUID) -> StoredFile | None:
    rendering = Rendering.objects.select_related(
        *(f"submission__{name}" for name in _SUBMISSION)
    ).filter(public_id=token).first()
    if rendering is None:
        return None
    access = submission_access(user=user, submission=rendering.submission)
    if rendering.output_id is not None:  # made from a hidden input melody
        allowed = _output_visible(user=user, access=access, output=rendering.output)
    else:
        allowed = access != Access.NONE and not music_withheld(user=user, challenge=rendering.submission.challenge,
                                                               access=access)
    if not allowed:
        return None
    field = rendering.audio if kind == FileKind.AUDIO else rendering.pianoroll
    return _stored(field.name, stem=kind, token=token)


def _challenge_file(*, user, kind: str, token: uuid.UUID) -> StoredFile | None:
    model = InputMelody if kind == FileKind.INPUT else ReferenceFile
    row = model.objects.select_related("challenge").filter(public_id=token).first()
    if row is None or not challenge_files_visible(user=user, challenge=row.challenge):
        return None
    return _stored(row.midi.name, stem=kind, token=token)


def _composition_file(*, user, kind: str, token: uuid.UUID) -> StoredFile | None:
    composition = Composition.objects.filter(public_id=token).first()
    if composition is None or not composition_visible(user=user, composition=composition):
        return None
    return _stored(composition.midi.name, stem=kind, token=token)


_READERS = {
    FileKind.ENTRY: _submission_file,
    FileKind.CHECKPOINT: _submission_file,
    FileKind.OUTPUT: _output_file,
    FileKind.OUTPUT_AUDIO: _output_file,
    FileKind.AUDIO: _rendering_file,
    FileKind.PIANOROLL: _rendering_file,
    FileKind.INPUT: _challenge_file,
    FileKind.REFERENCE: _challenge_file,
    FileKind.COMPOSITION: _composition_file,
}


def file_get_for_viewer(*, user, kind: str, token: uuid.UUID) -> StoredFile | None:
    """The stored file ``kind``/``token`` if ``user`` may read it, else None (unknown kind or row, empty field,
    or not theirs to read)."""
    try:
        file_kind = FileKind(kind)
    except ValueError:
        return None
    reader = _READERS.get(file_kind)
    if reader is not None:
        return reader(user=user, kind=file_kind, token=token)
    # the studio's kinds: the receiver connected for this kind (generation.files) answers
    responses = file_read_requested.send(sender=file_kind, user=user, token=token)
    return next((stored for _receiver, stored in responses if stored is not None), None)
