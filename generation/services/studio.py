"""The studio's other actions: save a version as a composition, upload one's own checkpoint (web side, no torch).

Saving goes through the submissions app's composition service (the same MIDI checks as an upload), so a saved
piece is in "My compositions" and can be entered in a Melody-Go-Round challenge with the same intake, licence and
quota as the API. Checkpoints get exactly the checks of a Melody Harvest entry (submissions' intake).
"""

from __future__ import annotations

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from generation.models import GenerationJob, UserCheckpoint
from generation.notes import NotesError, notes_to_midi_bytes
from generation.services.errors import StudioError
from generation.services.jobs import job_get_own, job_output_bytes
from submissions.models import Composition
from submissions.services.compositions import composition_create
from submissions.services.errors import EntryRefusedError
from submissions.services.intake import checkpoint_upload_check

NAME_REQUIRED_MESSAGE = "Give your model a name."
SAVE_SOURCE_MESSAGE = "Save either a generation (`job`) or the piano roll's notes (`notes`)."
CHECKPOINT_FILENAME = "model.safetensors"


def _refused(exc: EntryRefusedError) -> StudioError:
    return StudioError(exc.code, exc.message, status=exc.status)


def _keep_history(job: GenerationJob) -> None:
    """Mark ``job`` and every version it was made from as saved: the clean-up keeps them."""
    seen: set[int] = set()
    current: GenerationJob | None = job
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        current = current.parent
    GenerationJob.objects.filter(pk__in=seen).update(saved=True)


def studio_save(*, owner, title: str, job_id: int | None = None, notes=None) -> Composition:
    """Save a generation's result, or the piano roll as edited (``notes``; ``job_id`` then names the version it
    was edited from, whose history is kept), as ``owner``'s composition."""
    job = job_get_own(owner=owner, job_id=job_id) if job_id is not None else None
    if notes is not None:
        try:
            data = notes_to_midi_bytes(notes)
        except NotesError as exc:
            raise StudioError(exc.code, exc.message, status=413 if exc.code == "too_large" else 422) from exc
    elif job is not None:
        data = job_output_bytes(job)
    else:
        raise StudioError("no_source", SAVE_SOURCE_MESSAGE, status=400)
    with transaction.atomic():
        try:
            composition = composition_create(owner=owner, title=title, midi=data, filename="studio.mid",
                                             source=Composition.Source.STUDIO)
        except EntryRefusedError as exc:
            raise _refused(exc) from exc
        if job is not None:
            _keep_history(job)
            if notes is None:
                GenerationJob.objects.filter(pk=job.pk).update(composition=composition)
    return composition


def user_checkpoint_create(*, owner, name: str, weights: UploadedFile | None, config) -> UserCheckpoint:
    """Store ``owner``'s own checkpoint after the Melody Harvest entry checks (nothing stored when refused)."""
    if not name.strip():
        raise StudioError("name_required", NAME_REQUIRED_MESSAGE, status=422)
    try:
        config_dict = checkpoint_upload_check(checkpoint_file=weights, config=config)
    except EntryRefusedError as exc:
        raise _refused(exc) from exc
    checkpoint = UserCheckpoint(owner=owner, name=name.strip()[:200], architecture=config_dict["architecture"],
                                config=config_dict)
    weights.seek(0)
    checkpoint.weights.save(CHECKPOINT_FILENAME, File(weights), save=False)
    try:
        with transaction.atomic():
            checkpoint.save()
    except BaseException:
        checkpoint.weights.storage.delete(checkpoint.weights.name)
        raise
    return checkpoint
