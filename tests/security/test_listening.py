"""Likes need a listen (issue 24): a HEAD or a one-byte Range request is not a listen, and a challenge's organizers
cannot like its entries."""

from __future__ import annotations

import pytest
from django.test import Client

from evaluation.models import Like, Listen
from tests.security.conftest import set_phase

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("method", "headers"), [
    ("head", {}), ("get", {"HTTP_RANGE": "bytes=0-0"}), ("get", {"HTTP_RANGE": "bytes=100-200"}),
])
def test_a_head_or_a_few_bytes_is_not_a_listen(world, cast, method, headers):
    set_phase(world.challenge, "open")
    client = _client(cast["other"])
    url = f"/files/audio/{world.ranked_rendering.public_id}/"
    getattr(client, method)(url, **headers)
    assert not Listen.objects.filter(user=cast["other"]).exists()
    assert client.post(f"/api/submissions/{world.ranked.pk}/like/").status_code == 403
    assert not Like.objects.exists()


def test_a_whole_listen_then_a_like(world, cast):
    set_phase(world.challenge, "open")
    client = _client(cast["other"])
    url = f"/files/audio/{world.ranked_rendering.public_id}/"
    assert client.get(url, HTTP_RANGE="bytes=0-").status_code in (200, 206)  # what an audio player sends
    assert client.post(f"/api/submissions/{world.ranked.pk}/like/").status_code == 201


def test_organizers_cannot_like_their_challenges_entries(world, cast):
    set_phase(world.challenge, "open")
    client = _client(cast["organizer"])
    client.get(f"/files/audio/{world.ranked_rendering.public_id}/")
    response = client.post(f"/api/submissions/{world.ranked.pk}/like/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "organizer"
    assert not Like.objects.exists()
