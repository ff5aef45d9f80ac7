"""Running a Melody Harvest entry on a worker (docs/design.md §6): load the checkpoint safely, time it on a 2-bar test
melody (the speed check: an entry slower a bar than the challenge allows is refused with the measured figure before
it runs on any input), generate from every input melody of the challenge with its parameters under its per-input
time limit, store each output, then hand the entry to scoring ("evaluation.score_submission" scores the mean over
the outputs).

Generation goes through the engine's one path, `generation.engine.pipeline.generate` (parameters checked against
the model's spec, time limit, the input's tempo, meter and untouched tracks restored). Worker only: the engine is
imported inside the functions, never when the web imports this module.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
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
    "(stopped at the limit). Make it faster (a smaller config) and resubmit."
)
LOAD_FAILED_MESSAGE = "Your checkpoint could not be loaded: {detail} Fix it and resubmit."
GENERATE_FAILED_MESSAGE = "Your model failed on hidden {input}: {detail}"
INPUT_LABEL = "input {n}"  # entrants never learn the hidden inputs' names (docs/competing.md "Results visibility")
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
SPEED_CHECK_BARS = 2  # the speed check's test melody: 2 bars of 4/4 quarter notes at 120 bpm, known to everyone
SPEED_CHECK_BAR_SECONDS = 2.0  # one bar of it
TOO_SLOW_MESSAGE = (
    "Your model took {measured:.3g} s a bar on a {bars}-bar test melody; this challenge allows {allowed:.3g} s a bar "
    "({limit} s for its longest input). Make it faster (a smaller config or fewer iterations) and resubmit."
)
TOO_SLOW_STOPPED_MESSAGE = (
    "Your model took more than {stop:.3g} s a bar on a {bars}-bar test melody (stopped after {elapsed:.3g} s); "
    "this challenge allows {allowed:.3g} s a bar ({limit} s for its longest input). Make it faster (a smaller config "
    "or fewer iterations) and resubmit."
)
# the check's run stops at twice the allowance: a model up to 2x too slow is named with its measured figure, and a
# slower one costs the worker at most 4 bars' allowance (a model whose output length does not follow its input: the
# per-input limit)
SPEED_CHECK_STOP_FACTOR = 2
SPEED_CHECK_FAILED_MESSAGE = "Your model failed on the 2-bar test melody: {detail}"
DEFAULT_SEED = 0  # every entry is run with the same seed unless the challenge sets one: scores are reproducible


class EntryFaultError(Exception):
    """The entry itself failed (its checkpoint, its model's speed or output): counts against the quota."""


class PlatformFaultError(Exception):
    """The challenge or the platform failed: the entry does not count against the quota."""


def _load_model(submission: Submission):
    """(model, architecture name) from the stored weights + config, through the engine's safe (no pickle) loader."""
    from generation.engine.loading import load_checkpoint
    from generation.engine.registry import get_generator_spec

    config = submission.checkpoint_config or {}
    with tempfile.TemporaryDirectory(prefix=f"entry-{submission.pk}-") as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(json.dumps(config))
        with submission.checkpoint.open("rb") as src, (folder / "model.safetensors").open("wb") as dst:
            for chunk in src.chunks():
                dst.write(chunk)
        try:
            architecture = get_generator_spec(config.get("architecture")).ARCHITECTURE
            model, _meta = load_checkpoint(folder, architecture=architecture)
        except EngineError as exc:
            raise EntryFaultError(LOAD_FAILED_MESSAGE.format(detail=exc.message)) from exc
    return model, architecture


def _params(submission: Submission, architecture: str) -> tuple[dict, int]:
    from generation.engine.pipeline import model_params

    try:
        by_architecture = submission.challenge.generation_params or {}  # {"arcnn": {...}, "gan": {...}}
        params = model_params(architecture, dict(by_architecture.get(architecture) or {}))
    except ParamError as exc:
        raise PlatformFaultError(BAD_PARAMS_MESSAGE.format(detail=exc.message)) from exc
    seed = params.get("seed")
    return params, DEFAULT_SEED if seed is None else int(seed)


def speed_check_melody():
    """The speed check's input: SPEED_CHECK_BARS bars of a C major line in quarter notes, 4/4 at 120 bpm."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    line = pretty_midi.Instrument(program=0)
    beat = SPEED_CHECK_BAR_SECONDS / 4
    for i, pitch in enumerate([60, 62, 64, 65, 67, 65, 64, 62][: 4 * SPEED_CHECK_BARS]):
        line.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=i * beat, end=(i + 0.9) * beat))
    pm.instruments.append(line)
    return pm


def _speed_check(*, submission: Submission, model, architecture: str, params: dict, seed: int,
                 longest_bars: int) -> float:
    """Issue 24: time the model on the 2-bar test melody with the challenge's parameters; refuse the entry
    (EntryFaultError naming the measured seconds a bar of the music it made) when a bar takes longer than the
    challenge allows: its per-input time limit over the bars of its longest input. The run stops at
    SPEED_CHECK_STOP_FACTOR times the allowance for the test melody's bars; a model whose output is not as long as
    its input (a continuation, a GAN writing its own melody) at the per-input limit. Returns the seconds a bar."""
    from generation.engine.midi_io import last_note_end
    from generation.engine.pipeline import generate
    from generation.engine.registry import get_generator_spec

    limit = submission.challenge.generation_time_limit_seconds
    allowed = limit / max(1, longest_bars)
    spec = get_generator_spec(architecture)
    free_length = getattr(spec, "CONTINUES", False) or getattr(spec, "WRITES_WITHOUT_INPUT", False)
    stop_at = limit if free_length else SPEED_CHECK_STOP_FACTOR * allowed * SPEED_CHECK_BARS
    started = time.perf_counter()
    try:
        result = generate(architecture, speed_check_melody(), {**params, "seed": seed}, model=model,
                          time_limit_seconds=stop_at)
    except EngineError as exc:
        if exc.code == "time_limit":
            raise EntryFaultError(TOO_SLOW_STOPPED_MESSAGE.format(
                stop=stop_at / SPEED_CHECK_BARS, elapsed=time.perf_counter() - started, bars=SPEED_CHECK_BARS,
                allowed=allowed, limit=limit)) from exc
        raise EntryFaultError(SPEED_CHECK_FAILED_MESSAGE.format(detail=exc.message)) from exc
    # a bar of the music it made: a continuation makes more bars than it was given
    made_bars = max(SPEED_CHECK_BARS, round(last_note_end(result.midi) / SPEED_CHECK_BAR_SECONDS))
    measured = result.seconds / made_bars
    if measured > allowed:
        raise EntryFaultError(TOO_SLOW_MESSAGE.format(measured=measured, bars=SPEED_CHECK_BARS, allowed=allowed,
                                                      limit=limit))
    logger.info("Checkpoint entry %s: %.3f s a bar on the speed check (allowed %.3f s)", submission.pk, measured,
                allowed)
    return measured


def _load_inputs(melodies) -> list:
    """(melody, parsed MIDI, bars) for each input of the challenge."""
    from generation.engine.midi_io import load_midi_with_info

    loaded = []
    for melody in melodies:
        with melody.midi.open("rb") as fh:
            pm, info = load_midi_with_info(fh.read())
        loaded.append((melody, pm, info.n_bars))
    return loaded


def _generate_one(*, submission: Submission, model, architecture: str, melody, pm, params: dict, seed: int,
                  position: int = 1) -> None:
    """One hidden input through the engine's one generation path, under the challenge's per-input time limit."""
    from generation.engine.midi_io import midi_to_bytes
    from generation.engine.pipeline import generate

    label = INPUT_LABEL.format(n=position)
    limit = submission.challenge.generation_time_limit_seconds
    try:
        result = generate(architecture, pm, {**params, "seed": seed}, model=model, time_limit_seconds=limit)
    except EngineError as exc:
        if exc.code == "time_limit":
            raise EntryFaultError(TIME_LIMIT_MESSAGE.format(limit=limit, input=label)) from exc
        raise EntryFaultError(GENERATE_FAILED_MESSAGE.format(input=label, detail=exc.message)) from exc
    SubmissionOutput.objects.create(  # stored under a random name (submissions.models)
        submission=submission, input_name=melody.name,
        midi=ContentFile(midi_to_bytes(result.midi), name="output.mid"), seconds=result.seconds,
    )


def _generate_all(submission: Submission) -> None:
    melodies = list(submission.challenge.input_melodies.order_by("name"))
    if not melodies:
        raise PlatformFaultError(NO_INPUTS_MESSAGE)
    inputs = _load_inputs(melodies)
    model, architecture = _load_model(submission)
    params, seed = _params(submission, architecture)
    _speed_check(submission=submission, model=model, architecture=architecture, params=params, seed=seed,
                 longest_bars=max(bars for _melody, _pm, bars in inputs))
    for old in submission.outputs.all():  # a redelivered task starts the outputs again
        old.midi.delete(save=False)
        old.delete()
    for index, (melody, pm, _bars) in enumerate(inputs, start=1):
        _generate_one(submission=submission, model=model, architecture=architecture, melody=melody, pm=pm,
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
