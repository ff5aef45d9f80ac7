"""The studio's other actions: save a version as a composition, upload one's own checkpoint (web side, no torch).

Saving goes through the submissions app's composition service (the same MIDI checks as an upload), so a saved
piece is in "My compositions" and can be entered in a Melody-Go-Round challenge with the same intake, licence and
quota as the API. Checkpoints get exactly the checks of a Melody Harvest entry (submissions' intake).
"""

from __future__ import annotations

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from chartbusters.challenges.models import Challenge
from chartbusters.errors import ApplicationError
from generation.models import GenerationJob, UserCheckpoint
from generation.notes import NotesError, notes_to_midi_bytes
from generation.services.jobs import job_get_own, job_output_bytes
from submissions.models import Composition, Submission
from submissions.services.compositions import composition_create
from submissions.services.intake import checkpoint_upload_check, submission_create_checkpoint

NAME_REQUIRED_MESSAGE = "Give your model a name."
MODEL_NOT_FOUND_MESSAGE = "You have no model #{id}."
CHALLENGE_NOT_FOUND_MESSAGE = "There is no challenge {slug!r}."
MODEL_IN_USE_MESSAGE = "Model #{id} is still training or generating; delete it when that has finished."
SAVE_SOURCE_MESSAGE = "Save either a generation (`job`) or the piano roll's notes (`notes`)."
CHECKPOINT_FILENAME = "model.safetensors"


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
            raise ApplicationError(exc.code, exc.message, status=413 if exc.code == "too_large" else 422) from exc
    elif job is not None:
        data = job_output_bytes(job)
    else:
        raise ApplicationError("no_source", SAVE_SOURCE_MESSAGE, status=400)
    with transaction.atomic():
        composition = composition_create(owner=owner, title=title, midi=data, filename="studio.mid",
                                         source=Composition.Source.STUDIO)
        if job is not None:
            _keep_history(job)
            if notes is None:
                GenerationJob.objects.filter(pk=job.pk).update(composition=composition)
    return composition


def user_checkpoint_create(*, owner, name: str, weights: UploadedFile | None, config) -> UserCheckpoint:
    """Store ``owner``'s own checkpoint after the Melody Harvest entry checks (nothing stored when refused)."""
    if not name.strip():
        raise ApplicationError("name_required", NAME_REQUIRED_MESSAGE, status=422)
    config_dict = checkpoint_upload_check(checkpoint_file=weights, config=config)
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


def user_checkpoint_get_own(*, owner, checkpoint_id: int) -> UserCheckpoint:
    checkpoint = UserCheckpoint.objects.filter(owner=owner, pk=checkpoint_id).first()
    if checkpoint is None:
        raise ApplicationError("not_found", MODEL_NOT_FOUND_MESSAGE.format(id=checkpoint_id), status=404)
    return checkpoint


def user_checkpoint_submit(*, owner, checkpoint_id: int, challenge_slug: str, title: str, licence_accepted: bool,
                           description: str = "") -> Submission:
    """Enter ``owner``'s model in a Melody Harvest challenge in one click: its weights, config and card go through
    the same intake as an uploaded entry (entry window, quota, kind, licence, checkpoint checks)."""
    checkpoint = user_checkpoint_get_own(owner=owner, checkpoint_id=checkpoint_id)
    challenge = Challenge.objects.filter(slug=challenge_slug).first()
    if challenge is None:
        raise ApplicationError("challenge_not_found", CHALLENGE_NOT_FOUND_MESSAGE.format(slug=challenge_slug),
                               status=404)
    card = checkpoint.card or (f"{checkpoint.name}: a {checkpoint.architecture} checkpoint uploaded to the "
                               "Chartbusters studio by its owner, who has not written a model card for it.")
    with checkpoint.weights.open("rb") as weights:
        return submission_create_checkpoint(
            challenge=challenge, entrant=owner, title=title or checkpoint.name, description=description,
            licence_accepted=licence_accepted, checkpoint_file=File(weights, name=CHECKPOINT_FILENAME),
            config=dict(checkpoint.config), model_card=card)


def user_checkpoint_delete(*, owner, checkpoint_id: int) -> None:
    """Delete ``owner``'s model and its files (not while a studio job is using it)."""
    checkpoint = user_checkpoint_get_own(owner=owner, checkpoint_id=checkpoint_id)
    if checkpoint.jobs.filter(status__in=(GenerationJob.Status.QUEUED, GenerationJob.Status.RUNNING)).exists():
        raise ApplicationError("in_use", MODEL_IN_USE_MESSAGE.format(id=checkpoint_id), status=409)
    names = [(f.storage, f.name) for f in checkpoint.stored_files]
    checkpoint.delete()
    for storage, name in names:
        storage.delete(name)
