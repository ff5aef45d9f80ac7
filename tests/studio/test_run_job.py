"""The task ``generation.run_job`` through the real pipeline (the shipped AR-CNN) on a short melody: done with a
MIDI result and audio (MP3 by default, WAV when set), served with long-lived caching headers; a
duplicate delivery does nothing; failures say why."""

from __future__ import annotations

import json

import pytest
import soundfile

from generation.engine.midi_io import load_midi
from generation.models import GenerationJob
from generation.services.jobs import job_create
from generation.services.running import job_run
from generation.tasks import run_job
from tests.studio.conftest import notes_json

pytestmark = pytest.mark.django_db


def test_the_shipped_arcnn_runs_a_job_to_done_with_midi_and_audio(users, media_root, sent, api, tmp_path):
    job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json(16),
                     params={"iterations": 30, "seed": 3})[0]
    run_job.apply(args=(job.pk,))  # the task itself, in process
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.progress == 100
    assert job.finished_at
    assert job.seconds > 0
    with job.output_midi.open("rb") as fh:
        out = load_midi(fh.read())
    assert sum(len(i.notes) for i in out.instruments) > 0
    audio_path = tmp_path / f"a.{job.audio.name.rsplit('.', 1)[-1]}"
    with job.audio.open("rb") as fh:
        audio_path.write_bytes(fh.read())
    assert soundfile.info(str(audio_path)).duration > 7  # 16 quarter notes at 120 bpm = 8 s
    detail = api("entrant").get(f"/api/jobs/{job.pk}/").json()
    assert detail["status"] == "done"
    assert detail["adjustments"] == []  # nothing in this input had to change (lyrics after the end would)
    assert detail["output_midi_url"]
    assert detail["audio_url"]
    assert job.audio.name.endswith(".mp3")  # the default: a compressed format (about 1/19 of WAV's bytes)
    for url in (detail["output_midi_url"], detail["audio_url"]):
        response = api("entrant").get(url)
        assert response.status_code == 200
        # a job's files never change: the browser keeps them (only for this user) and never asks again
        assert response["Cache-Control"] == "private, max-age=31536000, immutable"
        assert api("other").get(url).status_code == 404
        assert api(None).get(url).status_code == 404
    notes = api("entrant").get(detail["notes_url"]).json()
    assert notes["input"]["tracks"][0]["notes"]
    assert notes["output"]["tracks"][0]["notes"]


def test_mp3_by_default_and_wav_when_set(users, media_root, sent, settings):
    heads = {}
    for fmt in ("mp3", "wav"):
        settings.STUDIO_AUDIO_FORMAT = fmt
        job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json(8),
                         params={"iterations": 2})[0]
        job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.audio.name.endswith("." + fmt)
        with job.audio.open("rb") as fh:
            heads[fmt] = (fh.read(4), job.audio.size)
    assert heads["mp3"][0][:3] == b"ID3" or heads["mp3"][0][:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
    assert heads["wav"][0] == b"RIFF"
    assert heads["mp3"][1] * 8 < heads["wav"][1]


def test_the_same_seed_gives_the_same_result(users, media_root, sent):
    outputs = []
    for _ in range(2):
        job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json(8),
                         params={"iterations": 10, "seed": 11})[0]
        job_run(job_id=job.pk)
        job.refresh_from_db()
        with job.output_midi.open("rb") as fh:
            outputs.append(fh.read())
    assert outputs[0] == outputs[1]


def test_a_duplicate_delivery_does_nothing(users, media_root, sent):
    job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json(8), params={"iterations": 1})[0]
    GenerationJob.objects.filter(pk=job.pk).update(status="failed", error="reaped")
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "reaped"
    assert not job.output_midi
    job_run(job_id=987654)  # deleted meanwhile: nothing to do, no error


def test_an_engine_refusal_fails_the_job_with_its_reason(users, media_root, sent, monkeypatch):
    from generation.engine.errors import GenerationTimeoutError

    def too_slow(*args, **kwargs):
        raise GenerationTimeoutError("time_limit", "slow")

    monkeypatch.setattr("generation.engine.pipeline.generate", too_slow)
    job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json(8))[0]
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "longer than the studio's limit" in job.error


def test_an_unexpected_error_fails_the_job_without_leaking_details(users, media_root, sent, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("generation.engine.pipeline.generate", boom)
    job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json(8))[0]
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "platform failed" in job.error
    assert "secret" not in job.error


def test_audio_failure_still_delivers_the_midi(users, media_root, sent, monkeypatch):
    def no_audio(pm, out):
        raise RuntimeError("no soundfont")

    monkeypatch.setattr("generation.engine.audio.render_pm_audio", no_audio)
    job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json(8), params={"iterations": 2})[0]
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done"
    assert job.output_midi
    assert not job.audio


def test_a_users_own_checkpoint_is_checked_and_used(api, users, media_root, sent, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.submissions.conftest import tiny_arcnn_checkpoint

    weights, config = tiny_arcnn_checkpoint(tmp_path / "ckpt")
    bad = api("entrant").post("/api/models/", {
        "name": "broken", "checkpoint": SimpleUploadedFile("model.safetensors", b"not safetensors"),
        "config": SimpleUploadedFile("config.json", json.dumps(config).encode())}, format="multipart")
    assert bad.status_code == 422, bad.content
    response = api("entrant").post("/api/models/", {
        "name": "my arcnn", "checkpoint": SimpleUploadedFile("model.safetensors", weights.read_bytes()),
        "config": SimpleUploadedFile("config.json", json.dumps(config).encode())}, format="multipart")
    assert response.status_code == 201, response.content
    checkpoint_id = response.json()["id"]
    assert response.json()["architecture"] == "arcnn"
    assert [m["id"] for m in api("entrant").get("/api/models/").json()["results"]] == [checkpoint_id]
    assert api("other").get("/api/models/").json()["results"] == []
    other = api("other").post("/api/generate/", {"model": "arcnn", "notes": notes_json(), "checkpoint": checkpoint_id},
                              format="multipart")
    assert other.status_code == 404  # not theirs
    body = api("entrant").post("/api/generate/", {"model": "arcnn", "notes": notes_json(8),
                                                  "checkpoint": checkpoint_id,
                                                  "params": json.dumps({"iterations": 3})}, format="multipart").json()
    job_run(job_id=body["id"])
    job = GenerationJob.objects.get(pk=body["id"])
    assert job.status == "done", job.error
    assert job.checkpoint_id == checkpoint_id
