"""A training run on the worker side (generation.services.training_run.training_run, called as the task calls it):
a tiny but real AR-CNN run from uploaded folk tunes to one of the user's models (weights, card, curves, a zip to
download), the wall-time limit, nothing left behind, the reaper for a dead worker, and the one-click Melody Harvest
entry of the new model (the same intake checks, licence and quota)."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from chartbusters.challenges.models import Challenge
from generation.models import TrainingJob, UserCheckpoint
from generation.services.cleanup import training_fail_stuck
from generation.services.training import training_create
from generation.services.training_run import training_run
from submissions.models import Submission
from tests.factories import ChallengeFactory
from tests.training.conftest import TINY_PARAMS, folk_uploads, stored_files

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def private_tmp(monkeypatch, tmp_path):
    """tempfile's folder for this test, to see what a run leaves there."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def start(users, params=None, n_files=4):
    return training_create(owner=users["entrant"], model_name="arcnn", params=params or TINY_PARAMS,
                           files=folk_uploads(n_files))


def test_a_tiny_run_becomes_a_usable_model_with_its_card_and_curves(api, users, media_root, sent_trainings,
                                                                    private_tmp):
    job = start(users)
    training_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.progress == 100
    assert job.steps_done == 3
    assert not job.data
    body = api("entrant").get(f"/api/trainings/{job.pk}/").json()
    assert body["checkpoint"] == job.checkpoint_id
    curves = body["metrics"]
    assert curves["step"]
    assert len(curves["train_loss"]) == len(curves["step"]) == len(curves["valid_loss"])
    assert [v for v in curves["valid_loss"] if v is not None], "the validation loss was measured"
    checkpoint = UserCheckpoint.objects.get(pk=job.checkpoint_id)
    assert checkpoint.architecture == "arcnn"
    assert checkpoint.config["config"]["base_channels"] == 4
    assert "4 uploaded MIDI file(s)" in checkpoint.card
    assert "--param start=scratch" in checkpoint.card
    assert "--data your-midi --param" in checkpoint.card  # not the worker's temporary folder
    assert checkpoint.metrics["steps"] == 3
    listed = api("entrant").get("/api/models/").json()["results"]
    assert listed[0]["id"] == checkpoint.pk
    assert listed[0]["source"] == "trained"
    assert listed[0]["training"] == job.pk
    bundle = api("entrant").get(listed[0]["urls"]["download_url"])
    assert bundle.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content))) as archive:
        assert {"model.safetensors", "config.json", "MODEL_CARD.md", "loss.png"} <= set(archive.namelist())
        assert json.loads(archive.read("config.json")) == checkpoint.config
    assert api("other").get(listed[0]["urls"]["download_url"]).status_code == 404
    assert api("entrant").get(listed[0]["urls"]["loss_plot_url"])["Content-Type"] == "image/png"
    assert not list(private_tmp.glob("chartbusters-training-*"))  # the run's temporary folder is gone


def test_the_wall_time_limit_stops_the_run_and_keeps_its_best_weights(users, media_root, sent_trainings, settings):
    settings.TRAINING_MAX_SECONDS = 0
    job = start(users, params={**TINY_PARAMS, "steps": 50})
    training_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.steps_done == 1
    assert job.steps_total == 50
    assert "1 in all" in job.checkpoint.card or "of 50" in json.dumps(job.checkpoint.metrics)


def test_a_cancelled_run_stops_at_its_next_report_and_keeps_nothing(api, users, media_root, sent_trainings,
                                                                   settings, monkeypatch):
    """In one process the user's Cancel is pressed between two reports (the worker test cancels for real)."""
    settings.TRAINING_REPORT_SECONDS = 0
    job = start(users, params={**TINY_PARAMS, "steps": 40})
    from generation.services.training_run import Reporter

    original, reports = Reporter.write, []

    def write_then_cancel(self, *, force=False):
        reports.append(self.steps_done)
        if len(reports) == 2:
            assert api("entrant").post(f"/api/trainings/{job.pk}/cancel/").json()["cancel_requested"] is True
        return original(self, force=force)

    monkeypatch.setattr(Reporter, "write", write_then_cancel)
    training_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert job.checkpoint is None
    assert job.steps_done < 40
    assert UserCheckpoint.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_run_whose_worker_died_is_failed_with_a_reason(users, media_root, sent_trainings, settings):
    job = start(users)
    TrainingJob.objects.filter(pk=job.pk).update(status="running", steps_done=30, steps_total=3)
    assert training_fail_stuck() == 0  # not silent long enough yet
    later = timezone.now() + timedelta(seconds=settings.TRAINING_STUCK_AFTER_SECONDS + 5)
    assert training_fail_stuck(now=later) == 1
    job.refresh_from_db()
    assert job.status == "failed"
    assert "stopped responding" in job.error
    assert "Start the training again" in job.error
    assert stored_files(media_root) == []
    training_run(job_id=job.pk)  # a late copy of the message does nothing
    job.refresh_from_db()
    assert job.status == "failed"


def test_a_trained_model_enters_melody_harvest_in_one_click(api, users, media_root, sent_trainings, monkeypatch):
    sent = []
    monkeypatch.setattr("submissions.services.intake.send_task",
                        lambda name, *, args=(), queue, countdown=None: sent.append((name, queue)))
    harvest = ChallengeFactory(slug="harvest", kind=Challenge.Kind.MELODY_HARVEST, daily_quota=1, total_quota=3)
    closed = ChallengeFactory(slug="old-harvest", kind=Challenge.Kind.MELODY_HARVEST,
                              opens_at=timezone.now() - timedelta(days=40))
    job = start(users)
    training_run(job_id=job.pk)
    model_id = TrainingJob.objects.get(pk=job.pk).checkpoint_id
    url = f"/api/models/{model_id}/submit/"
    no_licence = api("entrant").post(url, {"challenge": "harvest", "licence_accepted": False}, format="multipart")
    assert no_licence.status_code == 422
    assert no_licence.json()["error"]["code"] == "licence_not_accepted"
    assert api("entrant").post(url, {"challenge": "old-harvest", "licence_accepted": True},
                               format="multipart").status_code in (403, 409, 422)
    assert api("other").post(url, {"challenge": "harvest", "licence_accepted": True},
                             format="multipart").status_code == 404
    entered = api("entrant").post(url, {"challenge": "harvest", "licence_accepted": True, "title": "Reels"},
                                  format="multipart")
    assert entered.status_code == 201, entered.content
    submission = Submission.objects.get(pk=entered.json()["id"])
    assert submission.challenge == harvest
    assert submission.kind == "checkpoint"
    assert submission.title == "Reels"
    assert submission.checkpoint_config == UserCheckpoint.objects.get(pk=model_id).config
    assert "Trained in the Chartbusters studio" in submission.model_card
    assert sent == [("submissions.run_checkpoint_entry", "entries")]
    quota = api("entrant").post(url, {"challenge": "harvest", "licence_accepted": True}, format="multipart")
    assert quota.status_code == 429  # the daily quota of 1, as for an uploaded entry
    assert closed.pk != harvest.pk


def test_deleting_a_model_deletes_its_files(api, users, media_root, sent_trainings):
    job = start(users)
    training_run(job_id=job.pk)
    model_id = TrainingJob.objects.get(pk=job.pk).checkpoint_id
    assert stored_files(media_root)
    assert api("other").delete(f"/api/models/{model_id}/").status_code == 404
    assert api("entrant").delete(f"/api/models/{model_id}/").status_code == 204
    assert stored_files(media_root) == []
    assert not UserCheckpoint.objects.exists()
    assert TrainingJob.objects.get(pk=job.pk).checkpoint is None


def test_my_models_page_shows_the_card_and_enters_the_model_from_its_form(client, users, media_root, sent_trainings,
                                                                         monkeypatch):
    monkeypatch.setattr("submissions.services.intake.send_task", lambda *a, **k: None)
    ChallengeFactory(slug="harvest", title="Harvest Moon", kind=Challenge.Kind.MELODY_HARVEST)
    ChallengeFactory(slug="go-round", title="Go Round", kind=Challenge.Kind.MELODY_GO_ROUND)
    job = start(users)
    training_run(job_id=job.pk)
    model = TrainingJob.objects.get(pk=job.pk).checkpoint
    client.force_login(users["entrant"])
    page = client.get("/models/").content.decode()
    assert model.name in page
    assert "Harvest Moon" in page
    assert "Go Round" not in page  # Melody Harvest only
    assert f"/files/model-loss/{model.public_id}/" in page
    assert f"/studio/?checkpoint={model.pk}" in page
    assert "Trained in the Chartbusters studio" in page  # the card
    refused = client.post(f"/models/{model.pk}/submit/", {"challenge": "harvest"}, follow=True)
    assert "licence" in refused.content.decode()
    assert not Submission.objects.exists()
    entered = client.post(f"/models/{model.pk}/submit/", {"challenge": "harvest", "licence_accepted": "on"},
                          follow=True)
    entry = Submission.objects.get()
    assert entry.challenge.slug == "harvest"
    assert f'href="/submissions/{entry.pk}/"' in entered.content.decode()  # a link to the entry just made
    client.force_login(users["other"])
    assert f"/submissions/{entry.pk}/" not in client.get(f"/models/?entry={entry.pk}").content.decode()  # theirs only
    client.post(f"/models/{model.pk}/delete/")
    assert UserCheckpoint.objects.filter(pk=model.pk).exists()  # not theirs


def test_a_failed_run_says_why_and_leaves_nothing(users, media_root, sent_trainings, private_tmp):
    job = start(users)
    job.data.storage.delete(job.data.name)  # the uploaded files are gone before the worker starts (a lost volume)
    training_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "please start the training again" in job.error
    assert job.checkpoint is None
    assert not job.data
    assert stored_files(media_root) == []
    assert not list(private_tmp.glob("chartbusters-training-*"))


def test_no_server_path_on_a_trained_models_card(tmp_path):
    """Issue 24: a fine-tuned model's card said "started from: /srv/.../generation/checkpoints/arcnn"."""
    from generation.engine.dataset import REPO_ROOT
    from generation.services.training_run import scrub_server_paths

    data, out = tmp_path / "data", tmp_path / "out"
    card = (f"Reproduce:\n    python manage.py train arcnn --data {data} --steps 3\n"
            f"- started from: {REPO_ROOT / 'generation/checkpoints/arcnn'}\n- written to {out}\n")
    scrubbed = scrub_server_paths(card, data=data, out=out)
    assert str(REPO_ROOT) not in scrubbed
    assert str(tmp_path) not in scrubbed
    assert "--data your-midi" in scrubbed
    assert "started from: generation/checkpoints/arcnn" in scrubbed


def test_a_killed_runs_slot_and_temporary_files_are_freed(users, media_root, sent_trainings, settings):
    """Issue 24: a killed run held the user's slot for 10 minutes and left their MIDI files in the worker's
    temporary folder. Now the slot is free after TRAINING_STUCK_AFTER_SECONDS (3 min) of silence, and the dead
    run's folder goes at the reaper or the next run on that machine."""
    import os
    import tempfile
    import time
    from pathlib import Path

    from generation.services.training import TEMP_PREFIX, training_sweep_temp

    assert settings.TRAINING_STUCK_AFTER_SECONDS <= 180
    job = start(users)
    TrainingJob.objects.filter(pk=job.pk).update(status="running")
    dead = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{job.pk}-"))  # what the killed worker left
    (dead / "your-midi").mkdir()
    (dead / "your-midi" / "tune.mid").write_bytes(b"MThd")
    assert training_sweep_temp() == 0  # still running: kept
    long_ago = time.time() - settings.TRAINING_STUCK_AFTER_SECONDS - 60  # the killed run wrote nothing since
    for path in (dead, dead / "your-midi", dead / "your-midi" / "tune.mid"):
        os.utime(path, (long_ago, long_ago))
    assert dead.exists()
    later = timezone.now() + timedelta(seconds=settings.TRAINING_STUCK_AFTER_SECONDS + 5)
    assert training_fail_stuck(now=later) == 1
    assert not dead.exists()
    assert start(users).status == "queued"  # the slot is free again
