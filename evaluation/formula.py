"""The score formulas of docs/design.md section 5, on plain numbers (no Django, no torch): each rule has its one
home here -- closeness, the style score, the automatic score, the copy penalty, the rubric and the judge score of a
review, the final score, the audience points. Which metrics and weights a challenge may choose is
chartbusters.metric_names.scoring_choice_errors (challenge validation and scoring both ask it)."""

from __future__ import annotations

import math

from chartbusters.metric_names import scoring_choice_errors

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
    """Mean closeness over the challenge's chosen metrics; 0 when it chooses none (a realness-only challenge, whose
    style weight is 0)."""
    return sum(closenesses[m] for m in metrics) / len(metrics) if metrics else 0.0


def automatic_score(style: float, realness: float, weight_style: float, weight_realness: float) -> float:
    """100 * (w_style * style + w_real * realness) / (w_style + w_real), in [0, 100]."""
    if scoring_choice_errors(weight_style=weight_style, weight_realness=weight_realness):
        raise ValueError(BAD_WEIGHTS.format(style=weight_style, real=weight_realness))
    return 100.0 * (weight_style * style + weight_realness * realness) / (weight_style + weight_realness)


RUBRIC = ("originality", "balance", "emotion")  # each marked 1-5 by a judge
RUBRIC_MIN, RUBRIC_MAX = 1, 5


def mark_score(marks: dict) -> float:
    """The judge score of one review: 20 x the mean of its rubric marks (1-5), so 20-100."""
    return 20.0 * sum(marks[name] for name in RUBRIC) / len(RUBRIC)


def copy_penalized(unpenalized: float, copy_penalty: float) -> float:
    """The automatic score after the copy penalty (1 - the copied share of the notes; 1 when not flagged)."""
    return float(unpenalized) * min(1.0, max(0.0, float(copy_penalty)))


# ------------------------------------------------------------------------------------- the final score (issue 26)
BAD_SHARES = ("The judges' share (alpha {alpha}) and the audience's share (beta {beta}) must be in [0, 1] "
              "with a sum of at most 1.")


def final_score(*, automatic: float, judge: float | None, audience: float | None, alpha: float,
                beta: float = 0.0) -> float:
    """The one final-score formula (docs/design.md section 5, docs/judging.md):

        final = ((1 - alpha - beta) * automatic + alpha * judge + beta * audience) / (the weights of the parts given)

    ``judge``: the mean judge score (None until the results are published); ``audience``: the audience rating from
    listening in pairs, 0-100 (None when the entry has no comparisons yet or beta is 0). A missing part drops out
    and the others are re-weighted, so with beta = 0 this is the design's (1-alpha) * automatic + alpha * judge, and the
    automatic score until judged. Monotone in every part: applied to the ends of the parts' intervals it gives the
    final score's interval."""
    if not (0.0 <= alpha <= 1.0 and 0.0 <= beta <= 1.0 and alpha + beta <= 1.0 + 1e-9):
        raise ValueError(BAD_SHARES.format(alpha=alpha, beta=beta))
    parts = [(max(0.0, 1.0 - alpha - beta), automatic)]
    if judge is not None:
        parts.append((alpha, judge))
    if audience is not None and beta > 0:
        parts.append((beta, audience))
    weight = sum(w for w, _ in parts)
    if weight <= 0:  # alpha = 1 (judges only) before judging, or beta = 1 before any vote: the automatic score
        return float(automatic)
    return sum(w * float(x) for w, x in parts) / weight


def audience_points(strength: float) -> float:
    """An audience strength (Bradley-Terry log-strength, centred on the challenge's mean) on the 0-100 scale: 100 x
    the chance of being preferred to an entry of average strength (ties aside): 50 is average."""
    return 100.0 / (1.0 + math.exp(-float(strength)))
