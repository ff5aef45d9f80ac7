"""Cross-field rules of a challenge, with one message per field (the admin form and the YAML bundle use them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chartbusters.challenges.models import ALL_METRICS

CLOSES_BEFORE_OPENS = "The challenge must close after it opens."
JUDGING_BEFORE_CLOSE = "Judging must end after the challenge closes."
QUOTA_BELOW_ONE = "The quota must be at least 1."
WEIGHT_NEGATIVE = "A weight cannot be negative."
WEIGHTS_ALL_ZERO = "At least one of the style and realness weights must be above zero."
ALPHA_OUT_OF_RANGE = "Alpha (the judges' share of the final score) must be between 0 and 1."
METRICS_NOT_A_LIST = "Metrics must be a list of metric names."
METRICS_EMPTY = "Choose at least one metric when the style weight is above zero."
UNKNOWN_METRIC = "Unknown metric {name!r}; choose from: {choices}."
TIME_LIMIT_BELOW_ONE = "The generation time limit must be at least 1 second."
GENERATION_PARAMS_NOT_A_MAPPING = (
    'Generation parameters are keyed by architecture, e.g. {"arcnn": {"iterations": 60}, "gan": {"seed": 1}}.'
)
UNKNOWN_ARCHITECTURE = "Unknown architecture {name!r} in the generation parameters; architectures: {choices}."
ARCHITECTURE_PARAMS_NOT_A_MAPPING = "The generation parameters of {name} must be a mapping of its parameters to values."


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def challenge_field_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Check the rules on whatever fields ``values`` holds; returns {field: [messages]} (empty when valid).

    Values of the wrong type are left to the model fields' own validation.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    opens, closes, judging = values.get("opens_at"), values.get("closes_at"), values.get("judging_ends_at")
    if opens is not None and closes is not None and closes <= opens:
        add("closes_at", CLOSES_BEFORE_OPENS)
    if closes is not None and judging is not None and judging <= closes:
        add("judging_ends_at", JUDGING_BEFORE_CLOSE)
    for field in ("daily_quota", "total_quota"):
        quota = _number(values.get(field))
        if quota is not None and quota < 1:
            add(field, QUOTA_BELOW_ONE)
    weights = {f: _number(values.get(f)) for f in ("weight_style", "weight_realness")}
    for field, weight in weights.items():
        if weight is not None and weight < 0:
            add(field, WEIGHT_NEGATIVE)
    if all(w is not None for w in weights.values()) and all(w == 0 for w in weights.values()):
        add("weight_style", WEIGHTS_ALL_ZERO)
    alpha = _number(values.get("alpha"))
    if alpha is not None and not 0.0 <= alpha <= 1.0:
        add("alpha", ALPHA_OUT_OF_RANGE)
    if "metrics" in values:
        _check_metrics(values["metrics"], weights["weight_style"], add)
    limit = _number(values.get("generation_time_limit_seconds"))
    if limit is not None and limit < 1:
        add("generation_time_limit_seconds", TIME_LIMIT_BELOW_ONE)
    if values.get("generation_params") is not None:
        for message in generation_params_errors(values["generation_params"]):
            add("generation_params", message)
    return errors


def generation_params_errors(params: Any) -> list[str]:
    """Melody Harvest's parameters, one mapping per architecture, each checked against that model's own parameters
    (its spec's PARAMS: an unknown name is refused with the model's list, a value out of range with its range)."""
    from generation.engine.errors import ParamError
    from generation.engine.params import validate_params
    from generation.engine.registry import generator_names, get_generator_spec

    if not isinstance(params, Mapping):
        return [GENERATION_PARAMS_NOT_A_MAPPING]
    messages = []
    for name, values in params.items():
        if name not in generator_names():
            messages.append(UNKNOWN_ARCHITECTURE.format(name=name, choices=", ".join(generator_names())))
        elif not isinstance(values, Mapping):
            messages.append(ARCHITECTURE_PARAMS_NOT_A_MAPPING.format(name=name))
        else:
            try:
                validate_params(get_generator_spec(name).PARAMS, dict(values), model=name)
            except ParamError as exc:
                messages.append(exc.message)
    return messages


def _check_metrics(metrics: Any, weight_style: float | None, add) -> None:
    if not isinstance(metrics, list | tuple) or not all(isinstance(m, str) for m in metrics):
        add("metrics", METRICS_NOT_A_LIST)
        return
    for name in metrics:
        if name not in ALL_METRICS:
            add("metrics", UNKNOWN_METRIC.format(name=name, choices=", ".join(ALL_METRICS)))
    if not metrics and (weight_style is None or weight_style > 0):
        add("metrics", METRICS_EMPTY)
