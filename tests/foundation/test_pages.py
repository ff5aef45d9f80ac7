"""Public challenge pages: list, detail with safe Markdown, status, time left, quota text with the UTC reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chartbusters.challenges.markdown_render import markdown_to_safe_html
from chartbusters.challenges.selectors import challenge_quota_text
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.django_db


def test_home_redirects_to_the_challenge_list(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/challenges/"


def test_list_shows_published_challenges_with_status_and_filters(client):
    now = timezone.now()
    ChallengeFactory(slug="open-now", title="Open now")
    ChallengeFactory(slug="later", title="Later on", opens_at=now + timedelta(days=3))
    ChallengeFactory(slug="draft", title="Secret draft", published=False)
    page = client.get("/challenges/").content.decode()
    assert "Open now" in page
    assert "Later on" in page
    assert "Secret draft" not in page
    assert "closes in 4 weeks, 1 day" in page
    assert "opens in 2 days, 23 hours" in page
    only_open = client.get("/challenges/?status=open").content.decode()
    assert "Open now" in only_open
    assert "Later on" not in only_open


def test_detail_page(client):
    challenge = ChallengeFactory(slug="spring", title="Spring", daily_quota=1, total_quota=7,
                                 description="## Rules\n\n- be **kind**\n\n<script>alert(1)</script>"
                                             "[x](javascript:alert(2)) <img src=x onerror=alert(3)>")
    response = client.get("/challenges/spring/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h2>Rules</h2>" in page
    assert "<strong>kind</strong>" in page
    assert "<script>" not in page
    assert "javascript:" not in page
    assert "onerror" not in page
    assert "1 entry per UTC day (resets at 00:00 UTC), 7 in all" in page
    assert "Closes in 4 weeks" in page
    assert "Submit an entry" in page
    assert "/challenges/spring/submit/" in page
    assert "/challenges/spring/leaderboard/" in page
    assert challenge.status == "open"


def test_closed_challenge_has_no_submit_link(client):
    now = timezone.now()
    ChallengeFactory(slug="old", opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=60),
                     judging_ends_at=now - timedelta(days=30))
    page = client.get("/challenges/old/").content.decode()
    assert "Submit an entry" not in page
    assert "closed" in page


def test_unpublished_and_unknown_are_404(client):
    ChallengeFactory(slug="draft", published=False)
    assert client.get("/challenges/draft/").status_code == 404
    assert client.get("/challenges/nothing/").status_code == 404


def test_quota_text():
    assert challenge_quota_text(ChallengeFactory.build(daily_quota=5, total_quota=50)) == \
        "5 entries per UTC day (resets at 00:00 UTC), 50 in all"


def test_markdown_keeps_tables_and_links_but_not_scripts():
    html = markdown_to_safe_html("| a | b |\n|---|---|\n| 1 | 2 |\n\n[site](https://example.com)")
    assert "<table>" in html
    assert 'href="https://example.com"' in html
    assert markdown_to_safe_html('<a href="#" onclick="x()">y</a><iframe src="https://e.com"></iframe>') \
        .count("onclick") == 0
