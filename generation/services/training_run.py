"""Running a user's training run on a worker (task ``generation.train_model``, queue ``training``).

The run is claimed (queued -> running, one conditional UPDATE: a duplicate delivery, or a run cancelled or reaped
meanwhile, does nothing). Its files are unpacked into a temporary folder and the engine trains
(``generation.engine.runs.train_model``: the model's TRAIN_PARAMS, ``start=shipped`` fine-tunes the shipped model)
for at most ``TRAINING_MAX_SECONDS`` (then it stops and keeps its best weights). Progress and the curves are written
to the row at most every ``TRAINING_REPORT_SECONDS``; each write also reads whether the user asked to cancel, and
stops the run if so. Done: the weights, config, card and plots become one of the user's models (UserCheckpoint)
plus a zip to download. Whatever the outcome, the temporary folder and the uploaded files are deleted; a cancelled
or failed run stores nothing. Worker only: torch is imported inside the functions.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import time
import zipfile
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from generation.engine.errors import EngineError
from generation.models import TrainingJob, UserCheckpoint
from generation.services.training import TEMP_PREFIX, training_delete_data, training_finish, training_sweep_temp

logger = logging.getLogger(__name__)
Status = TrainingJob.Status

ENGINE_MESSAGE = "The model could not learn from this data: {detail}"
TASK_TIME_LIMIT_MESSAGE = "The training took longer than the platform allows; try fewer steps or fewer files."
PLATFORM_ERROR_MESSAGE = "The platform failed while training (the error was logged); please start the training again."
DATA_FOLDER = "your-midi"  # the folder name the card and its reproduce command show for uploaded files
BUNDLE_FILES = ("model.safetensors", "config.json", "MODEL_CARD.md", "loss.png", "measures.png")


class TrainingStoppedError(Exception):
    """Raised from the progress report when the user cancelled (or the run was reaped): the engine lets it through."""


class Reporter:
    """The engine's progress and metrics callbacks: collects the curves and writes them (with the progress) to the
    row at most every TRAINING_REPORT_SECONDS; stops the run when the row says cancel (or is no longer running)."""

    def __init__(self, job_id: int, steps_total: int) -> None:
        self.job_id, self.steps_total = job_id, max(1, steps_total)
        self.steps_done = 0
        self.series: dict[str, list[list[float]]] = {}
        self.last_write = 0.0

    def on_metrics(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.series.setdefault(name, []).append([int(step), round(float(value), 5)])
        self.write()

    def on_progress(self, done: int, total: int) -> None:
        self.steps_done, self.steps_total = int(done), max(1, int(total))
        self.write()

    def write(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_write < settings.TRAINING_REPORT_SECONDS:
            return
        self.last_write = now
        progress = min(99, round(100 * self.steps_done / self.steps_total))
        updated = TrainingJob.objects.filter(pk=self.job_id, status=Status.RUNNING, cancel_requested=False).update(
            progress=progress, steps_done=self.steps_done, steps_total=self.steps_total, metrics=self.series,
            updated_at=timezone.now())
        if not updated:
            raise TrainingStoppedError


def training_claim(*, job_id: int) -> TrainingJob | None:
    now = timezone.now()
    claimed = TrainingJob.objects.filter(pk=job_id, status=Status.QUEUED, cancel_requested=False).update(
        status=Status.RUNNING, started_at=now, updated_at=now)
    return TrainingJob.objects.get(pk=job_id) if claimed else None


def _unpack(job: TrainingJob, folder: Path) -> Path | None:
    """The run's files in ``folder/your-midi`` (None: the chorales)."""
    if job.dataset == TrainingJob.Dataset.CHORALES:
        return None
    data = folder / DATA_FOLDER
    data.mkdir()
    with job.data.open("rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as archive:
        for name in archive.namelist():  # names the service wrote: plain, unique, no folders
            (data / Path(name).name).write_bytes(archive.read(name))
    return data


def _card(job: TrainingJob, card: str, seconds: float) -> str:
    files = job.files or {}
    lines = [card.rstrip(), "", "## Trained in the Chartbusters studio", "",
             f"- run #{job.pk} by {job.owner.get_username()}, {seconds / 60:.1f} min of training on the platform's "
             "training worker",
             f"- parameters: `{json.dumps(job.params, sort_keys=True)}`"]
    if job.dataset == TrainingJob.Dataset.CHORALES:
        lines.append("- data: the Bach chorales that music21 ships (train split)")
    else:
        used = files.get("used", [])
        lines.append(f"- data: {len(used)} uploaded MIDI file(s): {', '.join(used[:40])}"
                     + (" ..." if len(used) > 40 else ""))
        for refused in files.get("refused", []):
            lines.append(f"- not used: {refused['name']} ({refused['error']})")
    return "\n".join(lines) + "\n"


def _bundle(out: Path, card: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in BUNDLE_FILES:
            if name == "MODEL_CARD.md":
                archive.writestr(name, card)
            elif (out / name).exists():
                archive.write(out / name, name)
    return buffer.getvalue()


def scrub_server_paths(text: str, *, data: Path | None, out: Path) -> str:
    """``text`` (a card, metrics) without the server's paths (issue 24): the uploaded data is "your-midi", the
    worker's temporary folder ".", and the shipped checkpoints a path from the repository root."""
    from generation.engine.dataset import REPO_ROOT

    if data is not None:  # the reproduce command names the folder, not the worker's temporary path
        text = text.replace(str(data), DATA_FOLDER)
    text = text.replace(str(out.parent), ".")
    return text.replace(f"{REPO_ROOT}/", "").replace(str(REPO_ROOT), ".")


def _store_model(*, job_id: int, out: Path, metrics: dict, seconds: float, reporter: Reporter,
                 data: Path | None) -> bool:
    """The trained model as the owner's UserCheckpoint, on a run still running and not cancelled (files deleted if
    it is not, or if storing fails)."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().select_related("owner").filter(pk=job_id).first()
        if job is None or job.status != Status.RUNNING or job.cancel_requested:
            return False
        card = _card(job, scrub_server_paths((out / "MODEL_CARD.md").read_text(), data=data, out=out), seconds)
        checkpoint = UserCheckpoint(owner=job.owner, name=job.name, architecture=job.model_name,
                                    config=json.loads((out / "config.json").read_text()), card=card,
                                    metrics=json.loads(scrub_server_paths(json.dumps(metrics, default=str),
                                                                          data=data, out=out)))
        try:
            checkpoint.weights.save("model.safetensors", ContentFile((out / "model.safetensors").read_bytes()),
                                    save=False)
            checkpoint.loss_plot.save("loss.png", ContentFile((out / "loss.png").read_bytes()), save=False)
            if (out / "measures.png").exists():
                checkpoint.measures_plot.save("measures.png", ContentFile((out / "measures.png").read_bytes()),
                                              save=False)
            checkpoint.bundle.save("model.zip", ContentFile(_bundle(out, card)), save=False)
            checkpoint.save()
            job.checkpoint, job.status, job.progress, job.finished_at = checkpoint, Status.DONE, 100, timezone.now()
            job.steps_done, job.metrics = reporter.steps_done, reporter.series
            training_delete_data(job, save=False)  # ended and its uploads gone in one step
            job.save(update_fields=["checkpoint", "status", "progress", "finished_at", "steps_done", "metrics",
                                    "data", "updated_at"])
        except BaseException:
            for field_file in checkpoint.stored_files:
                field_file.storage.delete(field_file.name)
            raise
    return True


def training_run(*, job_id: int) -> None:
    """queued -> running -> done | failed (with the reason) | cancelled; the uploaded files are deleted after."""
    from generation.engine.runs import train_model

    job = training_claim(job_id=job_id)
    if job is None:
        logger.info("Training run %s is not queued (a duplicate delivery, cancelled or reaped): skipped", job_id)
        return
    reporter = Reporter(job_id, job.steps_total)
    started = time.perf_counter()
    try:
        training_sweep_temp()  # a run killed on this machine left its files: remove them
        with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{job_id}-") as tmp:
            folder = Path(tmp)
            data = _unpack(job, folder)
            out = folder / "out"
            metrics = train_model(job.model_name, data=data, out=out, params=job.params, progress=False,
                                  on_progress=reporter.on_progress, on_metrics=reporter.on_metrics,
                                  max_seconds=settings.TRAINING_MAX_SECONDS)
            reporter.write(force=True)  # the last points; raises if the user cancelled meanwhile
            if not _store_model(job_id=job_id, out=out, metrics=metrics, seconds=time.perf_counter() - started,
                                reporter=reporter, data=data):
                training_finish(job_id=job_id, status=Status.CANCELLED)
    except TrainingStoppedError:
        training_finish(job_id=job_id, status=Status.CANCELLED)
    except SoftTimeLimitExceeded:
        training_finish(job_id=job_id, status=Status.FAILED, error=TASK_TIME_LIMIT_MESSAGE)
    except EngineError as exc:
        training_finish(job_id=job_id, status=Status.FAILED, error=ENGINE_MESSAGE.format(detail=exc.message))
    except Exception:
        logger.exception("Training run %s failed", job_id)
        training_finish(job_id=job_id, status=Status.FAILED, error=PLATFORM_ERROR_MESSAGE)
    finally:
        ended = TrainingJob.objects.filter(pk=job_id).first()
        if ended is not None:
            training_delete_data(ended)
