"""POST /api/generate/ and GET /api/jobs/{id}/ (docs/design.md §7): 202, the error statuses, limits, ownership."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from generation.models import GenerationJob
from generation.services.jobs import job_create
from tests.studio.conftest import midi_bytes, midi_upload, notes_json, stored_files

pytestmark = pytest.mark.django_db


def _post(client, **fields):
    fields.setdefault("model", "arcnn")
    return client.post("/api/generate/", fields, format="multipart")


def test_generate_answers_202_and_queues_one_job_on_the_generation_queue(api, media_root, sent):
    response = _post(api("entrant"), input=midi_upload(), params=json.dumps({"iterations": 20, "seed": 7}))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    job = GenerationJob.objects.get(pk=body["id"])
    assert job.model_name == "arcnn"
    assert job.seed == 7
    assert job.params["iterations"] == 20
    assert "seed" not in job.params  # the seed is the job's own field
    assert sent == [("generation.run_job", (job.pk,), "generation")]
    detail = api("entrant").get(f"/api/jobs/{job.pk}/").json()
    assert {k: detail[k] for k in ("id", "status", "progress", "error", "output_midi_url", "audio_url")} == {
        "id": job.pk, "status": "queued", "progress": 0, "error": "", "output_midi_url": None, "audio_url": None}
    assert detail["input_midi_url"].startswith("/files/job-input/")


def test_variations_get_their_own_jobs_and_seeds(api, media_root, sent):
    body = _post(api("entrant"), notes=notes_json(), variations=4, params=json.dumps({"seed": 100})).json()
    assert [j["variation"] for j in body["jobs"]] == [1, 2, 3, 4]
    assert [j["seed"] for j in body["jobs"]] == [100, 101, 102, 103]
    assert len({GenerationJob.objects.get(pk=j["id"]).batch for j in body["jobs"]}) == 1
    assert len(sent) == 4


def test_random_seeds_differ(api, media_root, sent):
    body = _post(api("entrant"), notes=notes_json(), variations=3).json()
    assert len({j["seed"] for j in body["jobs"]}) == 3


@pytest.mark.parametrize(("fields", "status", "code", "words"), [
    ({"model": "nope"}, 400, "unknown_model", "arcnn"),
    ({"model": "discriminator"}, 400, "unknown_model", "Choose a model"),
    ({"params": json.dumps({"temperature": 99})}, 400, "param_out_of_range", "'temperature' must be between 0.5 and 6"),
    ({"params": json.dumps({"loudness": 3})}, 400, "unknown_param", "loudness"),
    ({"params": "[1, 2]"}, 400, "invalid_params", "JSON object"),
    ({}, 400, "no_input", "Send the music"),
    ({"variations": 5}, 400, "invalid", "variations"),
    ({"notes": "{}"}, 422, "invalid_notes", "`tracks`"),
    ({"input": "NOT-A-FILE-PART"}, 400, "invalid", "input"),
])
def test_bad_requests_are_4xx_naming_the_problem_and_store_nothing(api, media_root, sent, fields, status, code,
                                                                     words):
    response = _post(api("entrant"), **fields)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert words in error["message"]
    assert not GenerationJob.objects.exists()
    assert stored_files(media_root) == []
    assert sent == []


def test_a_file_that_is_not_midi_is_422_and_too_large_is_413(api, media_root, sent):
    response = _post(api("entrant"), input=midi_upload(b"MThd garbage"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_midi"
    big = midi_upload(b"MThd" + b"\0" * (2 * 1024 * 1024 + 10))
    response = _post(api("entrant"), input=big)
    assert response.status_code == 413
    assert "2 MiB" in response.json()["error"]["message"]
    assert not GenerationJob.objects.exists()
    assert stored_files(media_root) == []


def test_input_and_notes_together_are_refused(api, media_root, sent):
    response = _post(api("entrant"), input=midi_upload(), notes=notes_json())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "one_input"


def test_anonymous_is_401_and_another_users_job_is_404(api, users, media_root, sent):
    assert _post(api(None), notes=notes_json()).status_code == 401
    job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json())[0]
    assert api(None).get(f"/api/jobs/{job.pk}/").status_code == 401
    response = api("other").get(f"/api/jobs/{job.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api("other").get(f"/api/jobs/{job.pk}/notes/").status_code == 404
    assert api("entrant").get("/api/jobs/99999999/").status_code == 404
    assert api("entrant").get(f"/api/jobs/{2**70}/").status_code == 404
    assert api("other").get("/api/jobs/").json()["results"] == []
    # another user's job cannot be the parent of one's own
    response = _post(api("other"), parent=job.pk)
    assert response.status_code == 404


def test_chaining_takes_the_parents_result(api, users, media_root, sent):
    parent = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json())[0]
    response = _post(api("entrant"), parent=parent.pk)
    assert response.status_code == 409
    assert "no result" in response.json()["error"]["message"]
    parent.output_midi.save("out.mid", ContentFile(midi_bytes(8, pitch=64)), save=False)
    parent.status = GenerationJob.Status.DONE
    parent.save()
    body = _post(api("entrant"), parent=parent.pk).json()
    child = GenerationJob.objects.get(pk=body["id"])
    assert child.parent_id == parent.pk
    with child.input_midi.open("rb") as fh:
        assert fh.read() == midi_bytes(8, pitch=64)


def test_running_jobs_limit_is_429_with_retry_after(api, media_root, sent, settings):
    settings.STUDIO_MAX_RUNNING_JOBS = 2
    assert _post(api("entrant"), notes=notes_json(), variations=2).status_code == 202
    response = _post(api("entrant"), notes=notes_json())
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_running"
    assert "try again in about 15 seconds" in response.json()["error"]["message"]
    assert int(response["Retry-After"]) > 0
    assert GenerationJob.objects.count() == 2
    assert _post(api("other"), notes=notes_json()).status_code == 202  # per user


def test_jobs_per_hour_limit_says_when_to_retry(api, users, media_root, sent, settings):
    settings.STUDIO_JOBS_PER_HOUR = 3
    settings.STUDIO_MAX_RUNNING_JOBS = 10
    assert _post(api("entrant"), notes=notes_json(), variations=3).status_code == 202
    GenerationJob.objects.update(created_at=timezone.now() - timedelta(minutes=50))
    response = _post(api("entrant"), notes=notes_json())
    assert response.status_code == 429
    message = response.json()["error"]["message"]
    assert "3 generations in the last hour" in message
    assert "Try again in 10 minutes" in message
    assert 540 <= int(response["Retry-After"]) <= 601
    GenerationJob.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert _post(api("entrant"), notes=notes_json()).status_code == 202


def test_generation_rate_limit_applies(api, media_root, sent, settings):
    settings.RATE_LIMIT_GENERATE = "2/1h"
    settings.STUDIO_MAX_RUNNING_JOBS = 10
    for _ in range(2):
        assert _post(api("entrant"), notes=notes_json()).status_code == 202
    response = _post(api("entrant"), notes=notes_json())
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in response


def test_model_catalog_lists_every_registered_generator_with_its_parameters(api):
    models = api("entrant").get("/api/studio/models/").json()
    arcnn = next(m for m in models if m["name"] == "arcnn")
    assert arcnn["description"]
    temperature = next(p for p in arcnn["params"] if p["name"] == "temperature")
    assert temperature["range"] == "0.5-6"
    assert temperature["default"] == 1.0
    assert temperature["help"]
    assert temperature["kind"] == "number"
    assert temperature["min"] == 0.5
    assert temperature["max"] == 6
    seed = next(p for p in arcnn["params"] if p["name"] == "seed")
    assert seed["range"] == "0-4294967295"  # whole numbers in full, not 0-4.29497e+09
    programs = next(p for m in models for p in m["params"] if p["kind"] == "programs")
    assert programs["instruments"][0] == "Acoustic Grand Piano"  # named General MIDI instruments for the form
    assert programs["instruments"][48] == "String Ensemble 1"
    assert len(programs["instruments"]) == 128


def test_a_newly_registered_model_appears_with_no_studio_change(api, media_root, sent):
    from generation.engine import registry

    registry.register("tiny", "tests.engine.tiny_model.spec")
    try:
        names = [m["name"] for m in api("entrant").get("/api/studio/models/").json()]
        assert "tiny" in names
        assert _post(api("entrant"), model="tiny", notes=notes_json()).status_code == 202
    finally:
        registry.unregister("tiny")


def test_notes_endpoint_reads_uploads_and_samples(api, media_root):
    body = api("entrant").post("/api/studio/notes/", {"input": midi_upload()}, format="multipart").json()
    assert body["tracks"][0]["notes"][0] == [60, 0, 4, 90] or body["tracks"][0]["notes"][0][:2] == [60, 0]
    sample = api("entrant").post("/api/studio/notes/", {"sample": "ode-to-joy"}, format="multipart")
    assert sample.status_code == 200
    assert sample.json()["tracks"][0]["notes"][0][0] == 64
    assert api("entrant").post("/api/studio/notes/", {"sample": "nope"}, format="multipart").status_code == 400
    bad = api("entrant").post("/api/studio/notes/", {"input": midi_upload(b"junk")}, format="multipart")
    assert bad.status_code == 422
    assert stored_files(media_root) == []


def test_any_versions_notes_come_back_as_a_midi_file(api):
    from generation.engine.midi_io import load_midi
    from generation.notes import midi_to_notes

    notes = notes_json(8, tempo=90)
    response = api("entrant").post("/api/studio/midi/", {"notes": notes, "title": "v3 my tune!"},
                                   format="multipart")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/midi"
    assert response["Content-Disposition"] == 'attachment; filename="v3-my-tune.mid"'
    back = midi_to_notes(load_midi(response.content))
    assert back["tracks"][0]["notes"] == json.loads(notes)["tracks"][0]["notes"]  # note for note
    assert round(back["tempo"]) == 90
    bad = api("entrant").post("/api/studio/midi/", {"notes": '{"tempo": 0}'}, format="multipart")
    assert bad.status_code == 400
    assert bad.json()["error"]["message"]
    assert api(None).post("/api/studio/midi/", {"notes": notes}, format="multipart").status_code in (401, 403)


def test_each_account_has_a_budget_of_model_seconds_per_hour(api, media_root, sent, settings):
    """Issue 24: four variations of a slow checkpoint each ran the full 60 s; 60 jobs an hour were an hour of a
    worker's time. Now each account has STUDIO_MODEL_SECONDS_PER_HOUR of worker time an hour."""
    settings.STUDIO_MODEL_SECONDS_PER_HOUR = 120
    settings.STUDIO_MAX_RUNNING_JOBS = 10
    assert _post(api("entrant"), notes=notes_json(), variations=2).status_code == 202
    now = timezone.now()
    GenerationJob.objects.update(status="done", started_at=now - timedelta(seconds=70), finished_at=now)
    response = _post(api("entrant"), notes=notes_json())
    assert response.status_code == 429
    body = response.json()["error"]
    assert body["code"] == "model_time_budget"
    assert "140 s of model time in the last hour" in body["message"]
    assert "120 s an hour" in body["message"]
    assert 0 < int(response["Retry-After"]) <= 3600
    assert _post(api("other"), notes=notes_json()).status_code == 202  # per account
    GenerationJob.objects.update(started_at=now - timedelta(hours=2), finished_at=now - timedelta(minutes=61))
    assert _post(api("entrant"), notes=notes_json()).status_code == 202


# ---------------------------------------------------------------- the key control (issue 25): the job runs in that key
def _input_of(job_id: int):
    from generation.engine.midi_io import load_midi

    with GenerationJob.objects.get(pk=job_id).input_midi.open("rb") as fh:
        return load_midi(fh.read())


def test_the_key_reaches_the_job_as_its_inputs_key_signature(api, users, media_root, sent):
    from generation.engine.keys import key_of

    body = _post(api("entrant"), notes=notes_json(), key="D major").json()
    assert key_of(_input_of(body["id"])) == (2, "major")
    notes = api("entrant").get(f"/api/jobs/{body['id']}/notes/").json()
    assert notes["input"]["key"] == "D major"
    # an uploaded file's own key signature gives way to the chosen key; a parent's result is put in it too
    upload = _post(api("entrant"), input=midi_upload(), key="Bb minor").json()
    assert [k.key_number for k in _input_of(upload["id"]).key_signature_changes] == [22]
    parent = GenerationJob.objects.get(pk=upload["id"])
    parent.output_midi.save("out.mid", ContentFile(midi_bytes(8, pitch=64)), save=False)
    parent.status = GenerationJob.Status.DONE
    parent.save()
    child = _post(api("entrant"), parent=parent.pk, key="E major").json()
    assert key_of(_input_of(child["id"])) == (4, "major")


def test_without_a_key_the_input_keeps_its_own(api, media_root, sent):
    plain = _post(api("entrant"), notes=notes_json(), key="").json()
    assert _input_of(plain["id"]).key_signature_changes == []
    stated = json.loads(notes_json())
    stated["key"] = "A minor"  # the piano roll's notes may state a key (a version made in one)
    body = _post(api("entrant"), notes=json.dumps(stated)).json()
    assert [k.key_number for k in _input_of(body["id"]).key_signature_changes] == [21]


def test_the_gans_generated_soprano_takes_the_jobs_key_unless_its_params_name_one(api, media_root, sent):
    body = _post(api("entrant"), model="gan", notes=notes_json(), key="F# minor").json()
    assert GenerationJob.objects.get(pk=body["id"]).params["key"] == "F# minor"
    own = _post(api("entrant"), model="gan", notes=notes_json(), key="F# minor",
                params=json.dumps({"key": "C major"})).json()
    assert GenerationJob.objects.get(pk=own["id"]).params["key"] == "C major"


@pytest.mark.parametrize("key", ["H major", "D", "d major"])
def test_an_unknown_key_is_400_naming_the_choices(api, media_root, sent, key):
    response = _post(api("entrant"), notes=notes_json(), key=key)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_key"
    assert "one of the 24 keys" in error["message"]
    assert repr(key) in error["message"]
    assert not GenerationJob.objects.exists()
    bad_notes = json.loads(notes_json())
    bad_notes["key"] = key
    response = _post(api("entrant"), notes=json.dumps(bad_notes))
    assert response.status_code == 422
    assert "one of the 24 keys" in response.json()["error"]["message"]
