"""Melody-Go-Round intake through the API: accepted entries are queued; every refusal leaves no row and no file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from generation.engine.midi_io import MAX_MIDI_BYTES
from submissions.models import Composition, Submission
from submissions.services import intake
from submissions.services.errors import EntryRefusedError
from submissions.services.intake import (
    LICENCE_NOT_ACCEPTED_MESSAGE,
    ONE_SOURCE_MESSAGE,
    submission_create_composition,
)
from tests.submissions.conftest import midi_bytes, stored_files

pytestmark = pytest.mark.django_db


def url(slug: str = "mgr") -> str:
    return f"/api/challenges/{slug}/submissions/"


def upload(data: bytes, name: str = "tune.mid") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="audio/midi")


def post_midi(client, data: bytes, slug: str = "mgr", **extra):
    fields = {"title": "Morning song", "description": "A small tune.", "accept_licence": "true",
              "composition": upload(data), **extra}
    return client.post(url(slug), fields, format="multipart")


def test_accepted_entry_is_queued_for_scoring(api, mgr, users, media_root, django_capture_on_commit_callbacks,
                                              monkeypatch):
    sent = []
    monkeypatch.setattr("chartbusters.celery.app.send_task", lambda name, **kw: sent.append((name, kw)))
    with django_capture_on_commit_callbacks(execute=True):
        response = post_midi(api("entrant"), midi_bytes())
    assert response.status_code == 202, response.content
    submission = Submission.objects.get()
    assert response.json() == {"id": submission.pk, "status": "queued"}
    assert submission.entrant == users["entrant"]
    assert submission.kind == Submission.Kind.COMPOSITION
    assert submission.licence == mgr.entry_licence
    assert submission.description == "A small tune."
    assert submission.midi.read() == midi_bytes()
    assert sent == [("evaluation.score_submission", {"args": (submission.pk,), "queue": "scoring", "countdown": None})]


def test_saved_composition_can_be_entered(api, mgr, users, media_root):
    composition = Composition.objects.create(owner=users["entrant"], title="Saved",
                                             midi=SimpleUploadedFile("saved.mid", midi_bytes(12)))
    response = api("entrant").post(url(), {"title": "From my list", "accept_licence": "true",
                                           "composition_id": composition.pk}, format="multipart")
    assert response.status_code == 202, response.content
    submission = Submission.objects.get()
    assert submission.composition == composition
    assert submission.midi.read() == midi_bytes(12)


def test_another_entrants_composition_is_refused(api, mgr, users, media_root):
    composition = Composition.objects.create(owner=users["other"], title="Not yours",
                                             midi=SimpleUploadedFile("x.mid", midi_bytes()))
    before = stored_files(media_root)
    response = api("entrant").post(url(), {"title": "Stolen", "accept_licence": "true",
                                           "composition_id": composition.pk}, format="multipart")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "composition_not_found"
    assert not Submission.objects.exists()
    assert stored_files(media_root) == before


REFUSALS = [
    pytest.param(b"\0" * (MAX_MIDI_BYTES + 1), {}, 413, "too_large", id="too-large"),
    pytest.param(b"this is not a midi file", {}, 422, "not_midi", id="not-midi"),
    pytest.param(b"MThd\x00\x00\x00\x06garbage", {}, 422, "not_midi", id="corrupt-midi"),
    pytest.param(None, {"accept_licence": "false"}, 422, "licence_not_accepted", id="licence"),
    pytest.param(None, {"title": "   "}, 400, "invalid", id="blank-title"),
]


@pytest.mark.parametrize(("data", "extra", "status", "code"), REFUSALS)
def test_refusal_leaves_no_row_and_no_file(api, mgr, media_root, data, extra, status, code):
    response = post_midi(api("entrant"), data if data is not None else midi_bytes(), **extra)
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code
    assert body["message"]
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_too_many_notes_is_refused_naming_the_limit(api, mgr, media_root):
    response = post_midi(api("entrant"), midi_bytes(n_notes=20_001))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_notes"
    assert "20,000" in response.json()["error"]["message"]
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_drum_only_midi_is_refused(api, mgr, media_root):
    import io

    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(velocity=100, pitch=36, start=0, end=0.5))
    pm.instruments.append(drums)
    buffer = io.BytesIO()
    pm.write(buffer)
    response = post_midi(api("entrant"), buffer.getvalue())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_notes"
    assert not Submission.objects.exists()


def test_licence_message_names_the_licence(api, mgr, media_root):
    response = post_midi(api("entrant"), midi_bytes(), accept_licence="false")
    assert response.json()["error"]["message"] == LICENCE_NOT_ACCEPTED_MESSAGE.format(licence="CC BY 4.0")


def test_file_and_saved_composition_together_are_refused(users, mgr, media_root):
    composition = Composition.objects.create(owner=users["entrant"], title="Saved",
                                             midi=SimpleUploadedFile("saved.mid", midi_bytes()))
    files_before = stored_files(media_root)
    with pytest.raises(EntryRefusedError) as exc:
        submission_create_composition(challenge=mgr, entrant=users["entrant"], title="Both", licence_accepted=True,
                                      midi_file=upload(midi_bytes()), composition_id=composition.pk)
    assert (exc.value.status, exc.value.message) == (422, ONE_SOURCE_MESSAGE)
    assert not Submission.objects.exists()
    assert stored_files(media_root) == files_before


def test_no_file_at_all_is_refused(api, mgr, media_root):
    response = api("entrant").post(url(), {"title": "Nothing", "accept_licence": "true"}, format="multipart")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_entry_file"


def test_stored_file_is_deleted_when_the_transaction_fails(users, mgr, media_root, monkeypatch):
    """A failure after the file is stored (here: queueing the task) rolls the row back and deletes the file."""

    def broken_send_task(*args, **kwargs):
        raise RuntimeError("broker refused the message")

    monkeypatch.setattr(intake, "send_task", broken_send_task)
    with pytest.raises(RuntimeError):
        submission_create_composition(challenge=mgr, entrant=users["entrant"], title="Doomed",
                                      licence_accepted=True, midi_file=upload(midi_bytes()))
    assert not Submission.objects.exists()
    assert stored_files(media_root) == []


def test_entry_timestamps_and_counting(users, mgr, media_root):
    submission = submission_create_composition(challenge=mgr, entrant=users["entrant"], title="T",
                                               licence_accepted=True, midi_file=upload(midi_bytes()))
    assert submission.status == Submission.Status.QUEUED
    assert submission.progress == 0
    assert submission.counts_against_quota is True
    assert abs(submission.created_at - timezone.now()) < timedelta(seconds=30)
