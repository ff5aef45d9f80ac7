"""Cross-field rules of a challenge, with one message per field (the admin form and the YAML bundle use them); the
metrics-and-weights rule is chartbusters.metric_names.scoring_choice_errors, the one scoring asks too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chartbusters.metric_names import NOT_GIVEN, number_or_none, scoring_choice_errors

CLOSES_BEFORE_OPENS = "The challenge must close after it opens."
JUDGING_BEFORE_CLOSE = "Judging must end after the challenge closes."
QUOTA_BELOW_ONE = "The quota must be at least 1."
ALPHA_OUT_OF_RANGE = "Alpha (the judges' share of the final score) must be between 0 and 1."
TIME_LIMIT_BELOW_ONE = "The generation time limit must be at least 1 second."
GENERATION_PARAMS_NOT_A_MAPPING = (
    'Generation parameters are keyed by architecture, e.g. {"arcnn": {"iterations": 60}, "gan": {"seed": 1}}.'
)
UNKNOWN_ARCHITECTURE = "Unknown architecture {name!r} in the generation parameters; architectures: {choices}."
ARCHITECTURE_PARAMS_NOT_A_MAPPING = "The generation parameters of {name} must be a mapping of its parameters to values."


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
        quota = number_or_none(values.get(field))
        if quota is not None and quota < 1:
            add(field, QUOTA_BELOW_ONE)
    for field, messages in scoring_choice_errors(
            metrics=values.get("metrics", NOT_GIVEN), weight_style=values.get("weight_style"),
            weight_realness=values.get("weight_realness")).items():
        for message in messages:
            add(field, message)
    alpha = number_or_none(values.get("alpha"))
    if alpha is not None and not 0.0 <= alpha <= 1.0:
        add("alpha", ALPHA_OUT_OF_RANGE)
    limit = number_or_none(values.get("generation_time_limit_seconds"))
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

