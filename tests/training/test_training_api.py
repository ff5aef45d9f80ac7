"""POST /api/trainings/ and its checks: the model, its TRAIN_PARAMS, the files (each checked as intake does; the
unusable ones listed, the rest used, or the whole run refused), every limit (files, total size, steps, runs per
user -> 429), nothing stored on a refusal; the run's body, cancel, the options, the access rules."""

from __future__ import annotations

import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from generation.engine.registry import get_spec, trainable_names
from generation.models import TrainingJob
from tests.training.conftest import (
    FOLK,
    TINY_PARAMS,
    folk_uploads,
    midi_bytes,
    params_json,
    stored_files,
    token_client,
    zip_upload,
)

pytestmark = pytest.mark.django_db


def post(api, who="entrant", **data):
    return api(who).post("/api/trainings/", data, format="multipart")


def test_a_run_is_stored_queued_on_the_training_queue_with_its_files(api, media_root, sent_trainings):
    response = post(api, model="arcnn", files=folk_uploads(4), params=params_json(TINY_PARAMS), name="My reels")
    assert response.status_code == 202, response.content
    body = response.json()
    job = TrainingJob.objects.get(pk=body["id"])
    assert body["status"] == "queued"
    assert job.name == "My reels"
    # users' runs have a queue of their own: they never wait behind a challenge's realness training ("training")
    assert sent_trainings == [("generation.train_model", (job.pk,), "user-training")]
    assert "user-training" in settings.CELERY_TASK_QUEUES_NAMES
    # a queued run says what it waits for
    waiting = api("entrant").get(f"/api/trainings/{job.pk}/").json()["waiting_for"]
    assert waiting.startswith("Waiting for a training worker to pick it up: no run is ahead")
    second = post(api, "other", model="arcnn", dataset="chorales", params=params_json(TINY_PARAMS)).json()
    waiting = api("other").get(f"/api/trainings/{second['id']}/").json()["waiting_for"]
    assert waiting.startswith("Waiting for a training worker: 1 run of users ahead of yours")
    assert body["files"]["used"] == [p.name for p in FOLK[:4]]
    assert body["files"]["refused"] == []
    assert job.params["steps"] == 3
    assert job.params["learning_rate"] > 0  # defaults filled in
    with job.data.open("rb") as fh, zipfile.ZipFile(fh) as archive:
        assert sorted(archive.namelist()) == sorted(p.name for p in FOLK[:4])
        assert archive.read(FOLK[0].name) == FOLK[0].read_bytes()


def test_a_corrupt_file_is_listed_and_the_rest_used(api, media_root, sent_trainings):
    broken = SimpleUploadedFile("broken.mid", b"MThd\x00\x00\x00\x06garbage", content_type="audio/midi")
    text = SimpleUploadedFile("notes.txt", b"not music", content_type="text/plain")
    response = post(api, model="arcnn", files=[*folk_uploads(3), broken, text], params=params_json(TINY_PARAMS))
    assert response.status_code == 202, response.content
    refused = {r["name"]: r["error"] for r in response.json()["files"]["refused"]}
    assert set(refused) == {"broken.mid", "notes.txt"}
    assert "not a readable Standard MIDI File" in refused["broken.mid"]
    assert "not a MIDI file" in refused["notes.txt"]
    assert len(response.json()["files"]["used"]) == 3


def test_too_few_usable_files_refuse_the_run_and_name_them(api, media_root, sent_trainings):
    broken = SimpleUploadedFile("broken.mid", b"garbage", content_type="audio/midi")
    response = post(api, model="arcnn", files=[*folk_uploads(2), broken], params=params_json(TINY_PARAMS))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "too_few_files"
    assert "broken.mid" in error["message"]
    assert "at least 3" in error["message"]
    assert TrainingJob.objects.count() == 0
    assert stored_files(media_root) == []
    assert sent_trainings == []


def test_a_zip_of_midi_files_is_opened_hidden_members_skipped(api, media_root, sent_trainings):
    members = {f"tunes/{p.name}": p.read_bytes() for p in FOLK[:3]}
    members["__MACOSX/._x.mid"] = b"junk"
    members["tunes/readme.md"] = b"hello"
    response = post(api, model="arcnn", files=[zip_upload(members)], params=params_json(TINY_PARAMS))
    assert response.status_code == 202, response.content
    files = response.json()["files"]
    assert files["used"] == [p.name for p in FOLK[:3]]
    assert [r["name"] for r in files["refused"]] == ["tunes/readme.md"]


def test_a_damaged_zip_is_refused(api, media_root, sent_trainings):
    bad = SimpleUploadedFile("tunes.zip", b"PK\x03\x04 not really", content_type="application/zip")
    response = post(api, model="arcnn", files=[bad])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bad_zip"


def test_the_gan_needs_files_with_accompaniment(api, media_root, sent_trainings):
    response = post(api, model="gan", files=folk_uploads(3))
    assert response.status_code == 422
    assert "at least 2" in response.json()["error"]["message"]
    assert get_spec("gan").MIN_TRAINING_TRACKS == 2


@pytest.mark.parametrize(("setting", "value", "files", "code", "status"), [
    ("TRAINING_MAX_FILES", 3, 4, "too_many_files", 413),
    ("TRAINING_MAX_UPLOAD_BYTES", 1000, 4, "too_large", 413),
])
def test_file_limits(api, media_root, sent_trainings, settings, setting, value, files, code, status):
    setattr(settings, setting, value)
    response = post(api, model="arcnn", files=folk_uploads(files), params=params_json(TINY_PARAMS))
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert TrainingJob.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_zip_that_would_unpack_past_the_limit_is_refused_before_unpacking(api, media_root, sent_trainings,
                                                                            settings):
    settings.TRAINING_MAX_UPLOAD_BYTES = 200_000
    bomb = zip_upload({f"t{i}.mid": b"\0" * 100_000 for i in range(3)})  # compresses to a few hundred bytes
    response = post(api, model="arcnn", files=[bomb])
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_file_over_the_midi_size_limit_is_listed(api, media_root, sent_trainings):
    huge = SimpleUploadedFile("huge.mid", b"MThd" + b"\0" * (2 * 1024 * 1024 + 10), content_type="audio/midi")
    response = post(api, model="arcnn", files=[*folk_uploads(3), huge], params=params_json(TINY_PARAMS))
    assert response.status_code == 202
    assert response.json()["files"]["refused"][0]["name"] == "huge.mid"
    assert "2 MiB" in response.json()["files"]["refused"][0]["error"]


def test_steps_over_the_platform_limit_are_refused(api, media_root, sent_trainings, settings):
    settings.TRAINING_MAX_STEPS = 50
    response = post(api, model="arcnn", files=folk_uploads(3), params=params_json({"steps": 51}))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_steps"
    assert "at most 50 steps" in response.json()["error"]["message"]


@pytest.mark.parametrize(("params", "code"), [
    ({"steps": 0}, "param_out_of_range"),
    ({"learning_rate": "fast"}, "bad_param_value"),
    ({"temperature": 1}, "unknown_param"),
    ({"start": "shipped", "model_size": 6}, "param_conflict"),
])
def test_bad_training_parameters_name_the_problem(api, media_root, sent_trainings, params, code):
    response = post(api, model="arcnn", files=folk_uploads(3), params=params_json(params))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert TrainingJob.objects.count() == 0
    assert stored_files(media_root) == []


def test_models_that_cannot_be_trained_and_missing_data_are_refused(api, media_root, sent_trainings):
    assert post(api, model="discriminator", dataset="chorales").json()["error"]["code"] == "unknown_model"
    assert post(api, model="arcnn").json()["error"]["code"] == "no_source"
    both = post(api, model="arcnn", dataset="chorales", files=folk_uploads(3))
    assert both.status_code == 400
    assert both.json()["error"]["code"] == "one_source"
    assert post(api, model="arcnn", dataset="essen").json()["error"]["code"] == "unknown_dataset"


def test_one_run_at_a_time_per_user_then_429(api, media_root, sent_trainings, settings):
    settings.TRAINING_MAX_RUNNING_PER_USER = 1
    assert post(api, model="arcnn", dataset="chorales").status_code == 202
    second = post(api, model="arcnn", files=folk_uploads(3))
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "too_many_running"
    assert int(second["Retry-After"]) > 0
    assert TrainingJob.objects.count() == 1
    assert len(stored_files(media_root)) == 0  # the chorales: no upload
    assert post(api, "other", model="arcnn", dataset="chorales").status_code == 202  # another user is not limited


def test_cancel_a_queued_run_deletes_its_files(api, media_root, sent_trainings):
    job_id = post(api, model="arcnn", files=folk_uploads(3)).json()["id"]
    assert stored_files(media_root)
    response = api("entrant").post(f"/api/trainings/{job_id}/cancel/")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    assert stored_files(media_root) == []
    again = api("entrant").post(f"/api/trainings/{job_id}/cancel/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "finished"


def test_a_run_is_its_owners_only(api, media_root, sent_trainings):
    job_id = post(api, model="arcnn", dataset="chorales").json()["id"]
    assert api("other").get(f"/api/trainings/{job_id}/").status_code == 404
    assert api("other").post(f"/api/trainings/{job_id}/cancel/").status_code == 404
    assert api(None).get(f"/api/trainings/{job_id}/").status_code in (401, 403)
    body = api("entrant").get(f"/api/trainings/{job_id}/").json()
    assert body["status"] == "queued"
    assert body["checkpoint"] is None
    assert body["metrics"] == {"step": [], "train_loss": [], "valid_loss": []}
    assert [r["id"] for r in api("entrant").get("/api/trainings/").json()["results"]] == [job_id]
    assert api("other").get("/api/trainings/").json()["results"] == []


def test_the_options_list_every_trainable_model_and_its_parameters(api):
    models = api("entrant").get("/api/trainings/options/").json()["models"]
    assert [m["name"] for m in models] == trainable_names()
    for model in models:
        names = [p["name"] for p in model["params"]]
        assert names == [p.name for p in get_spec(model["name"]).TRAIN_PARAMS]
        assert {"steps", "learning_rate", "batch_size", "model_size"} <= set(names)
        assert all(p["help"] and p["range"] for p in model["params"])


def test_uploading_through_the_train_page_form(client, users, media_root, sent_trainings):
    client.force_login(users["entrant"])
    page = client.get("/train/")
    assert page.status_code == 200
    for name in trainable_names():
        assert f'value="{name}"' in page.content.decode()
    response = client.post("/train/", {"model": "arcnn", "source": "files", "files": folk_uploads(3),
                                       "param-arcnn-steps": "5", "param-arcnn-learning_rate": ""})
    job = TrainingJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/train/{job.pk}/"
    assert job.params["steps"] == 5
    run_page = client.get(response["Location"]).content.decode()
    settings_line = run_page.split('id="settings">')[1].split("</span>")[0]
    assert "steps 5" in settings_line  # readable text, not JSON
    assert not set(settings_line) & set('{}"'), settings_line
    assert "&quot;" not in settings_line
    refused = client.post("/train/", {"model": "arcnn", "source": "files", "files": [midi_bytes_upload()]})
    assert refused.status_code == 429  # one run at a time; the page says so
    assert "at once" in refused.content.decode()


def midi_bytes_upload():
    return SimpleUploadedFile("one.mid", midi_bytes(), content_type="audio/midi")


def test_pages_are_their_owners_only_and_runs_in_the_admin_for_superusers(client, users, make_user, media_root,
                                                                         sent_trainings):
    from chartbusters.accounts.roles import Role

    job_id = post(lambda who: token_client(users[who]), model="arcnn", dataset="chorales").json()["id"]
    assert client.get("/train/").status_code == 302
    assert client.get("/models/").status_code == 302  # log in first
    client.force_login(users["other"])
    assert client.get(f"/train/{job_id}/").status_code == 404
    client.force_login(users["entrant"])
    page = client.get(f"/train/{job_id}/")
    assert page.status_code == 200
    assert b"loss-chart" in page.content
    assert b"/learn/training/" in page.content
    assert b"No models yet" in client.get("/models/").content
    client.force_login(make_user("orga", role=Role.ORGANIZER))
    assert client.get("/admin/generation/trainingjob/").status_code == 403
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    assert client.get(f"/admin/generation/trainingjob/{job_id}/change/").status_code == 200


def test_a_zip_of_many_hidden_members_is_refused_before_it_is_parsed(api, media_root, sent_trainings):
    """Issue 24: 200,000 dot-named members cost 4.5 s and 127 MB per request, counted only after they were
    dropped. Every member counts now, read from the zip's end record before zipfile parses any member."""
    import io

    from generation.services.training import zip_member_count

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(20_000):
            archive.writestr(f".{i}", b"")
    data = buffer.getvalue()
    assert zip_member_count(data) == 20_000
    response = post(api, model="arcnn", files=[SimpleUploadedFile("tunes.zip", data, content_type="application/zip")],
                    params=params_json(TINY_PARAMS))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_many_files"
    assert "20,000 members" in response.json()["error"]["message"]  # its time: benchmarks/limits.py


def test_zip64_member_counts_are_read_too():
    import io

    from generation.services.training import zip_member_count

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(70_000):  # more than 65,535: the end record says 0xFFFF and Zip64 holds the count
            archive.writestr(f"{i}", b"")
    assert zip_member_count(buffer.getvalue()) == 70_000


def test_up_to_200_training_files_pass_django_upload_count(api, media_root, sent_trainings, settings):
    """Issue 24: 101-200 files got Django's "DATA_UPLOAD_MAX_NUMBER_FILES exceeded" although the limit says 200."""
    def files(n):
        return [SimpleUploadedFile(f"f{i}.txt", b"x", content_type="text/plain") for i in range(n)]

    response = post(api, model="arcnn", files=files(settings.TRAINING_MAX_FILES), params=params_json(TINY_PARAMS))
    assert response.status_code == 422  # past Django's count: every file refused as not MIDI, by the service
    assert response.json()["error"]["code"] == "too_few_files"
    response = post(api, model="arcnn", files=files(settings.TRAINING_MAX_FILES + 1), params=params_json(TINY_PARAMS))
    assert response.status_code == 413, response.content
    assert response.json()["error"]["code"] == "too_many_files"
