"""The one generation path: `manage.py generate`, Melody Harvest entries and the studio all call ``generate``.

One run: find the model in the registry, validate the parameters against its spec, load the model (a given one, a
checkpoint folder, or the shipped checkpoint kept once per process), run its sampler under the time limit, then
restore what the model must not change: the input's tempo, time signature and key signature, and every track the
model does not edit (spec ``EDITS``: ``"melody"``, the first pitched track; ``"all"``: the model may change every
track; or ``"none"``: input tracks are kept and the model only adds tracks). A model that continues (spec
``CONTINUES``) gets the input cut at its last sounding note: text and lyric events after it are dropped, and the
result's ``adjustments`` says so. Samplers are called from here only (a test holds that).
"""

from __future__ import annotations

import copy
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pretty_midi

from generation.engine import registry
from generation.engine.errors import GenerationTimeoutError
from generation.engine.loading import load_checkpoint, load_default_model
from generation.engine.midi_io import cut_at_last_note, first_tempo, melody_track
from generation.engine.params import SEED_MAX, describe_params, validate_params

TIME_LIMIT_MESSAGE = "Generation took longer than the limit of {limit:g} s (stopped after {elapsed:.1f} s)."


@dataclass
class GenerationResult:
    midi: pretty_midi.PrettyMIDI
    params: dict[str, Any]  # validated, defaults filled
    seed: int  # the seed used (drawn at random when none was given, so the run can be repeated)
    seconds: float  # wall time of the sampler
    adjustments: list[str] = field(default_factory=list)  # what was changed in the input before the model ran


def model_params(model_name: str, raw: dict[str, Any] | None) -> dict[str, Any]:
    """A generator's parameters validated against its spec (defaults filled; ParamError names the problem)."""
    spec = registry.get_generator_spec(model_name)
    return validate_params(spec.PARAMS, raw, model=model_name)


def describe_model(model_name: str) -> dict[str, Any]:
    """What a form or the API shows about a generator: name, one-line description, parameters with ranges/defaults."""
    spec = registry.get_generator_spec(model_name)
    return {"name": model_name, "description": spec.DESCRIPTION, "params": describe_params(spec.PARAMS)}


def checkpoint_variant(spec: Any, params: dict[str, Any]) -> str | None:
    """Which shipped checkpoint of a model the parameters ask for: a spec's ``VARIANT_PARAM`` (the GAN's ``style``)
    names it; its default value (and a model without one) is the model's default checkpoint (None)."""
    name = getattr(spec, "VARIANT_PARAM", None)
    if name is None:
        return None
    default = next(p.default for p in spec.PARAMS if p.name == name)
    return None if params.get(name, default) == default else params[name]


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block with GenerationTimeoutError after ``seconds`` (SIGALRM, in the main thread, as a Celery
    prefork worker and the command run it). Elsewhere, ``generate`` checks the elapsed time afterwards."""
    if seconds is None or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield
        return

    def _raise(signum, frame):
        raise GenerationTimeoutError("time_limit", "")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _with_tempo_of(source: pretty_midi.PrettyMIDI, out: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """``out`` at the input's tempo: a sampler that built a new file at another tempo is re-timed (notes are in
    seconds, so the music sounds the same; the written tempo and bar lines follow the input)."""
    if abs(first_tempo(out) - first_tempo(source)) < 1e-6:
        return out
    fixed = pretty_midi.PrettyMIDI(resolution=source.resolution, initial_tempo=first_tempo(source))
    fixed.instruments = out.instruments
    fixed.lyrics, fixed.text_events = out.lyrics, out.text_events
    fixed.time_signature_changes, fixed.key_signature_changes = out.time_signature_changes, out.key_signature_changes
    return fixed


def restore(source: pretty_midi.PrettyMIDI, out: pretty_midi.PrettyMIDI, edits: str) -> pretty_midi.PrettyMIDI:
    """The input's tempo, meter, key and untouched tracks in the model's output (see the module's docstring)."""
    out = _with_tempo_of(source, out)
    if source.time_signature_changes and not out.time_signature_changes:
        out.time_signature_changes = copy.deepcopy(source.time_signature_changes)
    if source.key_signature_changes and not out.key_signature_changes:
        out.key_signature_changes = copy.deepcopy(source.key_signature_changes)
    edited = ({melody_track(source)} if edits == "melody" else set(range(len(source.instruments))) if edits == "all"
              else set())
    for i, instrument in enumerate(source.instruments):
        if i in edited:
            continue
        if i < len(out.instruments):
            out.instruments[i] = copy.deepcopy(instrument)
        else:
            out.instruments.append(copy.deepcopy(instrument))
    return out


def generate(
    model_name: str,
    pm: pretty_midi.PrettyMIDI,
    raw_params: dict[str, Any] | None = None,
    *,
    model: Any = None,
    checkpoint: str | Path | None = None,
    device: str = "cpu",
    time_limit_seconds: float | None = None,
) -> GenerationResult:
    """Run ``model_name`` on ``pm``: ``model`` (already loaded), else ``checkpoint`` (a folder or weights file),
    else the shipped checkpoint. Raises EngineError subclasses (ParamError, CheckpointError,
    ArchitectureUnavailableError, MidiValidationError, GenerationTimeoutError) with a message a user can act on."""
    spec = registry.get_generator_spec(model_name)
    params = validate_params(spec.PARAMS, raw_params, model=model_name)
    seed = params["seed"] if params.get("seed") is not None else secrets.randbelow(SEED_MAX + 1)
    params["seed"] = seed
    if model is None and checkpoint is not None:
        model, _meta = load_checkpoint(checkpoint, architecture=model_name, device=device)
    elif model is None:
        model, _meta = load_default_model(model_name, device=device, variant=checkpoint_variant(spec, params))
    sampler = registry.get_part(model_name, "sampler")
    if not getattr(spec, "WRITES_WITHOUT_INPUT", False):
        melody_track(pm)  # an input with nothing to work on is refused before the model runs
    adjustments: list[str] = []
    if getattr(spec, "CONTINUES", False):
        pm, adjustments = cut_at_last_note(pm)
    started = time.perf_counter()
    try:
        with time_limit(time_limit_seconds):
            out = sampler.generate(model, copy.deepcopy(pm), params, seed)
    except GenerationTimeoutError as exc:
        elapsed = time.perf_counter() - started
        raise GenerationTimeoutError(
            "time_limit", TIME_LIMIT_MESSAGE.format(limit=time_limit_seconds, elapsed=elapsed)
        ) from exc
    elapsed = time.perf_counter() - started
    if time_limit_seconds is not None and elapsed > time_limit_seconds:
        raise GenerationTimeoutError("time_limit", TIME_LIMIT_MESSAGE.format(limit=time_limit_seconds,
                                                                             elapsed=elapsed))
    return GenerationResult(midi=restore(pm, out, spec.EDITS), params=params, seed=seed, seconds=elapsed,
                            adjustments=adjustments)
