"""Challenge rules: closes after it opens, judging after it closes, quotas >= 1, weights, alpha, metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chartbusters import metric_names as rules
from chartbusters.challenges import validation as v
from chartbusters.challenges.forms import ChallengeAdminForm
from chartbusters.challenges.models import ALL_METRICS

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def valid_values(**overrides) -> dict:
    values = {
        "opens_at": T0, "closes_at": T0 + timedelta(days=30), "judging_ends_at": T0 + timedelta(days=45),
        "daily_quota": 5, "total_quota": 50, "weight_style": 1.0, "weight_realness": 1.0, "alpha": 0.5,
        "metrics": list(ALL_METRICS), "generation_time_limit_seconds": 60, "generation_params": {},
    }
    return {**values, **overrides}


def test_valid_values_have_no_errors():
    assert v.challenge_field_errors(valid_values()) == {}


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"closes_at": T0}, "closes_at", v.CLOSES_BEFORE_OPENS),
    ({"closes_at": T0 - timedelta(hours=1)}, "closes_at", v.CLOSES_BEFORE_OPENS),
    ({"judging_ends_at": T0 + timedelta(days=30)}, "judging_ends_at", v.JUDGING_BEFORE_CLOSE),
    ({"daily_quota": 0}, "daily_quota", v.QUOTA_BELOW_ONE),
    ({"total_quota": 0}, "total_quota", v.QUOTA_BELOW_ONE),
    ({"weight_style": -0.1}, "weight_style", rules.WEIGHT_NEGATIVE),
    ({"weight_realness": -1}, "weight_realness", rules.WEIGHT_NEGATIVE),
    ({"weight_style": 0, "weight_realness": 0.0}, "weight_style", rules.WEIGHTS_ALL_ZERO),
    ({"alpha": -0.01}, "alpha", v.ALPHA_OUT_OF_RANGE),
    ({"alpha": 1.01}, "alpha", v.ALPHA_OUT_OF_RANGE),
    ({"metrics": []}, "metrics", rules.METRICS_EMPTY),
    ({"metrics": "pitch_range"}, "metrics", rules.METRICS_NOT_A_LIST),
    ({"generation_time_limit_seconds": 0}, "generation_time_limit_seconds", v.TIME_LIMIT_BELOW_ONE),
    ({"generation_params": [1, 2]}, "generation_params", v.GENERATION_PARAMS_NOT_A_MAPPING),
])
def test_each_rule_names_its_field(overrides, field, message):
    errors = v.challenge_field_errors(valid_values(**overrides))
    assert list(errors) == [field]
    assert errors[field] == [message]


def test_unknown_metric_is_named():
    errors = v.challenge_field_errors(valid_values(metrics=["pitch_range", "loudness"]))
    assert "'loudness'" in errors["metrics"][0]


def test_boundaries_are_allowed():
    assert v.challenge_field_errors(valid_values(alpha=0.0, weight_style=0.0, daily_quota=1, total_quota=1,
                                                 metrics=[])) == {}
    assert v.challenge_field_errors(valid_values(alpha=1.0, weight_realness=0)) == {}


def admin_form_data(**overrides) -> dict:
    data = {
        "title": "Spring", "slug": "spring", "kind": "melody-go-round", "description": "x",
        "published": "on", "opens_at": "2026-01-01 00:00:00",
        "closes_at": "2026-02-01 00:00:00", "judging_ends_at": "2026-02-15 00:00:00",
        "daily_quota": "5", "total_quota": "50", "weight_style": "1",
        "weight_realness": "1", "metrics": ["pitch_range", "polyphony"], "alpha": "0.5",
        "originality_threshold_bars": "2", "generation_params": "{}", "generation_time_limit_seconds": "60",
        "entry_licence": "CC BY 4.0",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_admin_form_accepts_a_valid_challenge():
    form = ChallengeAdminForm(data=admin_form_data())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["metrics"] == ["pitch_range", "polyphony"]


@pytest.mark.django_db
def test_admin_form_puts_each_message_on_its_field():
    form = ChallengeAdminForm(data=admin_form_data(
        closes_at="2025-12-01 00:00:00", alpha="2", daily_quota="0", weight_style="0", weight_realness="0"))
    assert not form.is_valid()
    assert form.errors["closes_at"] == [v.CLOSES_BEFORE_OPENS]
    assert form.errors["alpha"] == [v.ALPHA_OUT_OF_RANGE]
    assert form.errors["daily_quota"] == [v.QUOTA_BELOW_ONE]
    assert form.errors["weight_style"] == [rules.WEIGHTS_ALL_ZERO]


def test_generation_params_are_keyed_by_architecture_and_checked_against_each_model():
    """The organizer's trap: one flat mapping applied to every architecture ({"iterations": 60} made every GAN entry
    fail). Now each architecture has its own mapping, checked against that model's parameters when saved."""
    from generation.engine.registry import generator_names, get_generator_spec

    errors = v.challenge_field_errors(valid_values(generation_params={"iterations": 60}))["generation_params"]
    assert errors == [v.UNKNOWN_ARCHITECTURE.format(name="iterations", choices=", ".join(generator_names()))]
    errors = v.challenge_field_errors(valid_values(generation_params={"gan": {"iterations": 60}}))["generation_params"]
    assert "'iterations'" in errors[0]
    assert all(spec.name in errors[0] for spec in get_generator_spec("gan").PARAMS)  # the list of the GAN's own
    errors = v.challenge_field_errors(valid_values(generation_params={"arcnn": {"iterations": 1000}}))
    assert "iterations" in errors["generation_params"][0]  # out of range, with its range
    assert v.challenge_field_errors(valid_values(generation_params={"arcnn": 60}))["generation_params"] == [
        v.ARCHITECTURE_PARAMS_NOT_A_MAPPING.format(name="arcnn")]
    fine = {"arcnn": {"iterations": 60, "seed": 1}, "gan": {"seed": 1}, "transformer": {"temperature": 0.9}}
    assert v.challenge_field_errors(valid_values(generation_params=fine)) == {}


@pytest.mark.django_db
def test_the_admin_form_refuses_an_unknown_parameter_with_the_list():
    form = ChallengeAdminForm(data=admin_form_data(kind="melody-harvest",
                                                   generation_params='{"gan": {"iterations": 60}}'))
    assert not form.is_valid()
    assert "Unknown parameter 'iterations' for gan; known parameters:" in form.errors["generation_params"][0]


def test_stored_flat_params_move_under_the_architectures_that_have_them():
    import importlib

    migration = importlib.import_module("chartbusters.challenges.migrations.0005_generation_params_by_architecture")
    assert migration.by_architecture({"iterations": 60}) == {"arcnn": {"iterations": 60}}
    assert set(migration.by_architecture({"seed": 1})) == {"arcnn", "gan", "transformer"}
    assert migration.by_architecture({}) == {}
    keyed = {"arcnn": {"iterations": 60}}
    assert migration.by_architecture(keyed) == keyed
