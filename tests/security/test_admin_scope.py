"""Organizers act only on the challenges they organize (issue 24, item 1).

An organizer of another challenge ("outsider") tries every admin URL of the world's challenge and of its children
(inputs and reference files are inlines of the challenge; entries, compositions, scores, reviews, likes, its realness
model, its worker pings): each answers 404 or 403 and nothing is saved. The attack of the issue: open the other
challenge's admin page, add oneself as its organizer and set its quota to 999.
"""

from __future__ import annotations

import pytest
from django.test import Client

from chartbusters.challenges.models import Challenge, WorkerPing
from evaluation.models import JudgeAssignment, Like, RealnessModel, Score
from submissions.models import Submission
from tests.foundation.test_admin import add_form, inline_management

pytestmark = pytest.mark.django_db


def _takeover_form(challenge: Challenge, user) -> dict:
    """The challenge's change form as posted by ``user``: quota 999 and ``user`` added as an organizer."""
    form = add_form(
        title=challenge.title,
        slug=challenge.slug,
        kind=challenge.kind,
        daily_quota="999",
        total_quota="999",
        **inline_management("Challenge_organizers", total=1),
    )
    form["Challenge_organizers-0-user"] = str(user.pk)
    form["Challenge_organizers-0-challenge"] = str(challenge.pk)
    return form


def _admin_urls(world) -> list[tuple[str, str]]:
    c = world.challenge
    like = Like.objects.create(challenge=c, submission=world.ranked, user=world.others.entrant)
    realness, _ = RealnessModel.objects.get_or_create(challenge=c)
    ping = WorkerPing.objects.create(challenge=c)
    score = Score.objects.get(submission=world.ranked)
    rows = [
        ("challenges/challenge", c.pk),
        ("submissions/submission", world.ranked.pk),
        ("submissions/submission", world.checkpoint.pk),
        ("evaluation/score", score.pk),
        ("evaluation/judgeassignment", world.assignment.pk),
        ("evaluation/like", like.pk),
        ("evaluation/realnessmodel", realness.pk),
        ("challenges/workerping", ping.pk),
    ]
    urls = []
    for model, pk in rows:
        for view in ("change", "delete", "history"):
            urls.append(("GET", f"/admin/{model}/{pk}/{view}/"))
            urls.append(("POST", f"/admin/{model}/{pk}/{view}/"))
    return urls


def _state(world) -> tuple:
    c = Challenge.objects.get(pk=world.challenge.pk)
    return (
        c.daily_quota,
        c.total_quota,
        c.title,
        sorted(c.organizers.values_list("pk", flat=True)),
        sorted(c.judges.values_list("pk", flat=True)),
        c.input_melodies.count(),
        c.reference_files.count(),
        sorted(Submission.objects.filter(challenge=c).values_list("pk", "status", "rerun_count", "disqualified")),
        sorted(Score.objects.filter(challenge=c).values_list("pk", "flagged_copy", "copy_cleared_by")),
        JudgeAssignment.objects.filter(challenge=c).count(),
        Like.objects.filter(challenge=c).count(),
        RealnessModel.objects.filter(challenge=c).count(),
        WorkerPing.objects.filter(challenge=c).count(),
    )


def test_an_organizer_of_another_challenge_gets_404_or_403_everywhere_and_saves_nothing(world, cast):
    outsider = cast["outsider"]
    client = Client()
    client.force_login(outsider)
    urls = _admin_urls(world)
    before = _state(world)
    wrong = []
    for method, url in urls:
        if method == "POST" and url.startswith("/admin/challenges/challenge/") and url.endswith("/change/"):
            response = client.post(url, _takeover_form(world.challenge, outsider))
        elif method == "POST" and url.endswith("/delete/"):
            response = client.post(url, {"post": "yes"})
        elif method == "POST":
            response = client.post(url, {})
        else:
            response = client.get(url)
        if response.status_code not in (403, 404, 405):
            wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert _state(world) == before
    assert not world.challenge.organizers.filter(pk=outsider.pk).exists()


def test_an_organizer_of_another_challenge_lists_none_of_its_rows_and_its_actions_do_nothing(world, cast):
    client = Client()
    client.force_login(cast["outsider"])
    before = _state(world)
    for url in (
        "/admin/challenges/challenge/",
        "/admin/submissions/submission/",
        "/admin/evaluation/score/",
        "/admin/evaluation/judgeassignment/",
        "/admin/evaluation/like/",
        "/admin/evaluation/realnessmodel/",
        "/admin/submissions/composition/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert world.challenge.title not in response.content.decode(), url
    ids = list(Submission.objects.filter(challenge=world.challenge).values_list("pk", flat=True))
    for action in ("rerun_selected", "requalify_selected"):
        client.post("/admin/submissions/submission/", {"action": action, "_selected_action": ids})
    client.post(
        "/admin/submissions/submission/",
        {"action": "disqualify_selected", "_selected_action": ids, "reason": "mine now"},
    )
    scores = list(Score.objects.filter(challenge=world.challenge).values_list("pk", flat=True))
    client.post("/admin/evaluation/score/", {"action": "clear_copy_flag", "_selected_action": scores})
    client.post(
        "/admin/challenges/challenge/",
        {"action": "delete_selected", "_selected_action": [world.challenge.pk], "post": "yes"},
    )
    assert _state(world) == before


def test_an_organizer_of_the_challenge_cannot_add_organizers(world, cast):
    """Only superusers add a challenge's organizers; its own organizer still edits the rest of the form."""
    client = Client()
    client.force_login(cast["organizer"])
    page = client.get(f"/admin/challenges/challenge/{world.challenge.pk}/change/")
    assert page.status_code == 200
    assert "Challenge_organizers-TOTAL_FORMS" not in page.content.decode()
    response = client.post(
        f"/admin/challenges/challenge/{world.challenge.pk}/change/", _takeover_form(world.challenge, cast["outsider"])
    )
    assert response.status_code == 302
    assert world.challenge.organizers.filter(pk=cast["outsider"].pk).exists() is False
    assert Challenge.objects.get(pk=world.challenge.pk).daily_quota == 999  # their own challenge: saved


def test_a_superuser_adds_organizers(world, cast):
    client = Client()
    client.force_login(cast["superuser"])
    response = client.post(
        f"/admin/challenges/challenge/{world.challenge.pk}/change/", _takeover_form(world.challenge, cast["outsider"])
    )
    assert response.status_code == 302, response.content[:3000]
    assert world.challenge.organizers.filter(pk=cast["outsider"].pk).exists()
