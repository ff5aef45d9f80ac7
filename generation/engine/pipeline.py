"""One generation run, as the `generate` command and the workers do it (torch only through the registry's lazy
functions): validate parameters, load the model (a custom checkpoint, or the shipped one once per process), generate,
and keep the input's time signature."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pretty_midi

from generation.engine.checkpoint import load_checkpoint
from generation.engine.midi_io import first_time_signature
from generation.engine.params import SEED_MAX, validate_params
from generation.engine.registry import get_generator, load_default_model


@dataclass
class GenerationResult:
    midi: pretty_midi.PrettyMIDI
    params: dict[str, Any]  # validated, defaults filled
    seed: int  # the seed used (drawn at random when none was given, so the run can be repeated)


def generate_midi(
    model_name: str,
    pm: pretty_midi.PrettyMIDI,
    raw_params: dict[str, Any] | None = None,
    *,
    checkpoint: str | Path | None = None,
    device: str = "cpu",
) -> GenerationResult:
    """Raises EngineError subclasses (ParamError, CheckpointError, ArchitectureUnavailableError) on bad requests."""
    arch = get_generator(model_name)
    params = validate_params(model_name, raw_params)
    seed = params["seed"] if params.get("seed") is not None else secrets.randbelow(SEED_MAX + 1)
    params["seed"] = seed
    if checkpoint is not None:
        model, _meta = load_checkpoint(checkpoint, architecture=model_name, device=device)
    else:
        model, _meta = load_default_model(model_name, device=device)
    out = arch.generate(model, pm, params, seed)
    if pm.time_signature_changes and not out.time_signature_changes:
        num, den = first_time_signature(pm)
        out.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
    return GenerationResult(midi=out, params=params, seed=seed)
