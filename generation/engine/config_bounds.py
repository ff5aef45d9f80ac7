"""Validation of an architecture's config from untrusted JSON (a checkpoint's config.json), without torch.

Every architecture declares its config dataclass and the inclusive bounds of each field; this module checks a raw
dict against them the same way for all: unknown fields, wrong types and out-of-bounds values raise CheckpointError
with a message naming the field, the allowed range and the value found. Cross-field rules stay with the spec.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from .errors import CheckpointError


def bounded_config_values(
    config_class: type,
    raw: Any,
    *,
    architecture: str,
    int_bounds: dict[str, tuple[int, int]],
    float_bounds: dict[str, tuple[float, float]] | None = None,
    bool_fields: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The defaults of ``config_class`` updated with ``raw``, every field checked; returns the validated values."""
    float_bounds = float_bounds or {}
    if not isinstance(raw, dict):
        raise CheckpointError("bad_config", f"{architecture} config must be a JSON object, found {type(raw).__name__}")
    unknown = sorted(set(raw) - {f.name for f in fields(config_class)})
    if unknown:
        raise CheckpointError("bad_config", f"{architecture} config has unknown field(s): {', '.join(unknown)}")
    values = asdict(config_class())
    values.update(raw)
    for name, value in values.items():
        where = f"{architecture} config field {name}"
        if name in bool_fields:
            if not isinstance(value, bool):
                raise CheckpointError("bad_config", f"{where} must be true or false, found {value!r}")
        elif name in float_bounds:
            low_f, high_f = float_bounds[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low_f <= value <= high_f:
                message = f"{where} must be a number in {low_f:g}..{high_f:g}, found {value!r}"
                raise CheckpointError("bad_config", message)
            values[name] = float(value)
        else:
            if isinstance(value, bool) or not isinstance(value, int):
                raise CheckpointError("bad_config", f"{where} must be an integer, found {value!r}")
            low, high = int_bounds[name]
            if not low <= value <= high:
                raise CheckpointError("bad_config", f"{where} must be in {low}..{high}, found {value}")
    return values
