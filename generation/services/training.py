"""Starting and cancelling users' training runs (the Train page, ``POST /api/trainings/``): web side, no torch.

Everything is checked before anything is stored: the model (a registered generator with TRAIN_PARAMS), its
training parameters (against the spec, and ``TRAINING_MAX_STEPS``), the data (the Bach chorales, or MIDI files /
one zip of them: count and total size before reading, then every file as the entry intake checks it, plus the
tracks the model needs; unusable files are listed with the reason and the rest used, unless fewer than
``TRAINING_MIN_FILES`` remain), and the per-user limit of runs queued or running (under a lock on the user's row).
The usable files are stored as one zip and the run is sent to the ``training`` queue once the transaction commits.
A refusal raises ``ApplicationError`` and leaves nothing stored.
"""

from __future__ import annotations

import io
import shutil
import struct
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from chartbusters.dispatch import send_task
from chartbusters.errors import ApplicationError
from chartbusters.ratelimit import wait_text
from generation.engine.errors import EngineError
from generation.engine.midi_io import MAX_MIDI_BYTES, TOO_LARGE_MESSAGE, validate_midi_bytes
from generation.engine.params import validate_train_params
from generation.engine.registry import get_trainable_spec, trainable_names
from generation.models import TrainingJob

Status = TrainingJob.Status
IN_PROGRESS = (Status.QUEUED, Status.RUNNING)
TRAIN_TASK = "generation.train_model"  # its queue: settings.CELERY_TASK_ROUTES (user-training)
MIDI_SUFFIXES = (".mid", ".midi")
CHORALES = TrainingJob.Dataset.CHORALES

def train_queue() -> str:
    """The queue of users' training runs, from the one queue map (settings.CELERY_TASK_ROUTES)."""
    return settings.CELERY_TASK_ROUTES[TRAIN_TASK]["queue"]


UNKNOWN_MODEL_MESSAGE = "Choose a model to train: {models}."
ONE_SOURCE_MESSAGE = "Send either MIDI files (`files`, or one zip) or `dataset=chorales`, not both."
NO_SOURCE_MESSAGE = "Send the music to learn from: MIDI files (`files`, several or one zip) or `dataset=chorales`."
UNKNOWN_DATASET_MESSAGE = "The only shipped dataset is `chorales`; got {value!r}."
TOO_MANY_FILES_MESSAGE = "You sent {count} files; a training run takes at most {limit}."
TOO_MANY_MEMBERS_MESSAGE = ("Your zip holds {count:,} members (hidden ones and folders included); a training zip may "
                            "hold at most {limit:,}.")
ZIP_MEMBERS_PER_FILE = 3  # a zip made on a Mac holds each file twice (__MACOSX) and its folders: room for those
TOO_LARGE_UPLOAD_MESSAGE = "Your files come to {found:,} bytes; a training run takes at most {limit:,} bytes."
BAD_ZIP_MESSAGE = "{name} is not a readable zip file."
ZIP_AND_FILES_MESSAGE = "Send one zip, or MIDI files, not both."
NOT_MIDI_NAME_MESSAGE = "not a MIDI file (.mid or .midi)"
FEW_TRACKS_MESSAGE = "has {found} track(s) with notes; the {model} model learns from files with at least {needed}"
TOO_FEW_FILES_MESSAGE = (
    "Only {used} of your {count} files can be used; a training run needs at least {needed}. {refused}"
)
STEPS_LIMIT_MESSAGE = "A training run may take at most {limit} steps on this platform; you asked for {steps}."
TOO_MANY_RUNNING_MESSAGE = (
    "You have {running} training run(s) queued or running and may have {limit} at once; cancel it or wait until it "
    "has finished (try again in about {wait})."
)
NOT_FOUND_MESSAGE = "You have no training run #{id}."
FINISHED_MESSAGE = "Training run #{id} has already ended ({status})."
RUNNING_RETRY_SECONDS = 60


def _model_spec(model_name: str):
    if model_name not in trainable_names():
        raise ApplicationError("unknown_model", UNKNOWN_MODEL_MESSAGE.format(models=", ".join(trainable_names())),
                               status=400)
    return get_trainable_spec(model_name)


def _members(files: list[UploadedFile]) -> list[tuple[str, bytes | None, str | None]]:
    """(name, bytes or None, refusal or None) of every file sent, a zip opened (its members are the files); counts
    and sizes are checked before anything is read."""
    limit_files, limit_bytes = settings.TRAINING_MAX_FILES, settings.TRAINING_MAX_UPLOAD_BYTES
    if len(files) > limit_files:
        raise ApplicationError("too_many_files", TOO_MANY_FILES_MESSAGE.format(count=len(files), limit=limit_files),
                               status=413)
    total = sum(f.size or 0 for f in files)
    if total > limit_bytes:
        raise ApplicationError("too_large", TOO_LARGE_UPLOAD_MESSAGE.format(found=total, limit=limit_bytes), status=413)
    zips = [f for f in files if PurePosixPath(f.name or "").suffix.lower() == ".zip"]
    if zips and len(files) > 1:
        raise ApplicationError("one_zip", ZIP_AND_FILES_MESSAGE, status=400)
    if not zips:
        out = []
        for upload in files:
            name = PurePosixPath(upload.name or "file").name
            if PurePosixPath(name).suffix.lower() not in MIDI_SUFFIXES:
                out.append((name, None, NOT_MIDI_NAME_MESSAGE))
            elif (upload.size or 0) > MAX_MIDI_BYTES:
                out.append((name, None, TOO_LARGE_MESSAGE.format(found=upload.size, limit=MAX_MIDI_BYTES)))
            else:
                upload.seek(0)
                out.append((name, upload.read(MAX_MIDI_BYTES + 1), None))
        return out
    upload = zips[0]
    try:
        upload.seek(0)
        data = upload.read(limit_bytes + 1)
        declared = zip_member_count(data)  # every member, hidden ones too, read from the end record: cheap
        if declared is not None and declared > ZIP_MEMBERS_PER_FILE * limit_files:
            raise ApplicationError("too_many_files", TOO_MANY_MEMBERS_MESSAGE.format(
                count=declared, limit=ZIP_MEMBERS_PER_FILE * limit_files), status=413)
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [i for i in archive.infolist() if not i.is_dir() and not _hidden(i.filename)]
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ApplicationError("bad_zip", BAD_ZIP_MESSAGE.format(name=PurePosixPath(upload.name or "").name),
                               status=422) from None
    if len(entries) > limit_files:
        raise ApplicationError("too_many_files", TOO_MANY_FILES_MESSAGE.format(count=len(entries), limit=limit_files),
                               status=413)
    unpacked = sum(i.file_size for i in entries)  # declared sizes: a zip bomb is refused before it is inflated
    if unpacked > limit_bytes:
        raise ApplicationError("too_large", TOO_LARGE_UPLOAD_MESSAGE.format(found=unpacked, limit=limit_bytes),
                               status=413)
    out = []
    for info in entries:
        name = info.filename
        if PurePosixPath(name).suffix.lower() not in MIDI_SUFFIXES:
            out.append((name, None, NOT_MIDI_NAME_MESSAGE))
        elif info.file_size > MAX_MIDI_BYTES:
            out.append((name, None, TOO_LARGE_MESSAGE.format(found=info.file_size, limit=MAX_MIDI_BYTES)))
        else:
            try:
                with archive.open(info) as fh:
                    out.append((name, fh.read(MAX_MIDI_BYTES + 1), None))
            except (zipfile.BadZipFile, RuntimeError, OSError, NotImplementedError):
                out.append((name, None, "could not be unpacked (damaged or encrypted)"))
    return out


def zip_member_count(data: bytes) -> int | None:
    """How many members the zip ``data`` declares (its end-of-central-directory record, Zip64 included), read
    before ``zipfile`` parses every member's header (200,000 members cost seconds and 100+ MB); None if not found."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    (count,) = struct.unpack("<H", data[end + 10:end + 12])
    if count != 0xFFFF:
        return count
    locator = end - 20  # Zip64: the locator just before the end record points at the Zip64 end record
    if locator < 0 or data[locator:locator + 4] != b"PK\x06\x07":
        return None
    (offset,) = struct.unpack("<Q", data[locator + 8:locator + 16])
    if data[offset:offset + 4] != b"PK\x06\x06":
        return None
    (count64,) = struct.unpack("<Q", data[offset + 32:offset + 40])
    return count64


def _hidden(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def checked_training_files(*, model_name: str, files: list[UploadedFile]) -> tuple[list[tuple[str, bytes]], dict]:
    """The usable files as (unique name, bytes) and the per-file report ``{"used": [...], "refused": [...]}``;
    ApplicationError when fewer than TRAINING_MIN_FILES can be used (the message lists the refused files)."""
    spec = _model_spec(model_name)
    needed = getattr(spec, "MIN_TRAINING_TRACKS", 1)
    usable, refused, taken = [], [], set()
    for name, data, problem in _members(files):
        if problem is None:
            try:
                info = validate_midi_bytes(data)
                if info.n_tracks < needed:
                    problem = FEW_TRACKS_MESSAGE.format(found=info.n_tracks, model=model_name, needed=needed)
            except EngineError as exc:
                problem = exc.message
        if problem is not None:
            refused.append({"name": name, "error": problem})
            continue
        unique = _unique_name(PurePosixPath(name).name, taken)
        usable.append((unique, data))
    report = {"used": [name for name, _ in usable], "refused": refused}
    if len(usable) < settings.TRAINING_MIN_FILES:
        listing = "Refused: " + "; ".join(f"{r['name']}: {r['error']}" for r in refused) + "." if refused else ""
        raise ApplicationError("too_few_files", TOO_FEW_FILES_MESSAGE.format(
            used=len(usable), count=len(usable) + len(refused), needed=settings.TRAINING_MIN_FILES,
            refused=listing).strip(), status=422)
    return usable, report


def _unique_name(name: str, taken: set[str]) -> str:
    stem, suffix = PurePosixPath(name).stem or "file", PurePosixPath(name).suffix.lower()
    candidate, n = f"{stem}{suffix}", 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}{suffix}"
    taken.add(candidate)
    return candidate


def _zip_of(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def _limits_check(*, owner) -> None:
    running = TrainingJob.objects.filter(owner=owner, status__in=IN_PROGRESS).count()
    limit = settings.TRAINING_MAX_RUNNING_PER_USER
    if running >= limit:
        raise ApplicationError("too_many_running", TOO_MANY_RUNNING_MESSAGE.format(
            running=running, limit=limit, wait=wait_text(RUNNING_RETRY_SECONDS)), status=429,
            retry_after=RUNNING_RETRY_SECONDS)


def training_options(*, model_name: str, params: dict | None) -> dict:
    """``params`` checked against the model's TRAIN_PARAMS and the platform's step limit; defaults filled."""
    spec = _model_spec(model_name)
    try:
        options = validate_train_params(spec.TRAIN_PARAMS, params, model=model_name)
    except EngineError as exc:
        raise ApplicationError(exc.code, exc.message, status=400) from exc
    if options["steps"] > settings.TRAINING_MAX_STEPS:
        raise ApplicationError("too_many_steps", STEPS_LIMIT_MESSAGE.format(
            limit=settings.TRAINING_MAX_STEPS, steps=options["steps"]), status=422)
    return options


def training_create(*, owner, model_name: str, params: dict | None = None, files: list[UploadedFile] | None = None,
                    dataset: str | None = None, name: str = "") -> TrainingJob:
    """Check, store and queue a training run of ``model_name`` on ``files`` or the chorales."""
    options = training_options(model_name=model_name, params=params)
    files = list(files or [])
    if files and dataset:
        raise ApplicationError("one_source", ONE_SOURCE_MESSAGE, status=400)
    if not files and not dataset:
        raise ApplicationError("no_source", NO_SOURCE_MESSAGE, status=400)
    if dataset and dataset != CHORALES:
        raise ApplicationError("unknown_dataset", UNKNOWN_DATASET_MESSAGE.format(value=dataset), status=400)
    _limits_check(owner=owner)  # before reading any file (checked again under the lock below)
    usable, report = checked_training_files(model_name=model_name, files=files) if files else ([], {})
    label = "the Bach chorales" if dataset else f"{len(usable)} file(s) of yours"
    job = TrainingJob(owner=owner, model_name=model_name, params=options, files=report,
                      dataset=TrainingJob.Dataset.CHORALES if dataset else TrainingJob.Dataset.UPLOAD,
                      steps_total=options["steps"],
                      name=(name.strip() or f"{model_name} on {label}, {timezone.now():%Y-%m-%d %H:%M}")[:200])
    stored = None
    try:
        with transaction.atomic():
            get_user_model().objects.select_for_update().filter(pk=owner.pk).first()  # serializes this user
            _limits_check(owner=owner)
            if usable:
                job.data.save("data.zip", ContentFile(_zip_of(usable)), save=False)
                stored = job.data
            job.full_clean(exclude=["data"])
            job.save()
            send_task(TRAIN_TASK, args=(job.pk,), queue=train_queue())
    except BaseException:
        if stored is not None:
            stored.storage.delete(stored.name)
        raise
    return job


def training_get_own(*, owner, job_id: int) -> TrainingJob:
    job = TrainingJob.objects.filter(owner=owner, pk=job_id).first()
    if job is None:
        raise ApplicationError("not_found", NOT_FOUND_MESSAGE.format(id=job_id), status=404)
    return job


def training_delete_data(job: TrainingJob, *, save: bool = True) -> None:
    """Delete the run's uploaded files (when it ends, whatever the outcome); ``save=False``: the caller saves the
    emptied ``data`` field with the rest of the run."""
    if job.data:
        job.data.storage.delete(job.data.name)
        job.data = ""
        if save:
            TrainingJob.objects.filter(pk=job.pk).update(data="")


@transaction.atomic
def training_finish(*, job_id: int, status: str, error: str = "") -> bool:
    """End a queued or running run as ``status`` (failed with ``error``, or cancelled), its uploaded files deleted in
    the same step (whoever sees it ended sees them gone); False if it had ended."""
    job = TrainingJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.finished:
        return False
    job.status, job.error, job.finished_at = status, error, timezone.now()
    job.full_clean(exclude=["data"])
    training_delete_data(job, save=False)
    job.save(update_fields=["status", "error", "finished_at", "data", "updated_at"])
    return True


def training_cancel(*, owner, job_id: int) -> TrainingJob:
    """A queued run is cancelled at once; a running one is asked to stop (its worker stops at its next progress
    report, within a few steps, and keeps nothing)."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().filter(owner=owner, pk=job_id).first()
        if job is None:
            raise ApplicationError("not_found", NOT_FOUND_MESSAGE.format(id=job_id), status=404)
        if job.finished:
            raise ApplicationError("finished", FINISHED_MESSAGE.format(id=job_id, status=job.status), status=409)
        if job.status == Status.QUEUED:
            job.status, job.finished_at = Status.CANCELLED, timezone.now()
        job.cancel_requested = True
        job.save(update_fields=["status", "finished_at", "cancel_requested", "updated_at"])
    if job.status == Status.CANCELLED:
        training_delete_data(job)
    return job


TEMP_PREFIX = "chartbusters-training-"  # + the job id + "-": a killed run's folder is known by its job


def training_sweep_temp() -> int:
    """Remove this machine's temporary folders of training runs no longer running and silent (nothing in them
    written for TRAINING_STUCK_AFTER_SECONDS): their worker was killed, so the ``with`` that would have removed them
    never ended and the user's MIDI files stayed. Returns how many."""
    root = Path(tempfile.gettempdir())
    folders = {}
    for folder in root.glob(f"{TEMP_PREFIX}*-*"):
        job_id = folder.name.removeprefix(TEMP_PREFIX).split("-", 1)[0]
        if folder.is_dir() and job_id.isdigit():
            folders[folder] = int(job_id)
    running = set(TrainingJob.objects.filter(pk__in=set(folders.values()), status=Status.RUNNING)
                  .values_list("pk", flat=True))
    removed = 0
    for folder, job_id in folders.items():
        if job_id not in running and _silent_for(folder, seconds=settings.TRAINING_STUCK_AFTER_SECONDS):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _silent_for(folder: Path, *, seconds: float) -> bool:
    """Whether nothing in ``folder`` was written in the last ``seconds`` (a live run writes its curves and weights)."""
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        try:
            newest = max(newest, path.stat().st_mtime)
        except OSError:
            continue
    return time.time() - newest > seconds
