"""The score formulas of DESIGN section 5, on plain numbers (no Django, no torch)."""

from __future__ import annotations

import math

# A reference set whose pieces all agree on a metric (std 0, e.g. one file) would make closeness a step function;
# the std used is at least this share of |mean| (and at least MIN_STD_ABSOLUTE).
MIN_STD_RELATIVE = 0.05
MIN_STD_ABSOLUTE = 1e-3

BAD_WEIGHTS = "The challenge's scoring weights must be non-negative and not both zero (style {style}, realness {real})."


def effective_std(mean: float, std: float) -> float:
    return max(float(std), MIN_STD_RELATIVE * abs(float(mean)), MIN_STD_ABSOLUTE)


def closeness(value: float, mean: float, std: float) -> float:
    """c = exp(-0.5 * ((x - mean) / std)^2), in [0, 1]; 1 at the reference mean."""
    z = (float(value) - float(mean)) / effective_std(mean, std)
    return math.exp(-0.5 * z * z)


def style_score(closenesses: dict[str, float], metrics: list[str]) -> float:
    """Mean closeness over the challenge's chosen metrics."""
    return sum(closenesses[m] for m in metrics) / len(metrics)


def automatic_score(style: float, realness: float, weight_style: float, weight_realness: float) -> float:
    """100 * (w_style * style + w_real * realness) / (w_style + w_real), in [0, 100]."""
    if weight_style < 0 or weight_realness < 0 or weight_style + weight_realness <= 0:
        raise ValueError(BAD_WEIGHTS.format(style=weight_style, real=weight_realness))
    return 100.0 * (weight_style * style + weight_realness * realness) / (weight_style + weight_realness)


def copy_penalized(unpenalized: float, copy_penalty: float) -> float:
    """The automatic score after the copy penalty (1 - the copied share of the notes; 1 when not flagged)."""
    return float(unpenalized) * min(1.0, max(0.0, float(copy_penalty)))
