"""Challenge bundles (``manage.py load_challenge BUNDLE.yaml``): read and check everything, then store it in one
transaction, creating or updating the challenge by slug. Every error names the field or the file.

A bundle holds the fields of :class:`~chartbusters.challenges.models.Challenge` plus ``judges`` and
``organizers`` (usernames), ``input_melodies`` and ``reference_set`` (MIDI paths relative to the bundle file).
On update, fields the bundle leaves out keep their value; a file list that is present replaces the stored one.
Naive date-times are read as UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction

from chartbusters.accounts.roles import Role
from chartbusters.accounts.services import user_add_role
from chartbusters.challenges.models import Challenge, InputMelody, ReferenceFile
from chartbusters.challenges.validation import challenge_field_errors
from generation.engine.errors import MidiValidationError
from generation.engine.midi_io import MAX_MIDI_BYTES, validate_midi_bytes

BUNDLE_NOT_FOUND = "no bundle file at {path}"
BUNDLE_NOT_YAML = "not valid YAML: {detail}"
BUNDLE_NOT_MAPPING = "the bundle must be a YAML mapping of challenge fields"
UNKNOWN_FIELD = "unknown field; known fields: {known}"
MISSING_FIELD = "this field is required"
NOT_A_LIST = "must be a list"
FILE_NOT_A_STRING = "must be a path to a MIDI file (a string)"
FILE_NOT_FOUND = "no file at {path}"
FILE_DUPLICATE_NAME = "two files are named {name!r}; file names must differ"
FILE_INVALID_MIDI = "{path}: {message}"
UNKNOWN_USER = "no user named {username!r}"
HARVEST_NEEDS_INPUTS = "a Melody Harvest challenge needs at least one hidden input melody"

FILE_LISTS = {"input_melodies": InputMelody, "reference_set": ReferenceFile}
USER_LISTS = {"judges": Role.JUDGE, "organizers": Role.ORGANIZER}
REQUIRED_FIELDS = ("slug", "title", "kind", "opens_at", "closes_at", "judging_ends_at")
NOT_LOADABLE = {"id", "created_at", "updated_at", "judges", "organizers"}


class BundleError(Exception):
    """A bad bundle: ``field`` names the field or file (``input_melodies[2]``), ``message`` what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class BundleFile:
    name: str
    data: bytes


@dataclass
class ChallengeBundle:
    values: dict[str, Any]
    users: dict[str, list[str]] = field(default_factory=dict)  # "judges"/"organizers" -> usernames
    files: dict[str, list[BundleFile]] = field(default_factory=dict)  # "input_melodies"/"reference_set" -> files


@dataclass(frozen=True)
class BundleResult:
    slug: str
    created: bool
    input_melodies: int
    reference_files: int
    files_written: int
    files_removed: int

    def as_dict(self) -> dict:
        return asdict(self)


def loadable_fields() -> dict[str, models.Field]:
    return {
        f.name: f for f in Challenge._meta.get_fields()
        if getattr(f, "concrete", False) and not f.many_to_many and f.name not in NOT_LOADABLE
    }


def bundle_read(path: Path) -> ChallengeBundle:
    """Parse and check a bundle file and every file it names (no database writes)."""
    path = Path(path)
    if not path.is_file():
        raise BundleError(str(path), BUNDLE_NOT_FOUND.format(path=path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BundleError(str(path), BUNDLE_NOT_YAML.format(detail=str(exc).replace("\n", " "))) from exc
    return bundle_parse(data, base_dir=path.parent)


def bundle_parse(data: Any, *, base_dir: Path) -> ChallengeBundle:
    """Check a bundle given as a mapping; file paths are relative to ``base_dir``."""
    if not isinstance(data, Mapping):
        raise BundleError("bundle", BUNDLE_NOT_MAPPING)
    fields = loadable_fields()
    known = sorted([*fields, *FILE_LISTS, *USER_LISTS])
    for key in data:
        if key not in known:
            raise BundleError(str(key), UNKNOWN_FIELD.format(known=", ".join(known)))
    for key in REQUIRED_FIELDS:
        if data.get(key) in (None, ""):
            raise BundleError(key, MISSING_FIELD)
    bundle = ChallengeBundle(values={name: _field_value(fields[name], data[name]) for name in data if name in fields})
    for key in USER_LISTS:
        if key in data:
            bundle.users[key] = [str(u) for u in _list(data[key], key)]
    for key in FILE_LISTS:
        if key in data:
            bundle.files[key] = _read_files(_list(data[key], key), key, base_dir)
    return bundle


def _list(value: Any, key: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BundleError(key, NOT_A_LIST)
    return value


def _field_value(model_field: models.Field, raw: Any) -> Any:
    if isinstance(model_field, models.DateTimeField) and isinstance(raw, dt.date) and not isinstance(
            raw, dt.datetime):
        raw = dt.datetime.combine(raw, dt.time(), tzinfo=dt.UTC)
    try:
        value = model_field.to_python(raw)
    except ValidationError as exc:
        raise BundleError(model_field.name, " ".join(exc.messages)) from exc
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _read_files(items: list, key: str, base_dir: Path) -> list[BundleFile]:
    files: list[BundleFile] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(item, str) or not item.strip():
            raise BundleError(where, FILE_NOT_A_STRING)
        path = (base_dir / item).resolve()
        if not path.is_file():
            raise BundleError(where, FILE_NOT_FOUND.format(path=path))
        with path.open("rb") as fh:
            data = fh.read(MAX_MIDI_BYTES + 1)
        try:
            validate_midi_bytes(data)
        except MidiValidationError as exc:
            raise BundleError(where, FILE_INVALID_MIDI.format(path=item, message=exc.message)) from exc
        if path.name in seen:
            raise BundleError(where, FILE_DUPLICATE_NAME.format(name=path.name))
        seen.add(path.name)
        files.append(BundleFile(name=path.name, data=data))
    return files


@transaction.atomic
def challenge_upsert_from_bundle(*, bundle: ChallengeBundle) -> BundleResult:
    """Create or update the challenge of ``bundle`` (by slug) with its users and files, all or nothing."""
    slug = bundle.values["slug"]
    challenge = Challenge.objects.select_for_update().filter(slug=slug).first()
    created = challenge is None
    challenge = challenge or Challenge(slug=slug)
    for name, value in bundle.values.items():
        setattr(challenge, name, value)
    _check_challenge(challenge)
    n_inputs = len(bundle.files["input_melodies"]) if "input_melodies" in bundle.files else (
        0 if created else challenge.input_melodies.count())
    if challenge.kind == Challenge.Kind.MELODY_HARVEST and n_inputs == 0:
        raise BundleError("input_melodies", HARVEST_NEEDS_INPUTS)
    users = {key: _users(key, names) for key, names in bundle.users.items()}
    challenge.save()
    for key, members in users.items():
        for user in members:
            user_add_role(user=user, role=USER_LISTS[key])
        getattr(challenge, key).set(members)
    new_names: list[str] = []
    try:
        removed = sum(_sync_files(challenge, FILE_LISTS[key], files, new_names) for key, files in bundle.files.items())
    except BaseException:
        for name in new_names:  # the rows roll back; their new files must not stay behind
            InputMelody.midi.field.storage.delete(name)
        raise
    return BundleResult(slug=slug, created=created, input_melodies=challenge.input_melodies.count(),
                        reference_files=challenge.reference_files.count(), files_written=len(new_names),
                        files_removed=removed)


def challenge_load_bundle(*, path: Path) -> BundleResult:
    """Read, check and store the bundle at ``path``."""
    return challenge_upsert_from_bundle(bundle=bundle_read(path))


def _check_challenge(challenge: Challenge) -> None:
    values = {f.name: getattr(challenge, f.name) for f in loadable_fields().values()}
    for name, messages in challenge_field_errors(values).items():
        raise BundleError(name, " ".join(messages))
    try:
        challenge.full_clean(validate_unique=False)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise BundleError(name, " ".join(messages)) from exc


def _users(key: str, usernames: list[str]) -> list:
    user_model = get_user_model()
    found = {u.username: u for u in user_model.objects.filter(username__in=usernames)}
    for i, username in enumerate(usernames):
        if username not in found:
            raise BundleError(f"{key}[{i}]", UNKNOWN_USER.format(username=username))
    return [found[u] for u in usernames]


def _stored_bytes(obj: InputMelody | ReferenceFile) -> bytes | None:
    try:
        with obj.midi.open("rb") as fh:
            return fh.read()
    except (OSError, ValueError):
        return None


def _sync_files(challenge: Challenge, model: type[InputMelody | ReferenceFile], files: list[BundleFile],
                new_names: list[str]) -> int:
    """Make the challenge's files of ``model`` exactly ``files``; unchanged files are kept as they are.

    Appends the storage names of the files it writes to ``new_names``; returns how many rows it removed.
    """
    existing = {obj.name: obj for obj in model.objects.filter(challenge=challenge)}
    for bundle_file in files:
        obj = existing.pop(bundle_file.name, None)
        if obj is not None and _stored_bytes(obj) == bundle_file.data:
            continue
        if obj is None:
            obj = model(challenge=challenge, name=bundle_file.name)
        else:
            _delete_file_on_commit(obj.midi.storage, obj.midi.name)
        obj.midi.save(bundle_file.name, ContentFile(bundle_file.data), save=False)
        new_names.append(obj.midi.name)
        obj.save()
    for obj in existing.values():
        _delete_file_on_commit(obj.midi.storage, obj.midi.name)
        obj.delete()
    return len(existing)


def _delete_file_on_commit(storage, name: str) -> None:
    if name:
        transaction.on_commit(lambda: storage.delete(name))


__all__ = [
    "BundleError", "BundleResult", "ChallengeBundle", "bundle_parse", "bundle_read",
    "challenge_load_bundle", "challenge_upsert_from_bundle",
]
