"""Audience likes (one per user per entry, after listening, never one's own, no judge's, rate limited) and the
disqualification notice (the organizer's reason on the entry page, in the API and by e-mail, with a link)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from chartbusters.accounts.roles import Role
from evaluation.models import Like, Rendering
from submissions.services.moderation import submission_disqualify

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def listen(user, entry) -> None:
    rendering = Rendering.objects.get(submission=entry, output__isnull=True)
    response = api(user).get(f"/files/audio/{rendering.public_id}/")
    assert response.status_code == 200
    b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def open_contest(make_contest):
    """Three ranked entries with audio, one judge."""
    return make_contest(n_entrants=3, n_judges=1, k=1)


def test_a_listener_likes_once_and_counts_show(open_contest, make_user):
    contest = open_contest
    fan = make_user("fan", role=Role.ENTRANT)
    entry = contest.entries[0]
    url = f"/api/submissions/{entry.pk}/like/"
    refused = api(fan).post(url)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "listen_first"
    listen(fan, entry)
    liked = api(fan).post(url)
    assert liked.status_code == 201
    assert liked.json() == {"submission": entry.pk, "likes": 1}
    twice = api(fan).post(url)
    assert twice.status_code == 409
    assert Like.objects.filter(submission=entry).count() == 1
    assert api().post(url).status_code == 401
    # Counts on the entry (API and page) and on the leaderboard (its cached page is refreshed).
    assert api().get(f"/api/submissions/{entry.pk}/").json()["likes"] == 1
    rows = api().get(f"/api/challenges/{contest.challenge.slug}/leaderboard/").json()["rows"]
    assert {r["submission"]: r["likes"] for r in rows}[entry.pk] == 1
    assert "<strong>1</strong> like" in Client().get(f"/submissions/{entry.pk}/").content.decode()
    board = Client().get(f"/challenges/{contest.challenge.slug}/leaderboard/").content.decode()
    assert re.search(r'<td class="likes[^"]*">1</td>', board)


def test_never_ones_own_nor_a_judges(open_contest):
    contest = open_contest
    entry = contest.entries[0]
    own = contest.entrants[0]
    listen(own, entry)
    response = api(own).post(f"/api/submissions/{entry.pk}/like/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "own_entry"
    judge = contest.judges[0]
    listen(judge, entry)
    response = api(judge).post(f"/api/submissions/{entry.pk}/like/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "judge"
    assert not Like.objects.exists()


def test_likes_are_rate_limited(open_contest, make_user, settings):
    settings.RATE_LIMIT_LIKE = "2/1h"
    contest = open_contest
    fan = make_user("busy_fan", role=Role.ENTRANT)
    statuses = []
    for entry in contest.entries:
        listen(fan, entry)
        statuses.append(api(fan).post(f"/api/submissions/{entry.pk}/like/").status_code)
    assert statuses == [201, 201, 429]
    assert Like.objects.filter(user=fan).count() == 2


def test_the_like_button_on_the_entry_page(open_contest, make_user):
    contest = open_contest
    fan = make_user("page_fan", role=Role.ENTRANT)
    entry = contest.entries[1]
    client = Client()
    client.force_login(fan)
    response = client.post(f"/submissions/{entry.pk}/like/", follow=True)
    assert "Listen to entry" in response.content.decode()
    listen(fan, entry)
    response = client.post(f"/submissions/{entry.pk}/like/", follow=True)
    assert "Liked: 1 like" in response.content.decode()


def test_a_disqualified_entrant_sees_the_reason_everywhere(open_contest, django_capture_on_commit_callbacks):
    contest = open_contest
    entry, entrant = contest.entries[0], contest.entrants[0]
    reason = "It copies eight bars of BWV 269."
    with django_capture_on_commit_callbacks(execute=True):
        submission_disqualify(submission_id=entry.pk, disqualified_by=contest.organizer, reason=reason)
    body = api(entrant).get(f"/api/submissions/{entry.pk}/").json()
    assert body["disqualified"] is True
    assert body["disqualification_reason"] == reason
    client = Client()
    client.force_login(entrant)
    assert reason in client.get(f"/submissions/{entry.pk}/").content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [entrant.email]
    assert reason in message.body
    assert f"http://127.0.0.1:8000/submissions/{entry.pk}/" in message.body
    # Others never see a disqualified entry (404), so never its reason.
    assert api(contest.entrants[1]).get(f"/api/submissions/{entry.pk}/").status_code == 404


def test_every_email_links_to_its_entry(make_user, media, django_capture_on_commit_callbacks):
    from tests.factories import ChallengeFactory, entry_create, entry_fail, entry_score

    challenge = ChallengeFactory(slug="mailed")
    entrant = make_user("mailed_entrant", role=Role.ENTRANT)
    with django_capture_on_commit_callbacks(execute=True):
        scored = entry_score(entry_create(challenge=challenge, entrant=entrant))
        failed = entry_fail(entry_create(challenge=challenge, entrant=entrant))
    assert len(mail.outbox) == 2
    assert f"http://127.0.0.1:8000/submissions/{scored.pk}/" in mail.outbox[0].body
    assert f"http://127.0.0.1:8000/submissions/{failed.pk}/" in mail.outbox[1].body
