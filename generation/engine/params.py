"""User-facing generation parameters (DESIGN section 4): names, ranges, defaults, validation. No torch, no Django.

The same specs serve the CLI (``--param NAME=VALUE``: strings) and the API (``params`` JSON: numbers or strings).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from generation.engine.errors import ParamError

UNKNOWN_MODEL_MESSAGE = "Unknown model '{model}'; known models: {known}."
UNKNOWN_PARAM_MESSAGE = "Unknown parameter '{name}' for {model}; known parameters: {known}."
OUT_OF_RANGE_MESSAGE = "Parameter '{name}' must be between {low} and {high}; got {value}."
BAD_VALUE_MESSAGE = "Parameter '{name}' must be {kind}; got {value!r}."
BAD_ARG_MESSAGE = "Parameters are written NAME=VALUE; got {arg!r}."
SEED_MAX = 2**32 - 1


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class NumberParam:
    name: str
    low: float
    high: float
    default: float | int | None
    integer: bool
    help: str

    @property
    def range_text(self) -> str:
        return f"{_fmt(self.low)}-{_fmt(self.high)}"

    def cast(self, value: Any) -> float | int:
        kind = "a whole number" if self.integer else "a number"
        if isinstance(value, bool) or value is None:
            raise ParamError("bad_param_value", BAD_VALUE_MESSAGE.format(name=self.name, kind=kind, value=value))
        try:
            number = float(value.strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise ParamError(
                "bad_param_value", BAD_VALUE_MESSAGE.format(name=self.name, kind=kind, value=value)
            ) from None
        if not math.isfinite(number) or (self.integer and number != int(number)):
            raise ParamError("bad_param_value", BAD_VALUE_MESSAGE.format(name=self.name, kind=kind, value=value))
        if not self.low <= number <= self.high:
            raise ParamError(
                "param_out_of_range",
                OUT_OF_RANGE_MESSAGE.format(name=self.name, low=_fmt(self.low), high=_fmt(self.high),
                                            value=_fmt(number)),
            )
        return int(number) if self.integer else number


@dataclass(frozen=True)
class ChoiceParam:
    name: str
    choices: tuple[str, ...]
    default: str
    help: str

    @property
    def range_text(self) -> str:
        return " | ".join(self.choices)

    def cast(self, value: Any) -> str:
        if not isinstance(value, str) or value.strip() not in self.choices:
            kind = "one of " + ", ".join(self.choices)
            raise ParamError("bad_param_value", BAD_VALUE_MESSAGE.format(name=self.name, kind=kind, value=value))
        return value.strip()


@dataclass(frozen=True)
class ProgramsParam:
    """A fixed number of General MIDI program numbers (0-127), as "0,40,32" or a JSON list."""

    name: str
    count: int
    default: tuple[int, ...]
    help: str

    @property
    def range_text(self) -> str:
        return f"{self.count} General MIDI program numbers, each 0-127"

    def cast(self, value: Any) -> list[int]:
        kind = f"{self.count} program numbers separated by commas"
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or len(items) != self.count:
            raise ParamError("bad_param_value", BAD_VALUE_MESSAGE.format(name=self.name, kind=kind, value=value))
        one = NumberParam(self.name, 0, 127, None, True, self.help)
        return [int(one.cast(item)) for item in items]


Spec = NumberParam | ChoiceParam | ProgramsParam

SEED = NumberParam("seed", 0, SEED_MAX, None, True, "random seed; the same seed and input give the same output")

PARAM_SPECS: dict[str, dict[str, Spec]] = {
    "arcnn": {
        s.name: s
        for s in (
            NumberParam("max_remove_pct", 0, 100, 100, True, "most of the input's notes (%) the model may remove"),
            NumberParam("max_add", 50, 1000, 500, True, "most notes the model may add"),
            NumberParam("iterations", 0, 100, 100, True, "sampling iterations (one cell flipped per iteration)"),
            NumberParam("temperature", 0.5, 6, 1.0, False, "creative risk: higher = more surprising edits"),
            SEED,
        )
    },
    "gan": {
        s.name: s
        for s in (
            ProgramsParam("programs", 3, (0, 0, 0), "General MIDI programs of the alto, tenor and bass tracks"),
            SEED,
        )
    },
    "transformer": {
        s.name: s
        for s in (
            ChoiceParam("sampling", ("topk", "nucleus"), "nucleus", "top-k or nucleus sampling"),
            NumberParam("k", 1, 309, 40, True, "top-k: sample among the k most likely tokens"),
            NumberParam("p", 0, 1, 0.95, False, "nucleus: sample among the tokens holding probability p"),
            NumberParam("temperature", 0.5, 6, 0.95, False, "creative risk: higher = more surprising notes"),
            NumberParam("prompt_seconds", 0.1, 30, None, False, "seconds of the input used (default: all, at most 30)"),
            NumberParam("extension_seconds", 1, 30, 20, False, "seconds of music added after the input"),
            NumberParam("max_rest_seconds", 0.1, 10, 2, False, "longest silence allowed in the extension"),
            NumberParam("max_note_seconds", 0.1, 10, 3, False, "longest note allowed in the extension"),
            SEED,
        )
    },
}


def specs_for(model: str) -> dict[str, Spec]:
    try:
        return PARAM_SPECS[model]
    except KeyError:
        known = ", ".join(PARAM_SPECS)
        raise ParamError("unknown_model", UNKNOWN_MODEL_MESSAGE.format(model=model, known=known)) from None


def validate_params(model: str, raw: dict[str, Any] | None) -> dict[str, Any]:
    """Cast and range-check ``raw``; fill defaults (``seed`` defaults to None = random). Raises ParamError."""
    specs = specs_for(model)
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(specs))
    if unknown:
        known = ", ".join(specs)
        raise ParamError("unknown_param", UNKNOWN_PARAM_MESSAGE.format(name=unknown[0], model=model, known=known))
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in raw and raw[name] is not None and raw[name] != "":
            out[name] = spec.cast(raw[name])
        else:
            out[name] = list(spec.default) if isinstance(spec, ProgramsParam) else spec.default
    return out


def parse_param_args(args: Iterable[str] | None) -> dict[str, str]:
    """["NAME=VALUE", ...] -> {"NAME": "VALUE"}; values stay strings (validate_params casts them)."""
    out: dict[str, str] = {}
    for arg in args or ():
        name, sep, value = arg.partition("=")
        if not sep or not name.strip():
            raise ParamError("bad_param_value", BAD_ARG_MESSAGE.format(arg=arg))
        out[name.strip()] = value.strip()
    return out


def describe_params(model: str) -> list[dict[str, Any]]:
    """JSON-able description for forms and API docs: name, range, default, help."""
    rows = []
    for spec in specs_for(model).values():
        default = list(spec.default) if isinstance(spec, ProgramsParam) else spec.default
        rows.append({"name": spec.name, "range": spec.range_text, "default": default, "help": spec.help})
    return rows
