"""The one metrics-and-weights rule (chartbusters.metric_names.scoring_choice_errors): challenge validation and
scoring refuse the same choices with the same message, and both accept a realness-only challenge."""

from __future__ import annotations

import pytest

from chartbusters.challenges.models import ALL_METRICS, Challenge
from chartbusters.challenges.validation import challenge_field_errors
from chartbusters.metric_names import (
    METRICS_EMPTY,
    METRICS_NOT_A_LIST,
    UNKNOWN_METRIC,
    WEIGHT_NEGATIVE,
    WEIGHTS_ALL_ZERO,
    scoring_choice_errors,
)
from evaluation.automatic import ScoringError, score_pieces
from tests.engine.midi_factory import make_pm

SCALE = [[(60 + step, i, i + 1) for i, step in enumerate((0, 2, 4, 5, 7, 9, 11, 12))]]


@pytest.mark.parametrize(("choice", "field", "message", "code"), [
    ({"metrics": [], "weight_style": 1.0, "weight_realness": 1.0}, "metrics", METRICS_EMPTY, "bad_metrics"),
    ({"metrics": ["loudness"], "weight_style": 1.0, "weight_realness": 1.0}, "metrics",
     UNKNOWN_METRIC.format(name="loudness", choices=", ".join(ALL_METRICS)), "bad_metrics"),
    ({"metrics": "pitch_range", "weight_style": 1.0, "weight_realness": 1.0}, "metrics", METRICS_NOT_A_LIST,
     "bad_metrics"),
    ({"metrics": ["pitch_range"], "weight_style": 0.0, "weight_realness": 0.0}, "weight_style", WEIGHTS_ALL_ZERO,
     "bad_weights"),
    ({"metrics": ["pitch_range"], "weight_style": 1.0, "weight_realness": -0.5}, "weight_realness", WEIGHT_NEGATIVE,
     "bad_weights"),
], ids=["no-metric-with-style-weight", "unknown-metric", "metrics-not-a-list", "weights-both-zero", "negative"])
def test_validation_and_scoring_refuse_the_same_choices(choice, field, message, code):
    assert scoring_choice_errors(**choice) == {field: [message]}
    assert challenge_field_errors(choice) == {field: [message]}
    with pytest.raises(ScoringError) as refused:
        score_pieces([make_pm(SCALE)], challenge=Challenge(**choice))
    assert (refused.value.code, refused.value.message) == (code, message)


@pytest.mark.parametrize("choice", [
    {"metrics": [], "weight_style": 0.0, "weight_realness": 1.0},
    {"metrics": ["pitch_range"], "weight_style": 1.0, "weight_realness": 0.0},
    {"metrics": list(ALL_METRICS), "weight_style": 2.0, "weight_realness": 1.0},
], ids=["realness-only", "style-only", "both"])
def test_validation_and_the_rule_accept_a_choice_that_scores(choice):
    assert scoring_choice_errors(**choice) == {}
    assert challenge_field_errors(choice) == {}


def test_an_unknown_style_weight_does_not_excuse_empty_metrics():
    assert scoring_choice_errors(metrics=[]) == {"metrics": [METRICS_EMPTY]}
    assert scoring_choice_errors(weight_style=0.0, weight_realness=1.0) == {}  # metrics not given: not checked
