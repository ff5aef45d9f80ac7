"""Intake of entries (docs/design.md sections 3, 4, 6): validate first, then store the file(s) and the row in one
transaction under the quota lock, then queue the work once it commits.

A refusal raises ``EntryRefusedError`` (401/403/404/413/422/429) and leaves no row and no file behind: files are
validated before anything is stored, and a file already stored is deleted when the transaction fails.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.text import get_valid_filename

from chartbusters.challenges.models import Challenge
from chartbusters.dispatch import send_task
from generation.engine.checkpoint import MAX_CHECKPOINT_BYTES
from generation.engine.config_bounds import (
    MAX_CONFIG_BYTES,
    config_dict_check,
    config_json_loads,
    config_too_large,
)
from generation.engine.errors import EngineError, MidiValidationError
from generation.engine.loading import check_upload
from generation.engine.midi_io import MAX_MIDI_BYTES, TOO_LARGE_MESSAGE, validate_midi_bytes
from generation.engine.registry import get_generator_spec
from submissions.models import Composition, Submission
from submissions.services.errors import EntryRefusedError
from submissions.services.quotas import quota_check, quota_check_locked
from submissions.services.windows import entry_kind_check, entry_window_check

Kind = Submission.Kind

LICENCE_NOT_ACCEPTED_MESSAGE = "Accept the licence of this challenge's entries ({licence}) to enter."
TITLE_REQUIRED_MESSAGE = "Give the entry a title."
ONE_SOURCE_MESSAGE = "Send either a MIDI file or one of your saved compositions, not both and not neither."
COMPOSITION_NOT_FOUND_MESSAGE = "You have no saved composition #{id}."
CHECKPOINT_TOO_LARGE_MESSAGE = "The checkpoint is {found:,} bytes; the limit is {limit:,} bytes (200 MiB)."
MODEL_CARD_TOO_SHORT_MESSAGE = (
    "Write a model card of at least {words} words: what the model was trained on, how, and for how long."
)
CHECKPOINT_REQUIRED_MESSAGE = "A checkpoint entry needs its safetensors weights as `checkpoint`."
CONFIG_REQUIRED_MESSAGE = "A checkpoint entry needs its JSON config (config.json) as `config`."
MODEL_CARD_MIN_WORDS = 5
CHECKPOINT_FILENAME = "model.safetensors"


def _engine_refusal(exc: EngineError) -> EntryRefusedError:
    """A file the engine refused: 413 when it is too large, 422 otherwise."""
    return EntryRefusedError(exc.code, exc.message, status=413 if exc.code == "too_large" else 422)


def _common_checks(*, challenge: Challenge, entrant, kind: str, title: str, licence_accepted: bool,
                   now: datetime) -> None:
    entry_window_check(challenge=challenge, user=entrant, now=now)
    quota_check(challenge=challenge, entrant=entrant, now=now)  # 429 before anything about the files
    entry_kind_check(challenge=challenge, kind=kind)
    if not title.strip():
        raise EntryRefusedError("title_required", TITLE_REQUIRED_MESSAGE, status=422)
    if not licence_accepted:
        raise EntryRefusedError(
            "licence_not_accepted", LICENCE_NOT_ACCEPTED_MESSAGE.format(licence=challenge.entry_licence), status=422
        )


def _store(*, challenge: Challenge, entrant, now: datetime, build: Callable[[list[FieldFile]], Submission],
           task: str, queue: str) -> Submission:
    """Under the quota lock: ``build`` stores the file(s) (appending each to the list) and returns the unsaved row;
    save it and queue ``task``. Any failure deletes the stored files before it propagates."""
    stored: list[FieldFile] = []
    try:
        with transaction.atomic():
            quota_check_locked(challenge=challenge, entrant=entrant, now=now)
            submission = build(stored)
            submission.save()
            send_task(task, args=(submission.pk,), queue=queue)
    except BaseException:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise
    return submission


def midi_filename(filename: str | None, title: str) -> str:
    stem = Path(filename or "").stem or title
    return get_valid_filename(f"{stem[:80]}.mid") or "entry.mid"


def read_midi_upload(midi_file: UploadedFile) -> bytes:
    if midi_file.size is not None and midi_file.size > MAX_MIDI_BYTES:  # refuse before reading it into memory
        raise EntryRefusedError(
            "too_large", TOO_LARGE_MESSAGE.format(found=midi_file.size, limit=MAX_MIDI_BYTES), status=413
        )
    midi_file.seek(0)
    return midi_file.read()


def _read_saved_composition(*, entrant, composition_id: int) -> tuple[Composition, bytes]:
    composition = Composition.objects.filter(owner=entrant, pk=composition_id).first()
    if composition is None:
        raise EntryRefusedError(
            "composition_not_found", COMPOSITION_NOT_FOUND_MESSAGE.format(id=composition_id), status=404
        )
    if composition.midi.size > MAX_MIDI_BYTES:
        raise EntryRefusedError(
            "too_large", TOO_LARGE_MESSAGE.format(found=composition.midi.size, limit=MAX_MIDI_BYTES), status=413
        )
    with composition.midi.open("rb") as fh:
        return composition, fh.read()


def submission_create_composition(
    *, challenge: Challenge, entrant, title: str, description: str = "", licence_accepted: bool,
    midi_file: UploadedFile | None = None, composition_id: int | None = None, now: datetime | None = None,
) -> Submission:
    """A Melody-Go-Round entry from an uploaded MIDI file or one of the entrant's saved compositions; queued for
    scoring ("evaluation.score_submission" on the scoring queue)."""
    now = now or timezone.now()
    _common_checks(challenge=challenge, entrant=entrant, kind=Kind.COMPOSITION, title=title,
                   licence_accepted=licence_accepted, now=now)
    if (midi_file is None) == (composition_id is None):
        raise EntryRefusedError("one_source", ONE_SOURCE_MESSAGE, status=422)
    composition = None
    if midi_file is not None:
        data, filename = read_midi_upload(midi_file), midi_file.name
    else:
        composition, data = _read_saved_composition(entrant=entrant, composition_id=composition_id)
        filename = composition.original_filename
    try:
        validate_midi_bytes(data)
    except MidiValidationError as exc:
        raise _engine_refusal(exc) from exc

    def build(stored: list[FieldFile]) -> Submission:
        submission = Submission(
            challenge=challenge, entrant=entrant, kind=Kind.COMPOSITION, title=title.strip(),
            description=description.strip(), licence=challenge.entry_licence, composition=composition,
            original_filename=(filename or "")[:255],
        )
        submission.midi.save(midi_filename(filename, title), ContentFile(data), save=False)
        stored.append(submission.midi)
        return submission

    return _store(challenge=challenge, entrant=entrant, now=now, build=build,
                  task="evaluation.score_submission", queue="scoring")


def parse_checkpoint_config(raw: UploadedFile | bytes | str | dict) -> dict:
    """The uploaded config.json (a file part, text or an already parsed dict) as a dict; 413/422 with the reason
    when it is over the engine's one config limit (config_bounds: size and nesting), not JSON or not an object."""
    try:
        if isinstance(raw, dict):
            return config_dict_check(raw)
        if isinstance(raw, UploadedFile):
            if raw.size is not None and raw.size > MAX_CONFIG_BYTES:  # refuse before reading it
                raise config_too_large(raw.size)
            raw.seek(0)
            raw = raw.read(MAX_CONFIG_BYTES + 1)
        return config_json_loads(raw)
    except EngineError as exc:
        raise _engine_refusal(exc) from exc


def _check_weights(checkpoint_file: UploadedFile, config: dict) -> None:
    """The engine's torch-free checks (a generator architecture, config bounds, tensor names/shapes/dtypes, finite
    values, size cap), run on the upload's temporary file or on a copy of a small in-memory upload."""
    try:
        if isinstance(config.get("architecture"), str):
            get_generator_spec(config["architecture"])  # the discriminator is registered but makes no music
        if hasattr(checkpoint_file, "temporary_file_path"):
            check_upload(Path(checkpoint_file.temporary_file_path()), config)
            return
        with tempfile.NamedTemporaryFile(suffix=".safetensors") as tmp:
            checkpoint_file.seek(0)
            for chunk in checkpoint_file.chunks():
                tmp.write(chunk)
            tmp.flush()
            check_upload(Path(tmp.name), config)
    except EngineError as exc:  # CheckpointError, or ArchitectureUnavailableError (not built yet / not a generator)
        raise _engine_refusal(exc) from exc


def checkpoint_upload_check(*, checkpoint_file: UploadedFile | None, config) -> dict:
    """The checks a Melody Harvest entry's checkpoint gets (size, config bounds, a generator architecture, every
    tensor's name/shape/dtype, finite values; never unpickled), for any upload of a checkpoint (the studio's own
    models too); returns the config as a dict. EntryRefusedError (413/422) names the problem."""
    if checkpoint_file is None:
        raise EntryRefusedError("checkpoint_required", CHECKPOINT_REQUIRED_MESSAGE, status=422)
    if config is None:
        raise EntryRefusedError("config_required", CONFIG_REQUIRED_MESSAGE, status=422)
    if checkpoint_file.size is not None and checkpoint_file.size > MAX_CHECKPOINT_BYTES:
        raise EntryRefusedError(
            "too_large", CHECKPOINT_TOO_LARGE_MESSAGE.format(found=checkpoint_file.size, limit=MAX_CHECKPOINT_BYTES),
            status=413,
        )
    config_dict = parse_checkpoint_config(config)
    _check_weights(checkpoint_file, config_dict)
    return config_dict


def submission_create_checkpoint(
    *, challenge: Challenge, entrant, title: str, description: str = "", licence_accepted: bool,
    checkpoint_file: UploadedFile | None, config: UploadedFile | bytes | str | dict | None, model_card: str,
    now: datetime | None = None,
) -> Submission:
    """A Melody Harvest entry: safetensors weights + JSON config + model card, checked as docs/design.md section 4 says;
    queued for generation ("submissions.run_checkpoint_entry" on the generation queue)."""
    now = now or timezone.now()
    _common_checks(challenge=challenge, entrant=entrant, kind=Kind.CHECKPOINT, title=title,
                   licence_accepted=licence_accepted, now=now)
    if checkpoint_file is None:
        raise EntryRefusedError("checkpoint_required", CHECKPOINT_REQUIRED_MESSAGE, status=422)
    if config is None:
        raise EntryRefusedError("config_required", CONFIG_REQUIRED_MESSAGE, status=422)
    if len(model_card.split()) < MODEL_CARD_MIN_WORDS:
        raise EntryRefusedError(
            "model_card_required", MODEL_CARD_TOO_SHORT_MESSAGE.format(words=MODEL_CARD_MIN_WORDS), status=422
        )
    config_dict = checkpoint_upload_check(checkpoint_file=checkpoint_file, config=config)

    def build(stored: list[FieldFile]) -> Submission:
        submission = Submission(
            challenge=challenge, entrant=entrant, kind=Kind.CHECKPOINT, title=title.strip(),
            description=description.strip(), licence=challenge.entry_licence, checkpoint_config=config_dict,
            model_card=model_card.strip(),
        )
        checkpoint_file.seek(0)
        submission.checkpoint.save(CHECKPOINT_FILENAME, File(checkpoint_file), save=False)
        stored.append(submission.checkpoint)
        return submission

    return _store(challenge=challenge, entrant=entrant, now=now, build=build,
                  task="submissions.run_checkpoint_entry", queue="entries")
