"""The arithmetic of judging on hand numbers: judge scores, leniency adjustment, agreement, the final score."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluation.formula import mark_score
from evaluation.judging import OUTLIER_POINTS, agreement, krippendorff_alpha, standardize
from evaluation.services.score_store import final_score, judge_score


def test_a_review_scores_twenty_times_its_mean_mark():
    assert mark_score({"originality": 1, "balance": 1, "emotion": 1}) == 20.0
    assert mark_score({"originality": 5, "balance": 4, "emotion": 3}) == pytest.approx(80.0)


def test_final_score_mixes_automatic_and_the_mean_judge_score():
    judges = [{"originality": 5, "balance": 5, "emotion": 5}, {"originality": 3, "balance": 3, "emotion": 3}]
    assert judge_score(judges) == pytest.approx(80.0)  # (100 + 60) / 2
    assert final_score(automatic=50.0, judges=judges, alpha=0.25) == pytest.approx(0.75 * 50 + 0.25 * 80)
    assert final_score(automatic=50.0, judges=[], alpha=0.5) == 50.0  # not judged: the automatic score


def test_a_given_judge_score_replaces_the_raw_one():
    """Leniency-adjusted scores reach the formula through each judge's "score"."""
    judges = [{"originality": 5, "balance": 5, "emotion": 5, "score": 70.0},
              {"originality": 1, "balance": 1, "emotion": 1, "score": 30.0}]
    assert judge_score(judges) == pytest.approx(50.0)


def test_standardization_removes_a_judges_leniency():
    # Judge "easy" gives everything 20 points more than judge "hard"; both order the three entries alike.
    reviews = [("hard", "a", 40.0), ("hard", "b", 60.0), ("hard", "c", 80.0),
               ("easy", "a", 60.0), ("easy", "b", 80.0), ("easy", "c", 100.0)]
    adjusted = standardize(reviews)
    for entry in "abc":
        assert adjusted[("hard", entry)] == pytest.approx(adjusted[("easy", entry)])
    everything = [x for _, _, x in reviews]
    grand_mean = sum(everything) / 6  # 70
    grand_std = math.sqrt(sum((x - grand_mean) ** 2 for x in everything) / 6)
    own_std = math.sqrt(((40 - 60) ** 2 + 0 + (80 - 60) ** 2) / 3)
    # By hand: entry b is each judge's mean -> the grand mean; entry c is one own spread above.
    assert adjusted[("hard", "b")] == pytest.approx(grand_mean)
    assert adjusted[("hard", "c")] == pytest.approx(grand_mean + grand_std * 20 / own_std)


def test_standardization_edge_cases():
    # One review only: kept raw. All the same marks: the grand mean. Results stay within 0-100.
    single = standardize([("solo", "a", 40.0), ("other", "a", 80.0), ("other", "b", 20.0)])
    assert single[("solo", "a")] == 40.0
    flat = standardize([("flat", "a", 60.0), ("flat", "b", 60.0), ("x", "a", 20.0), ("x", "b", 100.0)])
    assert flat[("flat", "a")] == pytest.approx(60.0)  # grand mean of 60, 60, 20, 100
    wide = standardize([("w", "a", 20.0), ("w", "b", 100.0), ("n", "a", 99.0), ("n", "b", 100.0)])
    assert all(0.0 <= v <= 100.0 for v in wide.values())


def test_krippendorff_alpha_of_perfect_and_of_no_agreement():
    perfect = [(j, e, x) for j in ("a", "b", "c") for e, x in (("1", 20.0), ("2", 60.0), ("3", 100.0))]
    assert krippendorff_alpha(perfect) == pytest.approx(1.0)
    reversed_ = [("a", "1", 20.0), ("a", "2", 100.0), ("b", "1", 100.0), ("b", "2", 20.0)]
    assert krippendorff_alpha(reversed_) < 0
    assert krippendorff_alpha([("a", "1", 20.0), ("b", "2", 60.0)]) is None  # no entry with two scores


def test_krippendorff_alpha_matches_its_definition_on_hand_numbers():
    """Interval alpha = 1 - D_o / D_e, computed here from the pairable values by hand."""
    data = {"1": [40.0, 60.0], "2": [80.0, 80.0, 100.0], "3": [20.0, 40.0]}
    reviews = [(f"j{i}", e, x) for e, xs in data.items() for i, x in enumerate(xs)]
    values = [x for xs in data.values() for x in xs]
    n = len(values)
    observed = sum(sum((a - b) ** 2 for a in xs for b in xs) / (len(xs) - 1) for xs in data.values()) / n
    expected = sum((a - b) ** 2 for a in values for b in values) / (n * (n - 1))
    assert krippendorff_alpha(reviews) == pytest.approx(1 - observed / expected)


def test_agreement_spread_and_outlier_judges():
    scores = {"1": 40.0, "2": 60.0, "3": 80.0}
    reviews = [(j, e, x) for j in ("a", "b") for e, x in scores.items()]
    reviews += [("harsh", e, x - 2 * OUTLIER_POINTS) for e, x in scores.items()]
    result = agreement(reviews)
    flagged = {j.judge for j in result.judges if j.outlier}
    assert flagged == {"harsh"}
    spread = {s.entry: (s.low, s.high) for s in result.entries}
    assert spread["1"] == (40.0 - 2 * OUTLIER_POINTS, 40.0)
    assert result.alpha is not None
    assert result.alpha < 1
    assert np.isfinite(result.alpha)
