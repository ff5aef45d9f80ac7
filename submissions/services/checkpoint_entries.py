"""Running a Melody Harvest entry on a worker (DESIGN section 6): load the checkpoint safely, generate from every
hidden input melody of the challenge with its parameters under its per-input time limit, store each output, then
hand the entry to scoring ("evaluation.score_submission" scores the mean over the outputs).

Worker only: the engine's torch code is imported inside the functions, never when the web imports this module.
"""

from __future__ import annotations

import json
import logging
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.db import transaction

from chartbusters.dispatch import send_task
from generation.engine.errors import EngineError, ParamError
from submissions.models import Submission, SubmissionOutput
from submissions.services.errors import IllegalTransitionError
from submissions.services.lifecycle import (
    submission_mark_failed,
    submission_mark_generating,
    submission_mark_scoring,
    submission_set_progress,
)

logger = logging.getLogger(__name__)

GENERATION_SHARE = 90  # progress reached when every input is generated; scoring takes it to 100
TIME_LIMIT_MESSAGE = (
    "Your model took longer than the challenge's limit of {limit} s on hidden {input} "
    "(stopped after {elapsed:.1f} s). Make it faster (a smaller config) and resubmit."
)
LOAD_FAILED_MESSAGE = "Your checkpoint could not be loaded: {detail} Fix it and resubmit."
GENERATE_FAILED_MESSAGE = "Your model failed on hidden {input}: {detail}"
INPUT_LABEL = "input {n}"  # entrants never learn the hidden inputs' names (README "Results visibility")
NO_INPUTS_MESSAGE = (
    "This challenge has no hidden input melodies yet, so your model could not run; this entry does not count "
    "against your quota. Ask the organizers to add them and rerun it."
)
BAD_PARAMS_MESSAGE = (
    "The challenge's generation parameters are invalid ({detail}); this entry does not count against your quota. "
    "Ask the organizers to fix them and rerun it."
)
TASK_TIME_LIMIT_MESSAGE = (
    "The run of your checkpoint took longer than the platform allows for one entry; this entry does not count "
    "against your quota. Ask the organizers to rerun it."
)
PLATFORM_ERROR_MESSAGE = (
    "The platform failed while running your checkpoint (the error was logged for the organizers); this entry "
    "does not count against your quota. Resubmit or ask the organizers to rerun it."
)
DEFAULT_SEED = 0  # every entry is run with the same seed unless the challenge sets one: scores are reproducible


class EntryFaultError(Exception):
    """The entry itself failed (its checkpoint, its model's speed or output): counts against the quota."""


class PlatformFaultError(Exception):
    """The challenge or the platform failed: the entry does not count against the quota."""


class GenerationTimeoutError(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block with GenerationTimeoutError after ``seconds`` (SIGALRM; in the main thread, as a Celery
    prefork worker runs tasks). Elsewhere the caller's elapsed-time check is the limit."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _raise(signum, frame):
        raise GenerationTimeoutError

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _load_model(submission: Submission):
    """(model, architecture) from the stored weights + config, through the engine's safe (no pickle) loader."""
    from generation.engine.checkpoint import load_checkpoint
    from generation.engine.registry import get_generator

    config = submission.checkpoint_config or {}
    with tempfile.TemporaryDirectory(prefix=f"entry-{submission.pk}-") as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(json.dumps(config))
        with submission.checkpoint.open("rb") as src, (folder / "model.safetensors").open("wb") as dst:
            for chunk in src.chunks():
                dst.write(chunk)
        try:
            architecture = get_generator(config.get("architecture"))
            model, _meta = load_checkpoint(folder, architecture=architecture.name)
        except EngineError as exc:
            raise EntryFaultError(LOAD_FAILED_MESSAGE.format(detail=exc.message)) from exc
    return model, architecture


def _params(submission: Submission, architecture: str) -> tuple[dict, int]:
    from generation.engine.params import validate_params

    try:
        params = validate_params(architecture, dict(submission.challenge.generation_params or {}))
    except ParamError as exc:
        raise PlatformFaultError(BAD_PARAMS_MESSAGE.format(detail=exc.message)) from exc
    seed = params.get("seed")
    return params, DEFAULT_SEED if seed is None else int(seed)


def _generate_one(*, submission: Submission, model, architecture, melody, params: dict, seed: int,
                  position: int = 1) -> None:
    from generation.engine.midi_io import load_midi, midi_to_bytes

    label = INPUT_LABEL.format(n=position)

    with melody.midi.open("rb") as fh:
        pm = load_midi(fh.read())
    limit = submission.challenge.generation_time_limit_seconds
    started = time.perf_counter()
    try:
        with time_limit(limit):
            output = architecture.generate(model, pm, params, seed)
    except GenerationTimeoutError as exc:
        elapsed = time.perf_counter() - started
        raise EntryFaultError(TIME_LIMIT_MESSAGE.format(limit=limit, input=label, elapsed=elapsed)) from exc
    except EngineError as exc:
        raise EntryFaultError(GENERATE_FAILED_MESSAGE.format(input=label, detail=exc.message)) from exc
    elapsed = time.perf_counter() - started
    if elapsed > limit:
        raise EntryFaultError(TIME_LIMIT_MESSAGE.format(limit=limit, input=label, elapsed=elapsed))
    SubmissionOutput.objects.create(  # stored under a random name (submissions.models)
        submission=submission, input_name=melody.name, midi=ContentFile(midi_to_bytes(output), name="output.mid"),
        seconds=elapsed,
    )


def _generate_all(submission: Submission) -> None:
    melodies = list(submission.challenge.input_melodies.order_by("name"))
    if not melodies:
        raise PlatformFaultError(NO_INPUTS_MESSAGE)
    model, architecture = _load_model(submission)
    params, seed = _params(submission, architecture.name)
    for old in submission.outputs.all():  # a redelivered task starts the outputs again
        old.midi.delete(save=False)
        old.delete()
    for index, melody in enumerate(melodies, start=1):
        _generate_one(submission=submission, model=model, architecture=architecture, melody=melody,
                      params=params, seed=seed, position=index)
        submission_set_progress(submission_id=submission.pk, progress=GENERATION_SHARE * index // len(melodies))


def submission_run_checkpoint_entry(*, submission_id: int) -> None:
    """The task "submissions.run_checkpoint_entry": queued -> generating -> scoring (or failed, with the reason).
    An entry already past generating (a duplicate delivery, or one the reaper failed meanwhile) is left alone."""
    try:
        submission = submission_mark_generating(submission_id=submission_id)
    except IllegalTransitionError as exc:
        logger.warning("Not running checkpoint entry %s: %s", submission_id, exc)
        return
    try:
        _generate_all(submission)
    except EntryFaultError as exc:
        submission_mark_failed(submission_id=submission_id, error=str(exc), platform_fault=False)
        return
    except PlatformFaultError as exc:
        submission_mark_failed(submission_id=submission_id, error=str(exc), platform_fault=True)
        return
    except SoftTimeLimitExceeded:
        submission_mark_failed(submission_id=submission_id, error=TASK_TIME_LIMIT_MESSAGE, platform_fault=True)
        return
    except Exception:
        logger.exception("Running checkpoint entry %s failed", submission_id)
        submission_mark_failed(submission_id=submission_id, error=PLATFORM_ERROR_MESSAGE, platform_fault=True)
        return
    with transaction.atomic():
        submission_mark_scoring(submission_id=submission_id)
        send_task("evaluation.score_submission", args=(submission_id,), queue="scoring")
