"""The muspy metrics a challenge's style score may use, and the one rule on a challenge's metrics and weights
(docs/design.md section 5). Plain Python: no Django, no muspy."""

METRIC_NAMES: tuple[str, ...] = (
    "pitch_range",
    "n_pitches_used",
    "n_pitch_classes_used",
    "polyphony",
    "polyphony_rate",
    "pitch_in_scale_rate",
    "scale_consistency",
    "pitch_entropy",
    "pitch_class_entropy",
    "empty_beat_rate",
    "groove_consistency",
    "empty_measure_rate",
    "outer_voice_step_rate",  # not muspy's: evaluation.metrics.outer_voice_step_rate (Judge III)
)

WEIGHT_NEGATIVE = "A weight cannot be negative."
WEIGHTS_ALL_ZERO = "At least one of the style and realness weights must be above zero."
METRICS_NOT_A_LIST = "Metrics must be a list of metric names."
METRICS_EMPTY = "Choose at least one metric when the style weight is above zero."
UNKNOWN_METRIC = "Unknown metric {name!r}; choose from: {choices}."


def number_or_none(value) -> float | None:
    """A weight or setting as a float; None when it is not a number (left to the field's own validation)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


NOT_GIVEN = object()


def scoring_choice_errors(*, metrics=NOT_GIVEN, weight_style=None, weight_realness=None) -> dict[str, list[str]]:
    """The one rule on a challenge's style metrics and scoring weights: challenge validation (the admin form, the
    YAML bundle) and scoring both ask it. Weights are non-negative and not both zero; metrics a list of known names,
    which may be empty only when the style weight is zero (a realness-only challenge). Returns {field: [messages]},
    empty when the choice can be scored. A weight that is None (not given, or not a number) and metrics not given
    are not checked; empty metrics are refused unless the style weight is known to be zero."""
    errors: dict[str, list[str]] = {}
    weights = {"weight_style": number_or_none(weight_style), "weight_realness": number_or_none(weight_realness)}
    for field, weight in weights.items():
        if weight is not None and weight < 0:
            errors.setdefault(field, []).append(WEIGHT_NEGATIVE)
    if all(w is not None for w in weights.values()) and all(w == 0 for w in weights.values()):
        errors.setdefault("weight_style", []).append(WEIGHTS_ALL_ZERO)
    if metrics is NOT_GIVEN:
        return errors
    if not isinstance(metrics, list | tuple) or not all(isinstance(m, str) for m in metrics):
        errors["metrics"] = [METRICS_NOT_A_LIST]
        return errors
    problems = [UNKNOWN_METRIC.format(name=name, choices=", ".join(METRIC_NAMES))
                for name in metrics if name not in METRIC_NAMES]
    if not metrics and weights["weight_style"] != 0:
        problems.append(METRICS_EMPTY)
    if problems:
        errors["metrics"] = problems
    return errors
