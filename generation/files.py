"""Who may read the studio's files (``/files/job-input|job-output|job-audio/<uuid>/``, and a user's models:
``/files/model|model-loss|model-measures/<uuid>/``): the owner and superusers; anyone else gets 404. ``owner_file``
receives ``chartbusters.signals.file_read_requested`` for each of these kinds (connected in GenerationConfig.ready),
so the download view (evaluation.views.files) serves them without importing the studio."""

from __future__ import annotations

import uuid

from chartbusters.files import FileKind, StoredFile, download_name
from chartbusters.signals import file_read_requested
from generation.models import GenerationJob, UserCheckpoint

# kind -> (the row's model, its file field, the download name's stem)
_FILES = {
    FileKind.JOB_INPUT: (GenerationJob, "input_midi", "studio-input"),
    FileKind.JOB_OUTPUT: (GenerationJob, "output_midi", "studio"),
    FileKind.JOB_AUDIO: (GenerationJob, "audio", "studio"),
    FileKind.MODEL_BUNDLE: (UserCheckpoint, "bundle", "model"),
    FileKind.MODEL_LOSS: (UserCheckpoint, "loss_plot", "loss"),
    FileKind.MODEL_MEASURES: (UserCheckpoint, "measures_plot", "measures"),
}


def owner_file(sender: FileKind, *, user, token: uuid.UUID, **kwargs) -> StoredFile | None:
    """The file of kind ``sender`` of the row named by ``token``, if ``user`` owns the row or is a superuser (the
    receiver of ``file_read_requested`` for the studio's kinds)."""
    if not getattr(user, "is_authenticated", False):
        return None
    model, field, stem = _FILES[FileKind(sender)]
    row = model.objects.filter(public_id=token).first()
    if row is None or not (row.owner_id == user.pk or user.is_superuser):
        return None
    name = getattr(row, field).name
    if not name:
        return None
    # a job's files are written once (input when queued, result and audio when done): cached by the browser
    immutable = model is GenerationJob
    return StoredFile(name=name, download_name=download_name(stem, token, name), immutable=immutable)


def connect() -> None:
    """``owner_file`` answers ``file_read_requested`` for each of the studio's kinds (from GenerationConfig.ready)."""
    for kind in _FILES:
        file_read_requested.connect(owner_file, sender=kind, dispatch_uid=f"generation.files.{kind.value}")
