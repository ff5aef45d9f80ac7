"""Several reference files in one upload (the challenge admin's "add reference files"): MIDI files, or one zip of
them. Each file is checked as the inline rows' uploads are (the platform's MIDI limits); a zip's members are counted
and sized from its directory before anything is unpacked. Nothing is stored unless every file passes."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.db import transaction

from chartbusters.challenges.models import Challenge, ReferenceFile
from generation.engine.errors import MidiValidationError
from generation.engine.midi_io import MAX_MIDI_BYTES, validate_midi_bytes

MAX_REFERENCE_UPLOAD_FILES = 500  # MIDI files in one upload, a zip's members counted
MIDI_SUFFIXES = (".mid", ".midi")
NOT_MIDI = "{name}: not a MIDI file (.mid or .midi) or a zip of them."
BAD_ZIP = "{name} is not a readable zip file."
TOO_MANY = "{count} files in one upload; at most {limit}."
TOO_LARGE = "{name}: {size:,} bytes; a MIDI file may be at most {limit:,} bytes."
DUPLICATE = "{name}: the reference set already has a piece of that name (rename the file or delete the piece)."
EMPTY_ZIP = "{name} holds no MIDI file."


@dataclass(frozen=True)
class ReferencePiece:
    name: str  # the file's stem: the piece's name in the reference set
    data: bytes


def _members(upload) -> list[tuple[str, bytes | None, int]]:
    """(file name, bytes or None when too large, size) of an uploaded MIDI file or of a zip's MIDI members."""
    name = PurePosixPath(upload.name or "upload").name
    if PurePosixPath(name).suffix.lower() != ".zip":
        upload.seek(0)
        data = upload.read(MAX_MIDI_BYTES + 1)
        return [(name, data if len(data) <= MAX_MIDI_BYTES else None, len(data))]
    upload.seek(0)
    try:
        archive = zipfile.ZipFile(io.BytesIO(upload.read()))
    except zipfile.BadZipFile as exc:
        raise ValueError(BAD_ZIP.format(name=name)) from exc
    out = []
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and not PurePosixPath(i.filename).name.startswith(".")
                 and "__MACOSX" not in i.filename]
        if len(infos) > MAX_REFERENCE_UPLOAD_FILES:
            raise ValueError(TOO_MANY.format(count=len(infos), limit=MAX_REFERENCE_UPLOAD_FILES))
        for info in infos:  # sizes from the directory: nothing larger than a MIDI file is unpacked
            member = PurePosixPath(info.filename).name
            out.append((member, archive.read(info) if info.file_size <= MAX_MIDI_BYTES else None, info.file_size))
    if not out:
        raise ValueError(EMPTY_ZIP.format(name=name))
    return out


def reference_upload_check(uploads, *, challenge: Challenge | None) -> tuple[list[ReferencePiece], list[str]]:
    """The pieces of ``uploads`` and the problems found (one sentence each, naming the file)."""
    pieces: list[ReferencePiece] = []
    problems: list[str] = []
    taken = set(challenge.reference_files.values_list("name", flat=True)) if challenge and challenge.pk else set()
    files: list[tuple[str, bytes | None, int]] = []
    for upload in uploads:
        try:
            files += _members(upload)
        except ValueError as exc:
            problems.append(str(exc))
    if len(files) > MAX_REFERENCE_UPLOAD_FILES:
        return [], [TOO_MANY.format(count=len(files), limit=MAX_REFERENCE_UPLOAD_FILES)]
    for name, data, size in files:
        stem = PurePosixPath(name).stem
        if PurePosixPath(name).suffix.lower() not in MIDI_SUFFIXES:
            problems.append(NOT_MIDI.format(name=name))
        elif data is None:
            problems.append(TOO_LARGE.format(name=name, size=size, limit=MAX_MIDI_BYTES))
        elif stem in taken:
            problems.append(DUPLICATE.format(name=name))
        else:
            try:
                validate_midi_bytes(data)
            except MidiValidationError as exc:
                problems.append(f"{name}: {exc.message}")
                continue
            taken.add(stem)
            pieces.append(ReferencePiece(name=stem, data=data))
    return pieces, problems


@transaction.atomic
def reference_files_add(*, challenge: Challenge, pieces: list[ReferencePiece]) -> list[ReferenceFile]:
    """Store checked pieces in ``challenge``'s reference set (its realness model retrains once, on commit)."""
    rows = []
    for piece in pieces:
        row = ReferenceFile(challenge=challenge, name=piece.name)
        row.midi.save(f"{piece.name}.mid", ContentFile(piece.data), save=False)
        row.save()
        rows.append(row)
    return rows
