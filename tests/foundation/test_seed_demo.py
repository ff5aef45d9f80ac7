"""seed_demo: the two demo challenges open now, one user per role with DEMO_PASSWORD; running twice is fine; the
judging demo (winter-judging) is being judged, its entries scored and assigned, the demo judge's reviews to do."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from chartbusters.accounts.roles import Role, user_has_role
from chartbusters.challenges.models import Challenge, InputMelody

pytestmark = pytest.mark.django_db


def test_seed_demo_twice(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-demo")
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "'s3cret-demo'" in out.getvalue()
    call_command("seed_demo", "--json", stdout=(second := StringIO()))
    result = json.loads(second.getvalue())
    assert result["password"] == "s3cret-demo"
    assert [c["created"] for c in result["challenges"]] == [False, False]
    assert sum(c["files_written"] for c in result["challenges"]) == 0

    assert "winter-judging" in result["extras"]["judging"]
    assert {c.slug: c.status for c in Challenge.objects.all()} == {"melody-go-round": "open",
                                                                   "melody-harvest": "open",
                                                                   "winter-judging": "judging"}
    harvest = Challenge.objects.get(slug="melody-harvest")
    assert harvest.kind == "melody-harvest"
    hidden = InputMelody.objects.filter(challenge=harvest).exclude(role=InputMelody.Role.EXAMPLE)
    assert 3 <= hidden.count() <= 4
    examples = InputMelody.objects.filter(challenge=harvest, role=InputMelody.Role.EXAMPLE)
    assert examples.count() == 2  # entrants hear their model on these while the challenge is open (issue 24)
    for username, role in {"entrant": Role.ENTRANT, "judge": Role.JUDGE, "organizer": Role.ORGANIZER}.items():
        user = authenticate(username=username, password="s3cret-demo")
        assert user is not None
        assert user_has_role(user, role)
        assert user.is_staff == (role == Role.ORGANIZER)
    assert get_user_model().objects.filter(username__in=["entrant", "judge", "organizer"]).count() == 3
    for challenge in Challenge.objects.exclude(slug="winter-judging"):
        assert [u.username for u in challenge.judges.all()] == ["judge"]
        assert [u.username for u in challenge.organizers.all()] == ["organizer"]
        assert "## Rules" in challenge.description
    _check_judging_demo()
    _try_judging_as_a_new_user_would("s3cret-demo")


def test_default_password(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo", "--without-judging", stdout=StringIO())
    assert not Challenge.objects.filter(slug="winter-judging").exists()
    assert authenticate(username="entrant", password="chartbusters") is not None


def _check_judging_demo() -> None:
    from evaluation.models import JudgeAssignment
    from submissions.models import Submission

    challenge = Challenge.objects.get(slug="winter-judging")
    entries = Submission.objects.filter(challenge=challenge)
    assert entries.count() == 6
    assert set(entries.values_list("status", flat=True)) == {"scored"}
    reviews = JudgeAssignment.objects.filter(challenge=challenge)
    assert reviews.count() == 6 * 3
    mine = reviews.filter(judge__username="judge")
    assert mine.count() == 6
    assert set(mine.values_list("status", flat=True)) == {"pending"}  # the demo judge's to do
    assert set(reviews.exclude(judge__username="judge").values_list("status", flat=True)) == {"submitted"}
    assert authenticate(username="judge2", password="s3cret-demo") is not None



def _try_judging_as_a_new_user_would(password: str) -> None:
    """Issue 14, done when: as judge, listen to and score every assigned entry; as organizer, publish; the
    leaderboard shows final scores with their parts."""
    import re

    from django.test import Client

    judge = Client()
    assert judge.login(username="judge", password=password)
    queue = judge.get("/judging/").content.decode()
    assert "0 of 6" in queue
    for assignment_id in re.findall(r'href="/judging/assignments/(\d+)/"', queue):
        page = judge.get(f"/judging/assignments/{assignment_id}/")
        assert page.status_code == 200
        sent = judge.post(f"/judging/assignments/{assignment_id}/", {
            "originality": "4", "balance": "3", "emotion": "4", "comment": "Nice", "action": "submit"})
        assert sent.status_code == 302
    assert "6 of 6" in judge.get("/judging/").content.decode()
    organizer = Client()
    assert organizer.login(username="organizer", password=password)
    published = organizer.post("/judging/winter-judging/", {"action": "publish"}, follow=True)
    assert "Results published" in published.content.decode()
    board = Client().get("/challenges/winter-judging/leaderboard/").content.decode()
    assert "Final results" in board
    assert board.count("× judges") == 6
