"""Running a studio job on a worker (task ``generation.run_job``, queue ``generation``).

The job is claimed (queued -> running, one conditional UPDATE: a duplicate delivery, or a job the reaper failed or
the clean-up deleted meanwhile, does nothing), the model runs through the engine's one generation path
(``generation.engine.pipeline.generate``: parameters, time limit, tempo/meter/untouched tracks restored), the
result is rendered to audio (``STUDIO_AUDIO_FORMAT``, MP3 by default; ``generation.engine.audio``, the same
renderer as entries) and stored, and the job is
done; or failed with a sentence a person can act on. Worker only: the engine's torch-importing parts are imported
inside the functions, never when the web imports this module.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from generation.engine.errors import EngineError
from generation.models import GenerationJob, UserCheckpoint

logger = logging.getLogger(__name__)
Status = GenerationJob.Status

TIME_LIMIT_MESSAGE = (
    "The model took longer than the studio's limit of {limit:g} s; try a shorter input or fewer iterations."
)
TASK_TIME_LIMIT_MESSAGE = "The generation took longer than the studio allows; try a shorter input."
CHECKPOINT_MESSAGE = "Your model could not be loaded: {detail}"
ENGINE_MESSAGE = "The model could not work on this input: {detail}"
PLATFORM_ERROR_MESSAGE = "The platform failed while generating (the error was logged); please generate again."
PROGRESS = {"claimed": 10, "generated": 70, "rendered": 95}


def job_set_progress(*, job_id: int, progress: int) -> None:
    GenerationJob.objects.filter(pk=job_id, status=Status.RUNNING).update(progress=progress, updated_at=timezone.now())


def job_claim(*, job_id: int) -> GenerationJob | None:
    now = timezone.now()
    claimed = GenerationJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, progress=PROGRESS["claimed"], started_at=now, updated_at=now)
    return GenerationJob.objects.select_related("checkpoint").get(pk=job_id) if claimed else None


@transaction.atomic
def job_mark_failed(*, job_id: int, error: str) -> bool:
    """Fail a queued or running job with ``error``; False when it had already finished (or is gone)."""
    job = GenerationJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.finished:
        return False
    job.status, job.error, job.finished_at = Status.FAILED, error, timezone.now()
    job.full_clean(exclude=["input_midi", "output_midi", "audio"])
    job.save(update_fields=["status", "error", "finished_at", "updated_at"])
    return True


def _checkpoint_model(checkpoint: UserCheckpoint, model_name: str):
    """The user's checkpoint through the engine's safe (no pickle) loader."""
    from generation.engine.loading import load_checkpoint

    with tempfile.TemporaryDirectory(prefix="studio-ckpt-") as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(json.dumps(checkpoint.config))
        with checkpoint.weights.open("rb") as src, (folder / "model.safetensors").open("wb") as dst:
            for chunk in src.chunks():
                dst.write(chunk)
        model, _meta = load_checkpoint(folder, architecture=model_name)
    return model


def _render_audio(pm) -> bytes | None:
    """The result as ``STUDIO_AUDIO_FORMAT`` audio, or None when audio cannot be rendered (the job is still done:
    the MIDI download works)."""
    from generation.engine.audio import render_pm_audio

    try:
        with tempfile.TemporaryDirectory(prefix="studio-audio-") as tmp:
            out = render_pm_audio(pm, Path(tmp) / f"out.{audio_extension()}")
            return out.read_bytes()
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        logger.exception("Audio rendering failed for a studio job")
        return None


def audio_extension() -> str:
    fmt = str(settings.STUDIO_AUDIO_FORMAT).lower().lstrip(".")
    return fmt if fmt in ("wav", "mp3", "ogg") else "wav"


def _generate(job: GenerationJob):
    from generation.engine.midi_io import load_midi
    from generation.engine.pipeline import generate

    with job.input_midi.open("rb") as fh:
        pm = load_midi(fh.read())
    model = None
    if job.checkpoint is not None:
        try:
            model = _checkpoint_model(job.checkpoint, job.model_name)
        except EngineError as exc:
            raise _JobFaultError(CHECKPOINT_MESSAGE.format(detail=exc.message)) from exc
    limit = settings.STUDIO_GENERATION_TIME_LIMIT_SECONDS
    try:
        return generate(job.model_name, pm, {**job.params, "seed": job.seed}, model=model, time_limit_seconds=limit)
    except EngineError as exc:
        if exc.code == "time_limit":
            raise _JobFaultError(TIME_LIMIT_MESSAGE.format(limit=limit)) from exc
        raise _JobFaultError(ENGINE_MESSAGE.format(detail=exc.message)) from exc


class _JobFaultError(Exception):
    pass


def _store_result(*, job_id: int, midi: bytes, audio: bytes | None, seconds: float,
                  adjustments: list[str] = ()) -> bool:
    """Store the result on a job still running (not reaped, not deleted meanwhile); files go if it is not."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != Status.RUNNING:
            return False
        job.output_midi.save("output.mid", ContentFile(midi), save=False)
        saved_files = [job.output_midi]
        try:
            if audio is not None:
                job.audio.save(f"audio.{audio_extension()}", ContentFile(audio), save=False)
                saved_files.append(job.audio)
            job.status, job.progress, job.seconds, job.finished_at = Status.DONE, 100, seconds, timezone.now()
            job.adjustments = list(adjustments)
            job.save(update_fields=["output_midi", "audio", "status", "progress", "seconds", "adjustments",
                                    "finished_at", "updated_at"])
        except BaseException:
            for field_file in saved_files:
                field_file.storage.delete(field_file.name)
            raise
    return True


def job_run(*, job_id: int) -> None:
    """queued -> running -> done | failed (with the reason)."""
    from generation.engine.midi_io import midi_to_bytes

    job = job_claim(job_id=job_id)
    if job is None:
        logger.info("Studio job %s is not queued (a duplicate delivery, reaped or deleted): skipped", job_id)
        return
    try:
        result = _generate(job)
        job_set_progress(job_id=job_id, progress=PROGRESS["generated"])
        midi = midi_to_bytes(result.midi)
        audio = _render_audio(result.midi)
        job_set_progress(job_id=job_id, progress=PROGRESS["rendered"])
        _store_result(job_id=job_id, midi=midi, audio=audio, seconds=result.seconds, adjustments=result.adjustments)
    except _JobFaultError as exc:
        job_mark_failed(job_id=job_id, error=str(exc))
    except SoftTimeLimitExceeded:
        job_mark_failed(job_id=job_id, error=TASK_TIME_LIMIT_MESSAGE)
    except Exception:
        logger.exception("Studio job %s failed", job_id)
        job_mark_failed(job_id=job_id, error=PLATFORM_ERROR_MESSAGE)
