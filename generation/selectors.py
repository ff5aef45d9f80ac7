"""Read-only queries of the studio (no torch): the models a user may choose, their own jobs and checkpoints, the
sample melodies.

Models come from the registry: every registered generator with its description and parameters from its spec
(``pipeline.describe_model``), so a model added to the registry appears in the studio with no change here.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from pretty_midi.constants import INSTRUMENT_MAP

from chartbusters.files import FileKind, file_url
from generation.engine.params import ChoiceParam, NumberParam, ProgramsParam, describe_params
from generation.engine.pipeline import describe_model
from generation.engine.registry import generator_names, get_generator_spec, trainable_names
from generation.models import GenerationJob, TrainingJob, UserCheckpoint

MAX_ID = 2**63 - 1  # larger ids cannot be in the database (and would overflow its integer)
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
SAMPLE_TITLES = {  # file stem -> title (public-domain tunes; written by scripts/make_studio_samples.py)
    "ode-to-joy": "Ode to Joy (Beethoven)",
    "twinkle": "Twinkle, Twinkle, Little Star",
    "frere-jacques": "Frère Jacques",
    "amazing-grace": "Amazing Grace",
}


def _field(param) -> dict:
    """How a form shows one parameter: input kind and bounds, beside describe_model's range/default/help."""
    if isinstance(param, NumberParam):
        return {"kind": "number", "min": param.low, "max": param.high, "step": 1 if param.integer else "any"}
    if isinstance(param, ChoiceParam):
        return {"kind": "choice", "choices": list(param.choices)}
    if isinstance(param, ProgramsParam):  # a select of named instruments per part; the API takes the numbers
        return {"kind": "programs", "count": param.count, "instruments": list(INSTRUMENT_MAP)}
    return {"kind": "text"}


def model_catalog() -> list[dict]:
    """Every registered generator: ``{name, description, params: [{name, range, default, help, kind, ...}]}``."""
    models = []
    for name in generator_names():
        described = describe_model(name)
        specs = {p.name: p for p in get_generator_spec(name).PARAMS}
        described["params"] = [{**row, **_field(specs[row["name"]])} for row in described["params"]
                               if row["name"] in specs]
        models.append(described)
    return models


def trainable_catalog() -> list[dict]:
    """Every model users can train: ``{name, description, params: [{name, range, default, help, kind, ...}]}`` from
    its spec's TRAIN_PARAMS (the Train page's form and ``GET /api/trainings/options/``)."""
    models = []
    for name in trainable_names():
        spec = get_generator_spec(name)
        params = [{**row, **_field(param)} for row, param in zip(describe_params(spec.TRAIN_PARAMS),
                                                                  spec.TRAIN_PARAMS, strict=True)]
        models.append({"name": name, "description": spec.DESCRIPTION, "params": params,
                       "min_tracks": getattr(spec, "MIN_TRAINING_TRACKS", 1)})
    return models


def submission_get_own(*, owner, submission_id: int):
    """``owner``'s entry ``submission_id`` (with its challenge), or None: My models links the one just entered."""
    from submissions.models import Submission

    if not 0 < submission_id <= MAX_ID:
        return None
    return Submission.objects.select_related("challenge").filter(pk=submission_id, entrant=owner).first()


def job_list_own(*, owner, limit: int = 100) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(owner=owner).order_by("-created_at")[:limit]


def _own_row(model, *, user, pk: int):
    """Row ``pk`` of ``model`` if it is ``user``'s own, or ``user`` is a superuser (anyone else: None, answered as
    404)."""
    if not getattr(user, "is_authenticated", False) or not 1 <= pk <= MAX_ID:
        return None
    rows = model.objects.all() if user.is_superuser else model.objects.filter(owner=user)
    return rows.filter(pk=pk).first()


def job_get_for_user(*, user, job_id: int) -> GenerationJob | None:
    return _own_row(GenerationJob, user=user, pk=job_id)


def job_urls(job: GenerationJob) -> dict:
    return {
        "input_midi_url": file_url(FileKind.JOB_INPUT, job.public_id) if job.input_midi else None,
        "output_midi_url": file_url(FileKind.JOB_OUTPUT, job.public_id) if job.output_midi else None,
        "audio_url": file_url(FileKind.JOB_AUDIO, job.public_id) if job.audio else None,
    }


def checkpoint_list_own(*, owner) -> QuerySet[UserCheckpoint]:
    return UserCheckpoint.objects.filter(owner=owner).select_related("training").order_by("-created_at")


def checkpoint_urls(checkpoint: UserCheckpoint) -> dict:
    return {
        "download_url": file_url(FileKind.MODEL_BUNDLE, checkpoint.public_id) if checkpoint.bundle else None,
        "loss_plot_url": file_url(FileKind.MODEL_LOSS, checkpoint.public_id) if checkpoint.loss_plot else None,
        "measures_plot_url": (file_url(FileKind.MODEL_MEASURES, checkpoint.public_id)
                              if checkpoint.measures_plot else None),
    }


def training_list_own(*, owner, limit: int = 50) -> QuerySet[TrainingJob]:
    return TrainingJob.objects.filter(owner=owner).order_by("-created_at")[:limit]


def training_get_for_user(*, user, job_id: int) -> TrainingJob | None:
    return _own_row(TrainingJob, user=user, pk=job_id)


def training_curves(series: dict) -> dict:
    """{name: [[step, value], ...]} -> {"step": [every step], name: [value or None at each step]}: the API's
    ``metrics`` (train_loss, valid_loss; the GAN's discriminator_loss, generator_loss and per-track measures, with the
    training set's values as "train set: ..." at step 0)."""
    steps = sorted({int(point[0]) for points in series.values() for point in points})
    index = {step: i for i, step in enumerate(steps)}
    curves: dict = {"step": steps, "train_loss": [None] * len(steps), "valid_loss": [None] * len(steps)}
    for name, points in series.items():
        row = curves.setdefault(name, [None] * len(steps))
        for step, value in points:
            row[index[int(step)]] = value
    return curves


def training_time_left(job: TrainingJob, now=None) -> float | None:
    """Seconds left at the rate so far (None before the first report or once ended), capped by the wall-time limit."""
    if job.status != TrainingJob.Status.RUNNING or not job.started_at or job.steps_done <= 0:
        return None
    elapsed = ((now or timezone.now()) - job.started_at).total_seconds()
    left = elapsed * (job.steps_total - job.steps_done) / job.steps_done
    return round(max(0.0, min(left, settings.TRAINING_MAX_SECONDS - elapsed)), 1)


def training_body(job: TrainingJob) -> dict:
    """``GET /api/trainings/{id}/``: status, progress, the curves so far and, once done, the new model's id."""
    return {
        "id": job.pk, "status": job.status, "progress": job.progress, "error": job.error, "model": job.model_name,
        "name": job.name, "params": job.params, "dataset": job.dataset, "files": job.files,
        "steps_done": job.steps_done, "steps_total": job.steps_total, "cancel_requested": job.cancel_requested,
        "seconds_left": training_time_left(job),
        "waiting_for": training_wait_text(job),
        "metrics": training_curves(job.metrics or {}),
        "checkpoint": job.checkpoint_id,
        "created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at,
    }


WAIT_NO_ONE_AHEAD = ("Waiting for a training worker to pick it up: no run is ahead of yours (users' runs have "
                     "workers of their own, so a challenge's realness training never comes first).")
WAIT_RUNS_AHEAD = ("Waiting for a training worker: {n} run{s} of users ahead of yours (running or queued earlier); "
                   "yours starts when one finishes.")


def training_wait_text(job: TrainingJob) -> str:
    """What a queued run waits for (empty once it runs): the users' runs ahead of it on the user-training queue."""
    if job.status != TrainingJob.Status.QUEUED:
        return ""
    ahead = TrainingJob.objects.filter(
        status__in=(TrainingJob.Status.QUEUED, TrainingJob.Status.RUNNING), created_at__lt=job.created_at
    ).exclude(pk=job.pk).count()
    return WAIT_RUNS_AHEAD.format(n=ahead, s="" if ahead == 1 else "s") if ahead else WAIT_NO_ONE_AHEAD


def sample_list() -> list[dict]:
    """The shipped sample melodies: ``[{slug, title}]`` (those whose file is there)."""
    return [{"slug": slug, "title": title} for slug, title in SAMPLE_TITLES.items()
            if (SAMPLES_DIR / f"{slug}.mid").is_file()]


def sample_bytes(slug: str) -> bytes | None:
    if slug not in SAMPLE_TITLES:
        return None
    path = SAMPLES_DIR / f"{slug}.mid"
    return path.read_bytes() if path.is_file() else None
