"""Listening in pairs in a real (headless) Chromium (issue 26): a listener opens /listen/<slug>/, the vote buttons
stay disabled until both excerpts have played to the end (pressing Play on each; the page reports each end), a vote
before the excerpts' time has passed on the server is refused with the reason, then it counts, the next pair comes,
and the leaderboard shows the audience rating with its interval. Screenshot: var/test-artifacts/browser/."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chartbusters.accounts.roles import Role
from evaluation.models import PairIssue, PairVote
from tests.browser.test_studio_browser import _login
from tests.factories import ChallengeFactory, entry_create, entry_score
from tests.judging.test_rankings import _real_audio

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
TIMEOUT_MS = 60_000


def test_listen_to_a_pair_and_vote(browser, live_server, make_user, artifacts, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    challenge = ChallengeFactory(slug="pairs-demo", title="Pairs demo")
    for i in range(3):
        entrant = make_user(f"composer{i}", role=Role.ENTRANT)
        entry = entry_score(entry_create(challenge=challenge, entrant=entrant, title=f"Tune {i}"),
                            automatic=50.0 + 10 * i)
        _real_audio(entry, seconds=(6, 12, 40)[i], freq=330 + 110 * i)
    make_user("listener", role=Role.ENTRANT)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, base, "listener")
    page.goto(f"{base}/listen/{challenge.slug}/")
    assert page.locator("#vote-form button[value=first]").is_disabled()
    assert "Tune " not in page.content()  # blind: no title on the page
    # Press Play on each in turn (played fast, to its end: the page reports the end to the server).
    for which in (1, 2):
        page.evaluate(f"document.querySelector('.excerpt[data-which=\"{which}\"] audio').playbackRate = 16")
        page.click(f"#play-{which}")
        page.wait_for_function(
            f"() => document.getElementById('status-{which}').textContent.includes('Played to the end')",
            timeout=TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "listen-pair.png"), full_page=True)
    assert page.locator("#vote-form button[value=first]").is_enabled()
    issue = PairIssue.objects.get(listener__username="listener")
    assert issue.first_ended_at is not None
    assert issue.second_ended_at is not None
    # 16x speed ended both in ~4 s: the server has not seen 60 s pass, so the vote does not count yet.
    page.click("#vote-form button[value=first]")
    page.wait_for_load_state()
    assert "s of music left" in page.content()
    assert not PairVote.objects.exists()
    # A minute later (the pair issued 2 minutes ago), the same pair is back; play both again and vote.
    PairIssue.objects.filter(pk=issue.pk).update(issued_at=issue.issued_at - timedelta(minutes=2))
    page.goto(f"{base}/listen/{challenge.slug}/")
    assert page.locator("#vote-form button[value=first]").is_enabled()  # both already reported played
    page.click("#vote-form button[value=second]")
    page.wait_for_load_state()
    assert "your vote counts" in page.content()
    vote = PairVote.objects.get()
    assert vote.preferred_id == issue.second_id
    assert PairIssue.objects.filter(listener__username="listener").count() == 2  # the next pair is ready
    page.goto(f"{base}/challenges/{challenge.slug}/leaderboard/")
    rated = page.locator("td.audience", has_text="vote")
    assert rated.count() == 2
    assert "[" in rated.first.text_content()  # the rating's interval
    assert errors == []
    context.close()
