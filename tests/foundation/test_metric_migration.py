"""The migration that adds the outer voices' step rate (Judge III) to challenges that chose every metric."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from chartbusters.metric_names import METRIC_NAMES
from tests.factories import ChallengeFactory

migration = importlib.import_module("chartbusters.challenges.migrations.0006_outer_voice_step_rate")


@pytest.mark.django_db
def test_every_metric_challenges_gain_the_step_rate_and_chosen_ones_keep_their_choice():
    twelve = [m for m in METRIC_NAMES if m != "outer_voice_step_rate"]
    assert len(twelve) == 12
    assert set(twelve) == migration.TWELVE
    every = ChallengeFactory(metrics=twelve)
    chosen = ChallengeFactory(metrics=["pitch_range", "polyphony"])
    realness_only = ChallengeFactory(metrics=[], weight_style=0.0)
    migration.add_to_every_metric_challenges(apps, None)
    for c in (every, chosen, realness_only):
        c.refresh_from_db()
    assert every.metrics == [*twelve, "outer_voice_step_rate"]
    assert set(every.metrics) == set(METRIC_NAMES)
    assert chosen.metrics == ["pitch_range", "polyphony"]
    assert realness_only.metrics == []
    migration.remove_again(apps, None)
    every.refresh_from_db()
    assert every.metrics == twelve
