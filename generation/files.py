"""Who may read the studio's files (``/files/job-input|job-output|job-audio/<uuid>/``, and a user's models:
``/files/model|model-loss|model-measures/<uuid>/``): the owner and superusers; anyone else gets 404. Registered
with chartbusters.files from GenerationConfig.ready, so the download view (evaluation.views.files) serves them
without importing the studio."""

from __future__ import annotations

import uuid

from chartbusters.files import FileKind, StoredFile, download_name, register_file_reader
from generation.models import GenerationJob, UserCheckpoint

_FIELDS = {FileKind.JOB_INPUT: "input_midi", FileKind.JOB_OUTPUT: "output_midi", FileKind.JOB_AUDIO: "audio"}
_STEMS = {FileKind.JOB_INPUT: "studio-input", FileKind.JOB_OUTPUT: "studio", FileKind.JOB_AUDIO: "studio"}


def job_file(*, user, kind: str, token: uuid.UUID) -> StoredFile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    job = GenerationJob.objects.filter(public_id=token).first()
    if job is None or not (job.owner_id == user.pk or user.is_superuser):
        return None
    name = getattr(job, _FIELDS[FileKind(kind)]).name
    return StoredFile(name=name, download_name=download_name(_STEMS[FileKind(kind)], token, name)) if name else None


_MODEL_FIELDS = {FileKind.MODEL_BUNDLE: "bundle", FileKind.MODEL_LOSS: "loss_plot",
                 FileKind.MODEL_MEASURES: "measures_plot"}
_MODEL_STEMS = {FileKind.MODEL_BUNDLE: "model", FileKind.MODEL_LOSS: "loss", FileKind.MODEL_MEASURES: "measures"}


def model_file(*, user, kind: str, token: uuid.UUID) -> StoredFile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    checkpoint = UserCheckpoint.objects.filter(public_id=token).first()
    if checkpoint is None or not (checkpoint.owner_id == user.pk or user.is_superuser):
        return None
    name = getattr(checkpoint, _MODEL_FIELDS[FileKind(kind)]).name
    return StoredFile(name=name, download_name=download_name(_MODEL_STEMS[FileKind(kind)], token, name)) if name \
        else None


def register() -> None:
    for kind in _FIELDS:
        register_file_reader(kind, job_file)
    for kind in _MODEL_FIELDS:
        register_file_reader(kind, model_file)
