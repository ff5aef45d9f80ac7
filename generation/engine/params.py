"""User-facing generation parameters (docs/design.md §4): the parameter kinds, the shared seed, validation. No torch,
no Django. Each generator lists its own parameters as ``PARAMS`` in its spec module (models/<name>/spec.py).

The same specs serve the CLI (``--param NAME=VALUE``: strings) and the API (``params`` JSON: numbers or strings).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from generation.engine.errors import ParamError

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
        if self.integer:  # whole numbers in full: the seed's 0-4294967295, not 0-4.29497e+09
            return f"{int(self.low)}-{int(self.high)}"
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

def validate_params(specs: Iterable[Spec], raw: dict[str, Any] | None, *, model: str) -> dict[str, Any]:
    """Cast and range-check ``raw`` against a model's ``specs`` (its spec module's PARAMS); fill defaults (``seed``
    defaults to None = random). Raises ParamError naming the parameter and its range."""
    by_name = {spec.name: spec for spec in specs}
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(by_name))
    if unknown:
        known = ", ".join(by_name)
        raise ParamError("unknown_param", UNKNOWN_PARAM_MESSAGE.format(name=unknown[0], model=model, known=known))
    out: dict[str, Any] = {}
    for name, spec in by_name.items():
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


def describe_params(specs: Iterable[Spec]) -> list[dict[str, Any]]:
    """JSON-able description for forms and API docs: name, range, default, help."""
    rows = []
    for spec in specs:
        default = list(spec.default) if isinstance(spec, ProgramsParam) else spec.default
        rows.append({"name": spec.name, "range": spec.range_text, "default": default, "help": spec.help})
    return rows


# ----------------------------------------------------------------------------------------------- training params
# The hyperparameters a model exposes to its users' training runs (``TRAIN_PARAMS`` in its spec; the studio's Train
# page and POST /api/trainings/ show and check them). One builder, so every model names and explains them alike.
START_SHIPPED, START_SCRATCH = "shipped", "scratch"
SCRATCH_ONLY_MESSAGE = (
    "Parameter '{name}' applies only when start is 'scratch': a model fine-tuned from the shipped one keeps its size."
)


def training_params(*, steps: tuple[int, int, int], learning_rate: tuple[float, float, float],
                    batch_size: tuple[int, int, int], model_size: tuple[int, int, int, str],
                    can_fine_tune: bool, step_text: str = "optimizer updates") -> tuple[Spec, ...]:
    """(low, high, default) for steps, learning rate and batch size; (low, high, default, what it counts) for the
    model size; ``can_fine_tune``: a ``start`` choice (shipped = fine-tune the shipped model on your music)."""
    specs: list[Spec] = [
        NumberParam("steps", *steps, True,
                    f"{step_text}: more learns more and takes longer; the run stops at the platform's time limit "
                    "and keeps its best weights"),
        NumberParam("learning_rate", *learning_rate, False,
                    "how big each update is: too high and the loss jumps or rises, too low and it barely falls"),
        NumberParam("batch_size", *batch_size, True,
                    "training windows per update: larger is smoother but slower per step"),
    ]
    if can_fine_tune:
        specs.append(ChoiceParam("start", (START_SHIPPED, START_SCRATCH), START_SHIPPED,
                                 "shipped: fine-tune the shipped model on your music (fast, keeps what it knows of "
                                 "Bach); scratch: a new model that learns only from your music"))
    low, high, default, counts = model_size
    specs.append(NumberParam("model_size", low, high, None if can_fine_tune else default, True,
                             f"{counts} (default {default}): bigger can learn more but trains and plays slower"
                             + ("; from scratch only" if can_fine_tune else "")))
    specs.append(NumberParam("seed", 0, SEED_MAX, 0, True, "random seed of the run: the same seed and data give the "
                                                          "same model on the same machine"))
    return tuple(specs)


def validate_train_params(specs: Iterable[Spec], raw: dict[str, Any] | None, *, model: str) -> dict[str, Any]:
    """validate_params for TRAIN_PARAMS, plus the one rule between them: ``model_size`` only from scratch."""
    values = validate_params(specs, raw, model=model)
    if values.get("start") == START_SHIPPED and values.get("model_size") is not None:
        raise ParamError("param_conflict", SCRATCH_ONLY_MESSAGE.format(name="model_size"))
    return values
