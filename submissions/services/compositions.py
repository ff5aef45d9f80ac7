"""A user's saved compositions (uploaded here, or made in the studio): validated MIDI, stored with its row."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from generation.engine.errors import MidiValidationError
from generation.engine.midi_io import validate_midi_bytes
from submissions.models import Composition
from submissions.services.errors import EntryRefusedError
from submissions.services.intake import midi_filename, read_midi_upload

COMPOSITION_TITLE_REQUIRED_MESSAGE = "Give the composition a title."


def composition_create(*, owner, title: str, midi: UploadedFile | bytes, filename: str = "composition.mid",
                       source: str = Composition.Source.UPLOAD) -> Composition:
    """Save ``midi`` (an upload, or bytes from the studio) as ``owner``'s composition; refuses (413/422, nothing
    stored) MIDI the platform would not take as an entry (docs/design.md section 3)."""
    if not title.strip():
        raise EntryRefusedError("title_required", COMPOSITION_TITLE_REQUIRED_MESSAGE, status=422)
    if isinstance(midi, UploadedFile):
        data, filename = read_midi_upload(midi), midi.name or filename
    else:
        data = midi
    try:
        validate_midi_bytes(data)
    except MidiValidationError as exc:
        raise EntryRefusedError(exc.code, exc.message, status=413 if exc.code == "too_large" else 422) from exc
    composition = Composition(owner=owner, title=title.strip(), source=source, original_filename=filename[:255])
    composition.midi.save(midi_filename(filename, title), ContentFile(data), save=False)
    try:
        with transaction.atomic():
            composition.save()
    except BaseException:
        composition.midi.storage.delete(composition.midi.name)
        raise
    return composition


COMPOSITION_NOT_FOUND_MESSAGE = "You have no saved composition #{id}."


def _own_locked(*, owner, composition_id: int) -> Composition:
    composition = Composition.objects.select_for_update().filter(owner=owner, pk=composition_id).first()
    if composition is None:
        raise EntryRefusedError("composition_not_found", COMPOSITION_NOT_FOUND_MESSAGE.format(id=composition_id),
                                status=404)
    return composition


@transaction.atomic
def composition_rename(*, owner, composition_id: int, title: str) -> Composition:
    composition = _own_locked(owner=owner, composition_id=composition_id)
    if not title.strip():
        raise EntryRefusedError("title_required", COMPOSITION_TITLE_REQUIRED_MESSAGE, status=422)
    composition.title = title.strip()[:200]
    composition.full_clean(exclude=["midi"])
    composition.save(update_fields=["title"])
    return composition


@transaction.atomic
def composition_delete(*, owner, composition_id: int) -> None:
    """Delete the row, then (once committed) its file. Entries made from it keep their own copy of the MIDI."""
    composition = _own_locked(owner=owner, composition_id=composition_id)
    storage, name = composition.midi.storage, composition.midi.name
    composition.delete()
    transaction.on_commit(lambda: storage.delete(name))
