"""Blind judging (issue 9 item 2): while a challenge is judged nobody without organizer rights learns who entered
what, signed in or not, judges included; each entrant still sees their own entries. Organizers see everything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from evaluation.selectors.access import HIDDEN_NAME
from tests.security.conftest import ENTRANT_NAME, set_phase

pytestmark = pytest.mark.django_db


def api_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def board(user, world) -> dict:
    return api_for(user).get(f"/api/challenges/{world.challenge.slug}/leaderboard/").json()


def names(body: dict) -> list[str]:
    return [row["entrant"] for row in body["rows"]]


def test_while_judged_names_are_hidden_from_everyone_but_organizers(world, cast):
    set_phase(world.challenge, "judging")
    for role in ("anonymous", "other", "judge", "outsider"):
        body = board(cast[role], world)
        own = "other_entrant" if role == "other" else HIDDEN_NAME  # each entrant sees their own row
        assert names(body) == [HIDDEN_NAME, own], role
        detail = api_for(cast[role]).get(f"/api/submissions/{world.ranked.pk}/").json()
        assert detail["entrant"] == HIDDEN_NAME, role
    assert board(cast["other"], world)["me"]["entrant"] == "other_entrant"  # their own row
    for role in ("organizer", "superuser"):
        assert names(board(cast[role], world)) == [ENTRANT_NAME, "other_entrant"], role
        assert api_for(cast[role]).get(f"/api/submissions/{world.ranked.pk}/").json()["entrant"] == ENTRANT_NAME


def test_the_entrant_still_sees_their_own_entries(world, cast):
    set_phase(world.challenge, "judging")
    body = board(cast["entrant"], world)
    assert names(body) == [ENTRANT_NAME, HIDDEN_NAME]
    assert body["me"]["entrant"] == ENTRANT_NAME
    api = api_for(cast["entrant"])
    assert api.get(f"/api/submissions/{world.ranked.pk}/").json()["entrant"] == ENTRANT_NAME
    assert api.get(f"/api/submissions/{world.others.pk}/").json()["entrant"] == HIDDEN_NAME
    client = Client()
    client.force_login(cast["entrant"])
    html = client.get(f"/challenges/{world.challenge.slug}/leaderboard/").content.decode()
    assert f"<td>{ENTRANT_NAME}</td>" in html
    assert "<td>other_entrant</td>" not in html
    assert f"<td>{HIDDEN_NAME}</td>" in html


def test_judged_challenge_is_blind_for_everyone_from_the_opening(world, cast):
    """Issue 24 (a): a judge who logs out must not see what they could not see logged in."""
    set_phase(world.challenge, "open")
    assert names(board(cast["judge"], world)) == [HIDDEN_NAME, HIDDEN_NAME]
    assert names(board(None, world)) == [HIDDEN_NAME, HIDDEN_NAME]
    assert names(board(cast["other"], world)) == [HIDDEN_NAME, "other_entrant"]


def test_without_human_judging_only_judges_are_blind_while_open(world, cast):
    set_phase(world.challenge, "open")
    world.challenge.alpha = 0
    world.challenge.save()
    assert names(board(cast["judge"], world)) == [HIDDEN_NAME, HIDDEN_NAME]
    assert names(board(None, world)) == [ENTRANT_NAME, "other_entrant"]


def test_names_return_once_results_are_final(world, cast):
    set_phase(world.challenge, "judging")
    challenge = world.challenge
    challenge.judging_ends_at = timezone.now() - timedelta(minutes=1)
    challenge.save()
    assert names(board(None, world)) == [HIDDEN_NAME, HIDDEN_NAME]  # judging over, entries not all judged yet
    challenge.alpha = 0  # judges carry no weight: the automatic scores are final once judging ends
    challenge.save()
    assert names(board(None, world)) == [ENTRANT_NAME, "other_entrant"]
    set_phase(challenge, "published")
    assert names(board(cast["judge"], world)) == [ENTRANT_NAME, "other_entrant"]
    html = Client().get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    assert f"<td>{ENTRANT_NAME}</td>" in html
