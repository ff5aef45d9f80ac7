"""A flagged entry's public score does not name the entry it matches while the challenge is open (issue 24)."""

from __future__ import annotations

import pytest
from django.test import Client

from evaluation.models import Score
from evaluation.selectors.submissions import ENTRY_SOURCE
from tests.security.conftest import set_phase

pytestmark = pytest.mark.django_db


def _longest(user, submission_id: int) -> dict:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(f"/api/submissions/{submission_id}/").json()["score"]["parts"]["originality"]["longest"]


def test_the_matched_entry_is_named_to_organizers_only_while_open(world, cast):
    source = f"submission {world.others.pk}"
    Score.objects.filter(submission=world.ranked).update(flagged_copy=True, parts={"originality": {
        "copied_share": 0.6, "longest": {"bars": 4.0, "notes": 20, "source": source, "source_track": "melody",
                                         "source_bar": 3, "entry_track": "melody", "entry_bar": 1, "kind": "entry"}}})
    set_phase(world.challenge, "open")
    for role in ("anonymous", "entrant", "other", "judge", "outsider"):
        longest = _longest(cast[role], world.ranked.pk)
        assert longest["source"] == ENTRY_SOURCE, role
        assert longest["source_bar"] is None, role
    assert _longest(cast["organizer"], world.ranked.pk)["source"] == source
    set_phase(world.challenge, "published")
    assert _longest(None, world.ranked.pk)["source"] == source
