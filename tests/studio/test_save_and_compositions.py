"""Saving a version (or the edited piano roll) as a composition; My compositions: rename, delete, and one-click
entry in an open Melody-Go-Round challenge through the same intake (licence, quota)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import TestCase

from chartbusters.challenges.models import Challenge
from generation.services.jobs import job_create
from submissions.models import Composition, Submission
from tests.factories import ChallengeFactory
from tests.studio.conftest import midi_bytes, notes_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def done_job(users, media_root, sent):
    job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json())[0]
    job.output_midi.save("o.mid", ContentFile(midi_bytes(12, pitch=62)), save=False)
    job.status = "done"
    job.save()
    return job


def test_save_a_version_and_an_edited_roll(api, users, done_job):
    response = api("entrant").post("/api/studio/save/", {"title": "My piece", "job": done_job.pk}, format="multipart")
    assert response.status_code == 201, response.content
    composition = Composition.objects.get(pk=response.json()["id"])
    assert composition.owner == users["entrant"]
    assert composition.source == "studio"
    with composition.midi.open("rb") as fh:
        assert fh.read() == midi_bytes(12, pitch=62)
    done_job.refresh_from_db()
    assert done_job.saved
    assert done_job.composition_id == composition.pk
    edited = api("entrant").post("/api/studio/save/", {"title": "Edited", "notes": notes_json(4),
                                                       "job": done_job.pk}, format="multipart")
    assert edited.status_code == 201
    assert api("entrant").post("/api/studio/save/", {"title": " "}, format="multipart").status_code == 400
    assert api("entrant").post("/api/studio/save/", {"title": "x", "notes": notes_json()[:-3]},
                               format="multipart").status_code == 422
    assert api("other").post("/api/studio/save/", {"title": "mine?", "job": done_job.pk},
                             format="multipart").status_code == 404
    assert Composition.objects.filter(owner=users["other"]).count() == 0


def test_saving_an_unfinished_job_is_409(api, users, media_root, sent):
    job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json())[0]
    response = api("entrant").post("/api/studio/save/", {"title": "t", "job": job.pk}, format="multipart")
    assert response.status_code == 409


def _composition(owner, title="Piece"):
    from submissions.services.compositions import composition_create

    return composition_create(owner=owner, title=title, midi=midi_bytes(16), source="studio")


def test_rename_and_delete_own_compositions_only(client, users, media_root):
    mine = _composition(users["entrant"])
    client.force_login(users["other"])
    assert client.post(f"/compositions/{mine.pk}/rename/", {"title": "Stolen"}).status_code == 404
    assert client.post(f"/compositions/{mine.pk}/delete/").status_code == 404
    client.force_login(users["entrant"])
    response = client.post(f"/compositions/{mine.pk}/rename/", {"title": "  Renamed  "})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.title == "Renamed"
    assert client.post(f"/compositions/{mine.pk}/rename/", {"title": ""}).status_code == 422
    name = mine.midi.name
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(f"/compositions/{mine.pk}/delete/").status_code == 302
    assert not Composition.objects.filter(pk=mine.pk).exists()
    assert not mine.midi.storage.exists(name)


def test_one_click_submit_goes_through_the_intake(client, users, media_root, monkeypatch):
    queued = []
    monkeypatch.setattr("submissions.services.intake.send_task",
                        lambda name, *, args=(), queue, countdown=None: queued.append((name, queue)))
    challenge = ChallengeFactory(slug="mgr", kind=Challenge.Kind.MELODY_GO_ROUND, daily_quota=1, total_quota=5)
    ChallengeFactory(slug="harvest", kind=Challenge.Kind.MELODY_HARVEST)
    piece = _composition(users["entrant"], "Studio piece")
    client.force_login(users["entrant"])
    page = client.get("/compositions/").content.decode()
    assert "Submit to " + challenge.title in page
    assert "harvest" not in page.split("Upload one")[0].lower()
    refused = client.post(f"/compositions/{piece.pk}/submit/", {"challenge": "mgr"})
    assert refused.status_code == 422
    assert "Accept the licence" in refused.content.decode()
    response = client.post(f"/compositions/{piece.pk}/submit/", {"challenge": "mgr", "accept_licence": "on"})
    assert response.status_code == 302
    entry = Submission.objects.get()
    assert entry.title == "Studio piece"
    assert entry.composition == piece
    assert entry.licence == challenge.entry_licence
    assert queued == [("evaluation.score_submission", "scoring")]
    again = client.post(f"/compositions/{piece.pk}/submit/", {"challenge": "mgr", "accept_licence": "on"})
    assert again.status_code == 429  # the challenge's daily quota, as through the API
    assert Submission.objects.count() == 1
    client.force_login(users["other"])
    assert client.post(f"/compositions/{piece.pk}/submit/", {"challenge": "mgr", "accept_licence": "on"}
                       ).status_code == 404
