"""Creating studio generation jobs (docs/design.md section 7, ``POST /api/generate/``): web side, no torch.

Everything is checked before anything is stored: the model (a registered generator), the user's checkpoint (their
own, of that architecture), the parameters (against the model's spec), the input (a MIDI upload, the piano roll's
notes, or a version made before: ``parent``), and the per-user limits (jobs per hour, jobs queued or running at
once), counted under a lock on the user's row so that two requests cannot both pass. Then one job per variation
(1-4, each with its own seed) is stored with its input and sent to the ``generation`` queue once the transaction
commits. A refusal raises ``ApplicationError`` and leaves no row and no file behind.

``key`` (the studio's key control; empty: from the music) runs the job in one of the 24 keys: the stored input gets
that key as its only key signature, which every model reads (``generation.engine.keys.key_of``), and a model with
a ``key`` parameter of its own (the GAN's key of a generated soprano) gets it too unless the parameters set one.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from chartbusters.dispatch import send_task
from chartbusters.errors import ApplicationError
from chartbusters.ratelimit import wait_text
from generation.engine.errors import EngineError, MidiValidationError
from generation.engine.keys import key_from_name, with_key_signature
from generation.engine.midi_io import MAX_MIDI_BYTES, TOO_LARGE_MESSAGE, validate_midi_bytes
from generation.engine.params import SEED_MAX, validate_params
from generation.engine.registry import generator_names, get_generator_spec
from generation.models import GenerationJob, UserCheckpoint
from generation.notes import NotesError, notes_to_midi_bytes

Status = GenerationJob.Status
IN_PROGRESS = (Status.QUEUED, Status.RUNNING)
MAX_VARIATIONS = 4
RUN_TASK = ("generation.run_job", "generation")

UNKNOWN_MODEL_MESSAGE = "Choose a model: {models}."
MODEL_SECONDS_MESSAGE = (
    "Your generations used {used:.0f} s of model time in the last hour; each account has {limit:.0f} s an hour, so "
    "that everyone's music gets made. Try again in {wait}."
)
VARIATIONS_MESSAGE = "Ask for 1 to {limit} variations; got {value!r}."
ONE_INPUT_MESSAGE = (
    "Send the music to work on as one of `input` (a MIDI file), `notes` (the piano roll's JSON) or `parent` "
    "(a version you made before), not several."
)
NO_INPUT_MESSAGE = "Send the music to work on: `input` (a MIDI file), `notes` (the piano roll's JSON) or `parent`."
JOB_NOT_FOUND_MESSAGE = "You have no generation #{id}."
PARENT_NOT_DONE_MESSAGE = "Generation #{id} has no result to work on (it is {status})."
CHECKPOINT_NOT_FOUND_MESSAGE = "You have no uploaded model #{id}."
CHECKPOINT_MODEL_MESSAGE = "Your model #{id} is a {architecture} checkpoint; choose the {architecture} model to use it."
TOO_MANY_RUNNING_MESSAGE = (
    "You have {running} generation(s) queued or running and may have {limit} at once; try again in about "
    "{wait}, when they have finished."
)
TOO_MANY_PER_HOUR_MESSAGE = (
    "You have started {count} generations in the last hour; the limit is {limit} an hour. Try again in {wait}."
)
RUNNING_RETRY_SECONDS = 15


def _model_check(model_name: str):
    names = generator_names()
    if model_name not in names:
        raise ApplicationError("unknown_model", UNKNOWN_MODEL_MESSAGE.format(models=", ".join(names)), status=400)
    return get_generator_spec(model_name)


def _checkpoint_check(*, owner, checkpoint_id: int | None, model_name: str) -> UserCheckpoint | None:
    if checkpoint_id is None:
        return None
    checkpoint = UserCheckpoint.objects.filter(owner=owner, pk=checkpoint_id).first()
    if checkpoint is None:
        raise ApplicationError("checkpoint_not_found", CHECKPOINT_NOT_FOUND_MESSAGE.format(id=checkpoint_id),
                               status=404)
    if checkpoint.architecture != model_name:
        raise ApplicationError("checkpoint_model", CHECKPOINT_MODEL_MESSAGE.format(
            id=checkpoint_id, architecture=checkpoint.architecture), status=422)
    return checkpoint


def job_get_own(*, owner, job_id: int) -> GenerationJob:
    job = GenerationJob.objects.filter(owner=owner, pk=job_id).first()
    if job is None:
        raise ApplicationError("not_found", JOB_NOT_FOUND_MESSAGE.format(id=job_id), status=404)
    return job


def job_output_bytes(job: GenerationJob) -> bytes:
    if job.status != Status.DONE or not job.output_midi:
        raise ApplicationError("not_done", PARENT_NOT_DONE_MESSAGE.format(id=job.pk, status=job.status), status=409)
    try:
        with job.output_midi.open("rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ApplicationError("not_done", PARENT_NOT_DONE_MESSAGE.format(id=job.pk, status="no longer stored"),
                               status=409) from None


def input_bytes(*, owner, input_midi: UploadedFile | None = None, notes=None,
                parent: GenerationJob | None = None) -> bytes:
    """The music to work on, validated: an upload, the piano roll's notes, else ``parent``'s result."""
    if input_midi is not None and notes is not None:
        raise ApplicationError("one_input", ONE_INPUT_MESSAGE, status=400)
    try:
        if input_midi is not None:
            if input_midi.size is not None and input_midi.size > MAX_MIDI_BYTES:  # before reading it
                raise ApplicationError(
                    "too_large", TOO_LARGE_MESSAGE.format(found=input_midi.size, limit=MAX_MIDI_BYTES), status=413)
            input_midi.seek(0)
            data = input_midi.read(MAX_MIDI_BYTES + 1)
            validate_midi_bytes(data)
            return data
        if notes is not None:
            return notes_to_midi_bytes(notes)
    except (MidiValidationError, NotesError) as exc:
        raise ApplicationError(exc.code, exc.message, status=413 if exc.code == "too_large" else 422) from exc
    if parent is not None:
        return job_output_bytes(parent)
    raise ApplicationError("no_input", NO_INPUT_MESSAGE, status=400)


def _limits_check(*, owner, variations: int, now: datetime) -> None:
    """Per-user limits, counted while the caller holds the lock on the user's row (race-free)."""
    _model_seconds_check(owner=owner, now=now)
    running = GenerationJob.objects.filter(owner=owner, status__in=IN_PROGRESS).count()
    limit = settings.STUDIO_MAX_RUNNING_JOBS
    if running + variations > limit:
        raise ApplicationError("too_many_running", TOO_MANY_RUNNING_MESSAGE.format(
            running=running, limit=limit, wait=wait_text(RUNNING_RETRY_SECONDS)), status=429,
            retry_after=RUNNING_RETRY_SECONDS)
    per_hour = settings.STUDIO_JOBS_PER_HOUR
    since = now - timedelta(hours=1)
    recent = list(GenerationJob.objects.filter(owner=owner, created_at__gte=since)
                  .order_by("created_at").values_list("created_at", flat=True))
    if len(recent) + variations > per_hour:
        # the wait until enough of the hour's jobs have aged out to make room for this request
        index = min(len(recent) - 1, max(0, len(recent) + variations - per_hour - 1))
        retry_after = max(1, int((recent[index] + timedelta(hours=1) - now).total_seconds()) + 1) if recent else 3600
        raise ApplicationError("too_many_per_hour", TOO_MANY_PER_HOUR_MESSAGE.format(
            count=len(recent), limit=per_hour, wait=wait_text(retry_after)), status=429, retry_after=retry_after)


def _model_seconds_check(*, owner, now: datetime) -> None:
    """Issue 24: a budget of worker time (seconds from start to end, running jobs to now) per user and hour, so
    that one account cannot keep the model workers busy: STUDIO_MODEL_SECONDS_PER_HOUR."""
    budget = settings.STUDIO_MODEL_SECONDS_PER_HOUR
    if budget <= 0:
        return
    since = now - timedelta(hours=1)
    spans = list(GenerationJob.objects.filter(owner=owner, started_at__isnull=False)
                 .exclude(finished_at__lt=since).order_by("started_at").values_list("started_at", "finished_at"))
    used = sum(((end or now) - max(start, since)).total_seconds() for start, end in spans)
    if used >= budget:
        # the hour's first job leaves the window first: retry once enough of its time has aged out
        retry_after = max(1, int(used - budget + 1)) if spans else 3600
        raise ApplicationError("model_time_budget", MODEL_SECONDS_MESSAGE.format(
            used=used, limit=budget, wait=wait_text(retry_after)), status=429, retry_after=retry_after)


def _with_key_param(spec, params: dict | None, key: str | None) -> dict | None:
    """``params`` with the job's key as the model's own ``key`` parameter when it has one and they set none."""
    if not key or not isinstance(params, dict | None) or "key" in (params or {}):
        return params
    if not any(p.name == "key" for p in spec.PARAMS):
        return params
    return {**(params or {}), "key": key}


def _seeds(seed: int | None, variations: int) -> list[int]:
    if seed is None:
        return [secrets.randbelow(SEED_MAX + 1) for _ in range(variations)]
    return [(seed + i) % (SEED_MAX + 1) for i in range(variations)]


def job_create(*, owner, model_name: str, params: dict | None = None, input_midi: UploadedFile | None = None,
               notes=None, parent_id: int | None = None, checkpoint_id: int | None = None, variations: int = 1,
               key: str | None = None, now: datetime | None = None) -> list[GenerationJob]:
    """Check, store and queue ``variations`` jobs of ``model_name`` on one input, in ``key`` when one is named
    ("D major"; see the module's docstring); returns them (variation order)."""
    now = now or timezone.now()
    spec = _model_check(model_name)
    if isinstance(variations, bool) or not isinstance(variations, int) or not 1 <= variations <= MAX_VARIATIONS:
        raise ApplicationError("invalid_variations", VARIATIONS_MESSAGE.format(limit=MAX_VARIATIONS, value=variations),
                               status=400)
    try:
        chosen_key = key_from_name(key) if key else None
        checked = validate_params(spec.PARAMS, _with_key_param(spec, params, key), model=model_name)
    except EngineError as exc:
        raise ApplicationError(exc.code, exc.message, status=400) from exc
    checkpoint = _checkpoint_check(owner=owner, checkpoint_id=checkpoint_id, model_name=model_name)
    parent = job_get_own(owner=owner, job_id=parent_id) if parent_id is not None else None
    data = input_bytes(owner=owner, input_midi=input_midi, notes=notes, parent=parent)
    if chosen_key is not None:
        data = with_key_signature(data, chosen_key)
    seed = checked.pop("seed", None)

    stored: list[FieldFile] = []
    try:
        with transaction.atomic():
            get_user_model().objects.select_for_update().filter(pk=owner.pk).first()  # serializes this user
            _limits_check(owner=owner, variations=variations, now=now)
            jobs = []
            batch = None
            for number, variation_seed in enumerate(_seeds(seed, variations), start=1):
                job = GenerationJob(owner=owner, model_name=model_name, checkpoint=checkpoint, params=checked,
                                    seed=variation_seed, variation=number, parent=parent)
                if batch is None:
                    batch = job.batch
                job.batch = batch
                job.input_midi.save("input.mid", ContentFile(data), save=False)
                stored.append(job.input_midi)
                job.full_clean(exclude=["input_midi", "output_midi", "audio"])
                job.save()
                send_task(RUN_TASK[0], args=(job.pk,), queue=RUN_TASK[1])
                jobs.append(job)
    except BaseException:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise
    return jobs
