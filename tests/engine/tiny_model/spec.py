"""A tiny model package registered by tests (a few hundred parameters), laid out as every engine model is: this
torch-free spec, ``model.py``, ``sampler.py`` and ``train.py`` beside it. It exercises the registry, checkpoints, the
pipeline and the generate/train commands without depending on the real models."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from generation.engine.errors import CheckpointError
from generation.engine.models.arcnn.spec import PARAMS as ARCNN_PARAMS

ARCHITECTURE = NAME = "tiny"
DESCRIPTION = "test model: adds one note per bar to the melody"
IS_GENERATOR = True
EDITS = "melody"
PARAMS = ARCNN_PARAMS  # the AR-CNN's parameter names and ranges
SPEC_MODULE = __name__


@dataclass(frozen=True)
class TinyConfig:
    width: int = 4  # hidden units: tiny on purpose


CONFIG_BOUNDS = {"width": (1, 64)}


def config_from_dict(raw: dict) -> TinyConfig:
    unknown = sorted(set(raw) - {f.name for f in fields(TinyConfig)})
    if unknown:
        raise CheckpointError("bad_config", f"tiny config has unknown field(s): {', '.join(unknown)}")
    values = {**asdict(TinyConfig()), **raw}
    for name, (low, high) in CONFIG_BOUNDS.items():
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise CheckpointError("bad_config", f"tiny config field {name} must be in {low}..{high}, found {value!r}")
    return TinyConfig(**values)


def config_to_dict(config: TinyConfig) -> dict:
    return asdict(config)


def n_parameters(config: TinyConfig) -> int:
    return 128 * config.width * 2 + config.width


def tensor_specs(config: TinyConfig) -> dict[str, tuple[tuple[int, ...], str]]:
    return {
        "proj.weight": ((config.width, 128), "float32"),
        "proj.bias": ((config.width,), "float32"),
        "out.weight": ((128, config.width), "float32"),
        "trained_steps": ((), "int64"),
    }
