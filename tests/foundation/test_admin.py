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
        **inline_management("judging"), **inline_management("judge_conflicts"), **inline_management("ranking"),
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
    # docs/operations.md ("Running on PostgreSQL + Redis"): send a ping, then look at it in the admin.
    from chartbusters.challenges.models import WorkerPing

    ping = WorkerPing.objects.create()
    logged_in(client, make_user("olga", role=Role.ORGANIZER))
    assert client.get("/admin/challenges/workerping/").status_code == 200
    assert client.get(f"/admin/challenges/workerping/{ping.pk}/change/").status_code == 200
    assert client.post(f"/admin/challenges/workerping/{ping.pk}/delete/").status_code == 403


def _midi(name: str, path: Path = DEMO_MIDI) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, path.read_bytes(), content_type="audio/midi")


def test_organizer_adds_several_reference_files_in_one_upload_or_a_zip(client, make_user, settings, tmp_path):
    import io
    import zipfile

    from chartbusters.challenges.models import ReferenceFile

    settings.MEDIA_ROOT = str(tmp_path / "media")
    demo = DEMO_MIDI.parent
    logged_in(client, make_user("olga", role=Role.ORGANIZER))
    # three MIDI files in one input, a broken one among them: refused with its name, nothing stored
    bad = SimpleUploadedFile("broken.mid", b"MThd not really", content_type="audio/midi")
    response = client.post("/admin/challenges/challenge/add/", add_form(
        reference_upload=[_midi("a.mid"), bad, _midi("b.mid", demo / "chorale-r020-soprano.mid")]))
    assert response.status_code == 200
    assert "broken.mid:" in response.content.decode()
    assert not Challenge.objects.exists()
    assert not ReferenceFile.objects.exists()
    # the same without it: both stored, named after their files
    response = client.post("/admin/challenges/challenge/add/", add_form(
        reference_upload=[_midi("a.mid"), _midi("b.mid", demo / "chorale-r020-soprano.mid")]))
    assert response.status_code == 302, response.content.decode()[:3000]
    challenge = Challenge.objects.get(slug="spring-chorales")
    assert sorted(challenge.reference_files.values_list("name", flat=True)) == ["a", "b"]
    # then a zip of two more (folders and macOS litter ignored); a name already in the set is refused
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("set/c.mid", (demo / "chorale-r030-soprano.mid").read_bytes())
        archive.writestr("set/d.midi", DEMO_MIDI.read_bytes())
        archive.writestr("__MACOSX/set/._c.mid", b"x")
    change = {**add_form(**inline_management("reference_files")), "reference_upload": SimpleUploadedFile(
        "set.zip", buffer.getvalue(), content_type="application/zip")}
    change["reference_files-INITIAL_FORMS"] = "0"
    url = f"/admin/challenges/challenge/{challenge.pk}/change/"
    response = client.post(url, change)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert sorted(challenge.reference_files.values_list("name", flat=True)) == ["a", "b", "c", "d"]
    again = client.post(url, {**change, "reference_upload": _midi("a.mid")})
    assert "a.mid: the reference set already has a piece of that name" in again.content.decode()


def test_weak_held_out_families_are_flagged_on_the_card_and_in_the_admin(client, make_user):
    from evaluation.models import RealnessModel
    from evaluation.realness_card import weak_families_card

    metrics = {"auc": {"random_notes": 0.99, "shuffled_bars": 0.40, "shuffled_pitches": 0.69},
               "mean_realness": {"real": 0.8}, "n_test_pieces": 5}
    card = weak_families_card("# Realness discriminator\n\nA small CNN.", metrics)
    assert card.startswith("# Realness discriminator\n\n> **Weak: shuffled_bars 0.40, shuffled_pitches 0.69")
    assert weak_families_card("# Card", {"auc": {"random_notes": 0.99}}) == "# Card"  # nothing weak: unchanged
    organizer = make_user("olga", role=Role.ORGANIZER)
    challenge = ChallengeFactory()
    challenge.organizers.add(organizer)
    row = RealnessModel.objects.create(challenge=challenge, status=RealnessModel.Status.READY, progress=100,
                                       metrics=metrics, model_card="# Realness discriminator\n(stored before)")
    logged_in(client, organizer)
    page = client.get(f"/admin/challenges/challenge/{challenge.pk}/change/").content.decode()
    assert "Weak: shuffled_bars 0.40, shuffled_pitches 0.69 (held-out ROC AUC under 0.7)" in page
    assert "random_notes 0.99" not in page
    admin_user = make_user("admin", role=Role.ORGANIZER)
    admin_user.is_superuser = True
    admin_user.save()
    logged_in(client, admin_user)
    card_page = client.get(f"/admin/evaluation/realnessmodel/{row.pk}/change/").content.decode()
    assert "Weak: shuffled_bars 0.40" in card_page
