"""The score formulas of docs/design.md section 5 on hand numbers."""

from __future__ import annotations

import math

import pytest

from evaluation.formula import BAD_WEIGHTS, automatic_score, closeness, effective_std, style_score


def test_closeness_on_hand_numbers():
    assert closeness(10.0, 10.0, 2.0) == 1.0
    assert closeness(12.0, 10.0, 2.0) == pytest.approx(math.exp(-0.5))
    assert closeness(6.0, 10.0, 2.0) == pytest.approx(math.exp(-2.0))
    assert closeness(6.0, 10.0, 2.0) == closeness(14.0, 10.0, 2.0)


def test_zero_std_is_floored():
    assert effective_std(10.0, 0.0) == pytest.approx(0.5)  # 5 % of the mean
    assert effective_std(0.0, 0.0) == pytest.approx(1e-3)
    assert 0.0 < closeness(10.2, 10.0, 0.0) < 1.0


def test_style_is_the_mean_of_the_chosen_metrics():
    c = {"a": 1.0, "b": 0.5, "c": 0.0}
    assert style_score(c, ["a", "b"]) == pytest.approx(0.75)
    assert style_score(c, ["a", "b", "c"]) == pytest.approx(0.5)


def test_automatic_score_on_hand_numbers():
    assert automatic_score(0.5, 0.9, 1.0, 1.0) == pytest.approx(70.0)
    assert automatic_score(0.5, 0.9, 1.0, 3.0) == pytest.approx(80.0)  # 100 * (0.5 + 2.7) / 4
    assert automatic_score(0.5, 0.9, 0.0, 1.0) == pytest.approx(90.0)
    assert automatic_score(1.0, 1.0, 2.0, 5.0) == pytest.approx(100.0)


@pytest.mark.parametrize(("ws", "wr"), [(0.0, 0.0), (-1.0, 2.0)])
def test_bad_weights_are_refused(ws, wr):
    with pytest.raises(ValueError, match="weights") as err:
        automatic_score(0.5, 0.5, ws, wr)
    assert str(err.value) == BAD_WEIGHTS.format(style=ws, real=wr)
