"""Who may enter, when, and with which kind of entry: API and entry page (the permission matrix)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from submissions.models import Submission
from submissions.services.windows import CLOSED_MESSAGE, JUDGE_MESSAGE, NOT_OPEN_YET_MESSAGE, ORGANIZER_MESSAGE
from tests.conftest import TEST_PASSWORD
from tests.submissions.conftest import midi_bytes, stored_files

pytestmark = pytest.mark.django_db


def post_midi(client, slug="mgr"):
    return client.post(f"/api/challenges/{slug}/submissions/", {
        "title": "Tune", "accept_licence": "true",
        "composition": SimpleUploadedFile("t.mid", midi_bytes(), content_type="audio/midi"),
    }, format="multipart")


@pytest.mark.parametrize(("who", "status", "code"), [
    (None, 401, "not_authenticated"),
    ("judge", 403, "judge"),
    ("organizer", 403, "organizer"),
    ("entrant", 202, None),
    ("other", 202, None),
])
def test_api_permission_matrix(api, mgr, media_root, who, status, code):
    response = post_midi(api(who))
    assert response.status_code == status, response.content
    if code:
        assert response.json()["error"]["code"] == code
        assert not Submission.objects.exists()
        assert stored_files(media_root) == []
    else:
        assert Submission.objects.count() == 1


def test_anonymous_gets_a_token_challenge_header(api, mgr, media_root):
    response = post_midi(api(None))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_judge_and_organizer_messages_name_the_challenge(api, mgr, media_root):
    assert post_midi(api("judge")).json()["error"]["message"] == JUDGE_MESSAGE.format(title=mgr.title)
    assert post_midi(api("organizer")).json()["error"]["message"] == ORGANIZER_MESSAGE.format(title=mgr.title)


def test_before_opening_is_refused(api, mgr, media_root):
    mgr.opens_at = timezone.now() + timedelta(hours=2)
    mgr.save()
    response = post_midi(api("entrant"))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "not_open", "message": NOT_OPEN_YET_MESSAGE.format(title=mgr.title, opens_at=mgr.opens_at)}
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_after_closing_is_refused(api, mgr, media_root):
    mgr.closes_at = timezone.now() - timedelta(seconds=1)
    mgr.save()
    response = post_midi(api("entrant"))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "closed", "message": CLOSED_MESSAGE.format(title=mgr.title, closes_at=mgr.closes_at)}
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_unknown_or_unpublished_challenge_is_404(api, mgr, media_root):
    assert post_midi(api("entrant"), slug="nope").status_code == 404
    mgr.published = False
    mgr.save()
    response = post_midi(api("entrant"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_midi_to_melody_harvest_is_refused_naming_the_kind(api, harvest, media_root):
    response = post_midi(api("entrant"), slug="harvest")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "wrong_kind"
    assert "model checkpoint" in error["message"]
    assert "composition" in error["message"]
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_checkpoint_to_melody_go_round_is_refused_naming_the_kind(api, mgr, media_root):
    response = api("entrant").post("/api/challenges/mgr/submissions/", {
        "title": "Model", "accept_licence": "true", "model_card": "trained on chorales for an hour on a cpu",
        "checkpoint": SimpleUploadedFile("model.safetensors", b"\0" * 64),
        "config": SimpleUploadedFile("config.json", b'{"architecture": "arcnn", "config": {}}'),
    }, format="multipart")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "wrong_kind"
    assert "Melody-Go-Round" in error["message"]
    assert "checkpoint" in error["message"]
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


# The entry page ---------------------------------------------------------------------------------------------


def page_client(user) -> Client:
    client = Client()
    if user is not None:
        assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


@pytest.mark.parametrize(("who", "status"), [
    (None, 302), ("judge", 403), ("organizer", 403), ("entrant", 200), ("other", 200),
])
def test_entry_page_permission_matrix(users, mgr, who, status):
    response = page_client(users[who] if who else None).get("/challenges/mgr/submit/")
    assert response.status_code == status
    if who is None:
        assert "/accounts/login/" in response["Location"]


def test_entry_page_states_quota_usage(users, mgr, media_root):
    client = page_client(users["entrant"])
    body = client.get("/challenges/mgr/submit/").content.decode()
    assert "0 of 2 today (resets 00:00 UTC), 0 of 3 in all" in body
    assert "CC BY 4.0" in body
    response = client.post("/challenges/mgr/submit/", {
        "title": "Via the form", "description": "", "accept_licence": "on",
        "midi_file": SimpleUploadedFile("f.mid", midi_bytes(), content_type="audio/midi"),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    submission = Submission.objects.get()
    assert response["Location"].endswith(f"/submissions/{submission.pk}/")
    assert "1 of 2 today (resets 00:00 UTC), 1 of 3 in all" in client.get("/challenges/mgr/submit/").content.decode()


def test_entry_page_shows_refusals_and_stores_nothing(users, mgr, media_root):
    client = page_client(users["entrant"])
    response = client.post("/challenges/mgr/submit/", {
        "title": "Bad", "accept_licence": "on", "midi_file": SimpleUploadedFile("f.mid", b"not midi"),
    })
    assert response.status_code == 422
    assert "not a readable Standard MIDI File" in response.content.decode()
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_entry_page_offers_only_own_compositions(users, mgr, media_root):
    from submissions.models import Composition

    mine = Composition.objects.create(owner=users["entrant"], title="Mine one",
                                      midi=SimpleUploadedFile("a.mid", midi_bytes()))
    Composition.objects.create(owner=users["other"], title="Theirs one", midi=SimpleUploadedFile("b.mid", midi_bytes()))
    body = page_client(users["entrant"]).get("/challenges/mgr/submit/").content.decode()
    assert "Mine one" in body
    assert "Theirs one" not in body
    response = page_client(users["entrant"]).post("/challenges/mgr/submit/", {
        "title": "Saved", "accept_licence": "on", "composition": mine.pk})
    assert response.status_code == 302
    assert Submission.objects.get().composition == mine


def test_harvest_entry_page_asks_for_weights_config_and_model_card(users, harvest):
    body = page_client(users["entrant"]).get("/challenges/harvest/submit/").content.decode()
    for field in ('name="checkpoint"', 'name="config"', 'name="model_card"', 'name="accept_licence"'):
        assert field in body


# Saved compositions ---------------------------------------------------------------------------------------------


def test_compositions_page_uploads_and_lists_only_own(users, media_root):
    from submissions.models import Composition

    assert page_client(None).get("/compositions/").status_code == 302
    client = page_client(users["entrant"])
    response = client.post("/compositions/", {"title": "Sketch",
                                              "midi_file": SimpleUploadedFile("s.mid", midi_bytes())})
    assert response.status_code == 302
    saved = Composition.objects.get()
    assert (saved.owner, saved.title, saved.source) == (users["entrant"], "Sketch", "upload")
    assert "Sketch" in client.get("/compositions/").content.decode()
    assert "Sketch" not in page_client(users["other"]).get("/compositions/").content.decode()


def test_compositions_page_refuses_bad_midi_and_stores_nothing(users, media_root):
    from submissions.models import Composition

    response = page_client(users["entrant"]).post("/compositions/", {
        "title": "Bad", "midi_file": SimpleUploadedFile("s.mid", b"MThd broken")})
    assert response.status_code == 422
    assert not Composition.objects.exists()
    assert stored_files(media_root) == []
