"""Validation of an architecture's config from untrusted JSON (a checkpoint's config.json), without torch.

Every architecture declares its config dataclass and the inclusive bounds of each field; this module checks a raw
dict against them the same way for all: unknown fields, wrong types and out-of-bounds values raise CheckpointError
with a message naming the field, the allowed range and the value found. Cross-field rules stay with the spec.

It also holds the one limit on a checkpoint's config.json, shared by the upload and ``check_checkpoint``:
``MAX_CONFIG_BYTES`` and ``MAX_CONFIG_DEPTH``, checked by ``config_json_loads`` before the JSON is parsed (a config
nested 10,000 deep never reaches the recursive parser).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, fields
from typing import Any

from generation.engine.errors import CheckpointError

MAX_CONFIG_BYTES = 64 * 1024  # a real config.json is ~1 KB (architecture, config, trained_on, metrics)
MAX_CONFIG_DEPTH = 16  # objects and arrays inside one another; a real one has 3 levels

CONFIG_TOO_LARGE_MESSAGE = "The checkpoint config is {found:,} bytes; the limit is {limit:,} bytes (64 KiB)."
CONFIG_TOO_DEEP_MESSAGE = "The checkpoint config nests objects or arrays {found} deep; the limit is {limit}."
CONFIG_NOT_JSON_MESSAGE = "The checkpoint config is not valid JSON ({detail})."
CONFIG_NOT_OBJECT_MESSAGE = (
    'The checkpoint config must be a JSON object {{"architecture": ..., "config": {{...}}}}, found {found}.'
)
_JSON_TYPE_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false",
                    type(None): "null"}


def config_too_large(size: int) -> CheckpointError:
    return CheckpointError("too_large", CONFIG_TOO_LARGE_MESSAGE.format(found=size, limit=MAX_CONFIG_BYTES))


def _json_depth(text: str) -> int:
    """How deep objects and arrays nest in ``text`` (brackets inside strings do not count), without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def config_json_loads(raw: bytes | str) -> dict:
    """A checkpoint's config.json as a dict, within MAX_CONFIG_BYTES and MAX_CONFIG_DEPTH; raises CheckpointError
    (``too_large``, or ``bad_config`` naming what is wrong) for anything else, whatever its size or nesting."""
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    if len(data) > MAX_CONFIG_BYTES:
        raise config_too_large(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CheckpointError("bad_config", CONFIG_NOT_JSON_MESSAGE.format(detail=f"not UTF-8: {exc.reason}")) from exc
    depth = _json_depth(text)
    if depth > MAX_CONFIG_DEPTH:
        raise CheckpointError("bad_config", CONFIG_TOO_DEEP_MESSAGE.format(found=f"{depth:,}", limit=MAX_CONFIG_DEPTH))
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CheckpointError("bad_config", CONFIG_NOT_JSON_MESSAGE.format(detail=str(exc)[:200])) from exc
    if not isinstance(config, dict):
        found = _JSON_TYPE_NAMES.get(type(config), type(config).__name__)
        raise CheckpointError("bad_config", CONFIG_NOT_OBJECT_MESSAGE.format(found=found))
    return config


def config_dict_check(config: Any) -> dict:
    """The same limits for a config that is already a dict (depth walked without recursion, then its size)."""
    if not isinstance(config, dict):
        found = _JSON_TYPE_NAMES.get(type(config), type(config).__name__)
        raise CheckpointError("bad_config", CONFIG_NOT_OBJECT_MESSAGE.format(found=found))
    stack = [(config, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise CheckpointError("bad_config", CONFIG_TOO_DEEP_MESSAGE.format(found=f"more than {MAX_CONFIG_DEPTH}",
                                                                               limit=MAX_CONFIG_DEPTH))
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    try:
        size = len(json.dumps(config).encode())
    except (TypeError, ValueError) as exc:
        raise CheckpointError("bad_config", CONFIG_NOT_JSON_MESSAGE.format(detail=exc)) from exc
    if size > MAX_CONFIG_BYTES:
        raise config_too_large(size)
    return config


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


def parameter_count(specs: dict[str, tuple[tuple[int, ...], str]], *, buffers: tuple[str, ...] = ()) -> int:
    """Elements over a spec's tensors (``tensor_specs``), leaving out buffers whose names end with ``buffers``: a
    model's trainable parameter count, computed without torch."""
    return sum(math.prod(shape) for name, (shape, _dtype) in specs.items() if not name.endswith(buffers))
