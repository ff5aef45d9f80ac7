"""Running a checkpoint entry (the service the "submissions.run_checkpoint_entry" task calls), in-process with a
real tiny arcnn checkpoint: outputs per hidden input, progress, hand-over to scoring, time limit, failures."""

from __future__ import annotations

import json
import time

import pytest
from django.core.files.base import ContentFile

from chartbusters.challenges.models import InputMelody
from submissions.models import Submission
from submissions.services.checkpoint_entries import (
    BAD_PARAMS_MESSAGE,
    GENERATION_SHARE,
    NO_INPUTS_MESSAGE,
    submission_run_checkpoint_entry,
)
from tests.submissions.conftest import input_melodies, tiny_arcnn_checkpoint

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
S = Submission.Status


@pytest.fixture
def entry(users, harvest, media_root, tmp_path):
    """A queued checkpoint entry holding a tiny untrained arcnn; the challenge has 2 hidden inputs."""
    harvest.generation_params = {"arcnn": {"iterations": 3, "seed": 7}}
    harvest.save()
    input_melodies(harvest, 2)
    weights, config = tiny_arcnn_checkpoint(tmp_path / "ckpt")
    submission = Submission(challenge=harvest, entrant=users["entrant"], kind=Submission.Kind.CHECKPOINT,
                            title="Tiny", licence="CC BY 4.0", checkpoint_config=config, model_card="tiny test")
    submission.checkpoint.save("model.safetensors", ContentFile(weights.read_bytes()), save=False)
    submission.save()
    return submission


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr("chartbusters.celery.app.send_task", lambda name, **kw: messages.append((name, kw)))
    return messages


def test_generates_every_input_then_queues_scoring(entry, sent, django_capture_on_commit_callbacks):
    import pretty_midi

    with django_capture_on_commit_callbacks(execute=True):
        submission_run_checkpoint_entry(submission_id=entry.pk)
    done = Submission.objects.get(pk=entry.pk)
    assert (done.status, done.progress, done.error) == (S.SCORING, GENERATION_SHARE, "")
    outputs = list(done.outputs.order_by("input_name"))
    assert [o.input_name for o in outputs] == ["input-1.mid", "input-2.mid"]
    for output in outputs:
        with output.midi.open("rb") as fh:
            pm = pretty_midi.PrettyMIDI(fh)
        assert sum(len(i.notes) for i in pm.instruments) > 0
        assert output.seconds > 0
    assert sent == [("evaluation.score_submission", {"args": (entry.pk,), "queue": "scoring", "countdown": None})]


def test_same_seed_gives_the_same_outputs_on_a_rerun(entry, sent):
    submission_run_checkpoint_entry(submission_id=entry.pk)
    first = [o.midi.read() for o in Submission.objects.get(pk=entry.pk).outputs.order_by("input_name")]
    Submission.objects.filter(pk=entry.pk).update(status=S.GENERATING)  # a redelivered task
    submission_run_checkpoint_entry(submission_id=entry.pk)
    outputs = Submission.objects.get(pk=entry.pk).outputs.order_by("input_name")
    assert len(outputs) == 2
    assert [o.midi.read() for o in outputs] == first


@pytest.fixture
def slow_arcnn(monkeypatch):
    """The AR-CNN's sampler made to take 3 s (the pipeline finds the sampler when it runs); the list it returns
    grows each time a generation finishes."""
    from generation.engine.models.arcnn import sampler

    original = sampler.generate
    finished = []

    def slow_generate(model, pm, params, seed):
        time.sleep(3)
        out = original(model, pm, params, seed)
        finished.append(True)
        return out

    monkeypatch.setattr(sampler, "generate", slow_generate)
    return finished


def test_time_limit_fails_the_entry_naming_input_and_limit(entry, sent, slow_arcnn):
    entry.challenge.generation_time_limit_seconds = 1
    entry.challenge.save()
    submission_run_checkpoint_entry(submission_id=entry.pk)
    assert slow_arcnn == []  # stopped at the limit, not after the 3-s generation (how soon: benchmarks/limits.py)
    failed = Submission.objects.get(pk=entry.pk)
    assert failed.status == S.FAILED
    assert "limit of 1 s" in failed.error
    assert "hidden input 1 " in failed.error
    assert "input-1.mid" not in failed.error  # the entrant sees the error: hidden inputs are never named
    assert failed.counts_against_quota is True  # the entry's own model was too slow
    assert sent == []


def test_challenge_without_inputs_is_a_platform_fault(entry, sent):
    InputMelody.objects.filter(challenge=entry.challenge).delete()
    submission_run_checkpoint_entry(submission_id=entry.pk)
    failed = Submission.objects.get(pk=entry.pk)
    assert (failed.status, failed.error, failed.counts_against_quota) == (S.FAILED, NO_INPUTS_MESSAGE, False)


def test_bad_challenge_params_are_a_platform_fault(entry, sent):
    entry.challenge.generation_params = {"arcnn": {"iterations": 1000}}
    entry.challenge.save()
    submission_run_checkpoint_entry(submission_id=entry.pk)
    failed = Submission.objects.get(pk=entry.pk)
    assert failed.status == S.FAILED
    assert failed.error.startswith(BAD_PARAMS_MESSAGE.split("(")[0])
    assert "iterations" in failed.error
    assert failed.counts_against_quota is False


def test_a_checkpoint_that_no_longer_loads_is_the_entrants_fault(entry, sent):
    config = json.loads(json.dumps(entry.checkpoint_config))
    config["config"].update(base_channels=8, max_channels=8)
    Submission.objects.filter(pk=entry.pk).update(checkpoint_config=config)
    submission_run_checkpoint_entry(submission_id=entry.pk)
    failed = Submission.objects.get(pk=entry.pk)
    assert failed.status == S.FAILED
    assert failed.error.startswith("Your checkpoint could not be loaded:")
    assert failed.counts_against_quota is True


def test_finished_entries_are_left_alone(entry, sent):
    Submission.objects.filter(pk=entry.pk).update(status=S.FAILED, error="Reaped.")
    submission_run_checkpoint_entry(submission_id=entry.pk)
    assert Submission.objects.get(pk=entry.pk).status == S.FAILED
    assert not entry.outputs.exists()
    assert sent == []
