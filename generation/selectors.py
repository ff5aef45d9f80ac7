"""Read-only queries of the studio (no torch): the models a user may choose, their own jobs and checkpoints, the
sample melodies.

Models come from the registry: every registered generator with its description and parameters from its spec
(``pipeline.describe_model``), so a model added to the registry appears in the studio with no change here.
"""

from __future__ import annotations

from pathlib import Path

from django.db.models import QuerySet

from chartbusters.files import FileKind, file_url
from generation.engine.params import ChoiceParam, NumberParam, ProgramsParam
from generation.engine.pipeline import describe_model
from generation.engine.registry import generator_names, get_generator_spec
from generation.models import GenerationJob, UserCheckpoint

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
    if isinstance(param, ProgramsParam):
        return {"kind": "programs", "count": param.count}
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


def job_list_own(*, owner, limit: int = 100) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(owner=owner).order_by("-created_at")[:limit]


def job_get_for_user(*, user, job_id: int) -> GenerationJob | None:
    """The job if it is ``user``'s own, or ``user`` is a superuser (anyone else: None, answered as 404)."""
    if not getattr(user, "is_authenticated", False) or not 1 <= job_id <= MAX_ID:
        return None
    jobs = GenerationJob.objects.all() if user.is_superuser else GenerationJob.objects.filter(owner=user)
    return jobs.filter(pk=job_id).first()


def job_urls(job: GenerationJob) -> dict:
    return {
        "input_midi_url": file_url(FileKind.JOB_INPUT, job.public_id) if job.input_midi else None,
        "output_midi_url": file_url(FileKind.JOB_OUTPUT, job.public_id) if job.output_midi else None,
        "audio_url": file_url(FileKind.JOB_AUDIO, job.public_id) if job.audio else None,
    }


def checkpoint_list_own(*, owner) -> QuerySet[UserCheckpoint]:
    return UserCheckpoint.objects.filter(owner=owner).order_by("-created_at")


def sample_list() -> list[dict]:
    """The shipped sample melodies: ``[{slug, title}]`` (those whose file is there)."""
    return [{"slug": slug, "title": title} for slug, title in SAMPLE_TITLES.items()
            if (SAMPLES_DIR / f"{slug}.mid").is_file()]


def sample_bytes(slug: str) -> bytes | None:
    if slug not in SAMPLE_TITLES:
        return None
    path = SAMPLES_DIR / f"{slug}.mid"
    return path.read_bytes() if path.is_file() else None
