"""The challenge admin works for an organizer; entrants and judges never reach the admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from chartbusters.accounts.roles import Role
from chartbusters.challenges import validation as v
from chartbusters.challenges.models import Challenge
from tests.conftest import TEST_PASSWORD
from tests.factories import ChallengeFactory

DEMO_MIDI = Path(__file__).resolve().parents[2] / "chartbusters/challenges/demo/chorale-r010-soprano.mid"
pytestmark = pytest.mark.django_db


def logged_in(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def inline_management(prefix: str, total: int = 0) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def add_form(**overrides) -> dict:
    data = {
        "title": "Spring chorales", "slug": "spring-chorales", "kind": "melody-go-round", "description": "# Hi",
        "published": "on", "opens_at_0": "2026-01-01", "opens_at_1": "00:00:00",
        "closes_at_0": "2026-02-01", "closes_at_1": "00:00:00", "judging_ends_at_0": "2026-02-15",
        "judging_ends_at_1": "00:00:00", "daily_quota": "5", "total_quota": "50", "weight_style": "1",
        "weight_realness": "1", "metrics": ["pitch_range"], "alpha": "0.5", "originality_threshold_bars": "2",
        "generation_params": "{}", "generation_time_limit_seconds": "60", "entry_licence": "CC BY 4.0",
        **inline_management("Challenge_judges"), **inline_management("Challenge_organizers"),
        **inline_management("input_melodies"), **inline_management("reference_files"),
        **inline_management("judging"), **inline_management("judge_conflicts"),
    }
    data.update(overrides)
    return data


def test_organizer_is_staff_with_challenge_permissions(make_user):
    organizer = make_user("olga", role=Role.ORGANIZER)
    assert organizer.is_staff
    assert not organizer.is_superuser
    for perm in ("add_challenge", "change_challenge", "view_challenge", "add_inputmelody", "add_referencefile"):
        assert organizer.has_perm(f"challenges.{perm}")
    assert not organizer.has_perm("auth.change_user")


def test_organizer_lists_filters_and_edits_challenges(client, make_user):
    olga = logged_in(client, make_user("olga", role=Role.ORGANIZER)) and get_user_model().objects.get(username="olga")
    ChallengeFactory(slug="open-one", title="Open one").organizers.add(olga)  # organizers see their own only
    response = client.get("/admin/challenges/challenge/")
    assert response.status_code == 200
    assert b"Open one" in response.content
    assert b">Open<" in response.content
    assert b"Open one" not in client.get("/admin/challenges/challenge/?status=closed").content
    assert b"Open one" in client.get("/admin/challenges/challenge/?status=open").content
    challenge = Challenge.objects.get(slug="open-one")
    page = client.get(f"/admin/challenges/challenge/{challenge.pk}/change/")
    assert page.status_code == 200
    assert b"judges (users with the judge role)" in page.content.lower()
    assert client.get("/admin/challenges/challenge/add/").status_code == 200


def test_organizer_adds_a_challenge_with_a_judge_and_an_input_melody(client, make_user):
    judge = make_user("jules", role=Role.JUDGE)
    logged_in(client, make_user("olga", role=Role.ORGANIZER))
    data = add_form(**inline_management("Challenge_judges", 1), **{"Challenge_judges-0-user": str(judge.pk)},
                    **inline_management("input_melodies", 1), **{"input_melodies-0-name": "first"})
    data["input_melodies-0-midi"] = SimpleUploadedFile("first.mid", DEMO_MIDI.read_bytes(), "audio/midi")
    response = client.post("/admin/challenges/challenge/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    challenge = Challenge.objects.get(slug="spring-chorales")
    assert list(challenge.judges.all()) == [judge]
    assert challenge.input_melodies.get().name == "first"
    assert [u.username for u in challenge.organizers.all()] == ["olga"]  # who adds a challenge organizes it


def test_admin_shows_field_level_messages(client, make_user):
    logged_in(client, make_user("olga", role=Role.ORGANIZER))
    response = client.post("/admin/challenges/challenge/add/", add_form(
        closes_at_0="2025-12-01", alpha="1.5", total_quota="0"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["closes_at"] == [v.CLOSES_BEFORE_OPENS]
    assert errors["alpha"] == [v.ALPHA_OUT_OF_RANGE]
    assert errors["total_quota"] == [v.QUOTA_BELOW_ONE]
    assert not Challenge.objects.filter(slug="spring-chorales").exists()


def test_admin_refuses_a_file_that_is_not_midi(client, make_user):
    logged_in(client, make_user("olga", role=Role.ORGANIZER))
    data = add_form(**inline_management("input_melodies", 1), **{"input_melodies-0-name": "bad"})
    data["input_melodies-0-midi"] = SimpleUploadedFile("bad.mid", b"not a midi file", "audio/midi")
    response = client.post("/admin/challenges/challenge/add/", data)
    assert response.status_code == 200
    assert b"not a readable Standard MIDI File" in response.content
    assert not Challenge.objects.exists()


@pytest.mark.parametrize("role", [Role.ENTRANT, Role.JUDGE])
def test_entrants_and_judges_never_reach_the_admin(client, make_user, role):
    user = make_user("someone", role=role)
    assert not user.is_staff
    logged_in(client, user)
    for url in ("/admin/", "/admin/challenges/challenge/", "/admin/challenges/challenge/add/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    # and the admin log-in form refuses them
    response = client.post("/admin/login/", {"username": "someone", "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert b"staff account" in response.content


def test_organizer_cannot_manage_users(client, make_user):
    logged_in(client, make_user("olga", role=Role.ORGANIZER))
    assert client.get("/admin/auth/user/").status_code == 403


def test_a_new_challenge_starts_with_every_metric_chosen(client, make_user):
    from chartbusters.challenges.models import ALL_METRICS

    logged_in(client, make_user("olga", role=Role.ORGANIZER))
    page = client.get("/admin/challenges/challenge/add/").content.decode()
    for name in ALL_METRICS:
        assert f'value="{name}"' in page
    assert page.count("checked") >= len(ALL_METRICS)
    form = add_form()
    form["metrics"] = list(ALL_METRICS)  # what the browser posts back untouched
    response = client.post("/admin/challenges/challenge/add/", form)
    assert response.status_code == 302, response.content[:2000]
    assert Challenge.objects.get(slug="spring-chorales").metrics == list(ALL_METRICS)


def test_organizer_uploads_a_reference_set_and_sees_the_realness_model_training(client, make_user):
    from evaluation.models import RealnessModel

    logged_in(client, make_user("olga", role=Role.ORGANIZER))
    form = add_form(**inline_management("reference_files", total=1))
    form.update({"reference_files-0-name": "tune", "reference_files-0-midi": SimpleUploadedFile(
        "tune.mid", DEMO_MIDI.read_bytes(), content_type="audio/midi")})
    response = client.post("/admin/challenges/challenge/add/", form, follow=True)
    assert response.status_code == 200
    challenge = Challenge.objects.get(slug="spring-chorales")
    assert RealnessModel.objects.get(challenge=challenge).status == RealnessModel.Status.QUEUED
    assert b"realness model is being trained" in response.content  # the warning the organizer sees
    change = client.get(f"/admin/challenges/challenge/{challenge.pk}/change/").content.decode()
    assert "Queued" in change
    assert "default Bach model" in change


def test_organizer_clears_a_copy_flag_in_the_admin(client, make_user):
    from evaluation.models import Score
    from evaluation.services.score_store import score_store
    from submissions.models import Submission

    organizer = make_user("olga", role=Role.ORGANIZER)
    challenge = ChallengeFactory()
    challenge.organizers.add(organizer)
    sub = Submission.objects.create(challenge=challenge, entrant=make_user("eve"), kind="composition", title="t",
                                    licence="x", status=Submission.Status.SCORED)
    score_store(submission_id=sub.pk, automatic=20.0, automatic_unpenalized=80.0, copy_penalty=0.25, style=0.8,
                realness=0.8, parts={}, flagged_copy=True)
    logged_in(client, organizer)
    score = Score.objects.get(submission=sub)
    response = client.post("/admin/evaluation/score/", {"action": "clear_copy_flag", "_selected_action": [score.pk]},
                           follow=True)
    assert response.status_code == 200
    score.refresh_from_db()
    assert (score.automatic, score.copy_cleared_by) == (80.0, organizer)


def test_organizer_sees_worker_pings_as_readme_says(client, make_user):
    # README ("Running on PostgreSQL + Redis"): send a ping, then look at it in the admin.
    from chartbusters.challenges.models import WorkerPing

    ping = WorkerPing.objects.create()
    logged_in(client, make_user("olga", role=Role.ORGANIZER))
    assert client.get("/admin/challenges/workerping/").status_code == 200
    assert client.get(f"/admin/challenges/workerping/{ping.pk}/change/").status_code == 200
    assert client.post(f"/admin/challenges/workerping/{ping.pk}/delete/").status_code == 403
