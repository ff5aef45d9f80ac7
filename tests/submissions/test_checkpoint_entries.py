"""Running a checkpoint entry (the service the "submissions.run_checkpoint_entry" task calls), in-process with a
real tiny arcnn checkpoint: outputs per hidden input, progress, hand-over to scoring, time limit, failures."""

from __future__ import annotations

import json
import re
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


def _slow_sampler(monkeypatch, *, seconds: float, longer_than: float = 0.0) -> list:
    """The AR-CNN's sampler made to sleep ``seconds`` first on inputs longer than ``longer_than`` seconds (the
    pipeline finds the sampler when it runs); the list it returns grows each time a slowed generation finishes."""
    from generation.engine.models.arcnn import sampler

    original = sampler.generate
    finished = []

    def slow_generate(model, pm, params, seed):
        slowed = pm.get_end_time() > longer_than
        if slowed:
            time.sleep(seconds)
        out = original(model, pm, params, seed)
        if slowed:
            finished.append(True)
        return out

    monkeypatch.setattr(sampler, "generate", slow_generate)
    return finished


def _long_inputs(challenge, *, n_notes: int) -> None:
    """Replace the challenge's inputs by two of ``n_notes`` quarter notes at 120 bpm (n_notes / 4 bars)."""
    from tests.submissions.conftest import midi_bytes

    InputMelody.objects.filter(challenge=challenge).delete()
    for i in (1, 2):
        InputMelody.objects.create(challenge=challenge, name=f"input-{i}.mid",
                                   midi=ContentFile(midi_bytes(n_notes=n_notes), name=f"input-{i}.mid"))


def test_time_limit_fails_the_entry_naming_input_and_limit(entry, sent, monkeypatch):
    _long_inputs(entry.challenge, n_notes=12)  # 3 bars (6 s) each: 0.33 s a bar allowed
    slowed = _slow_sampler(monkeypatch, seconds=3, longer_than=4.5)  # the inputs are slow, the 2-bar test melody not
    entry.challenge.generation_time_limit_seconds = 1
    entry.challenge.save()
    submission_run_checkpoint_entry(submission_id=entry.pk)
    assert slowed == []  # stopped at the limit, not after the 3-s generation (how soon: benchmarks/limits.py)
    failed = Submission.objects.get(pk=entry.pk)
    assert failed.status == S.FAILED
    assert "limit of 1 s" in failed.error
    assert "hidden input 1 " in failed.error
    assert "input-1.mid" not in failed.error  # the entrant sees the error: hidden inputs are never named
    assert failed.counts_against_quota is True  # the entry's own model was too slow
    assert sent == []


def test_a_model_slower_a_bar_than_the_challenge_allows_is_refused_before_any_input(entry, sent, monkeypatch):
    """Issue 24: the speed check times the model on a 2-bar test melody and stops it at twice the challenge's
    allowance (the per-input limit over the longest input's bars: 4 s / 16 bars = 0.25 s a bar, so 1 s for 2 bars)."""
    _long_inputs(entry.challenge, n_notes=64)
    _slow_sampler(monkeypatch, seconds=3)
    entry.challenge.generation_time_limit_seconds = 4
    entry.challenge.save()
    started = time.perf_counter()
    submission_run_checkpoint_entry(submission_id=entry.pk)
    assert time.perf_counter() - started < 2.5  # stopped at 1 s, not after 3 s, nor run on the inputs
    failed = Submission.objects.get(pk=entry.pk)
    assert failed.status == S.FAILED
    assert failed.error.startswith("Your model took more than 0.5 s a bar on a 2-bar test melody (stopped after 1")
    assert "this challenge allows 0.25 s a bar (4 s for its longest input)" in failed.error
    assert not failed.outputs.exists()
    assert failed.counts_against_quota is True
    assert sent == []


def test_the_speed_check_names_the_measured_seconds_a_bar(entry, sent, monkeypatch):
    _long_inputs(entry.challenge, n_notes=64)  # 16 bars: 16 s / 16 = 1 s a bar allowed
    _slow_sampler(monkeypatch, seconds=3)  # 1.5 s a bar on the 2-bar melody (under the 2x stop)
    entry.challenge.generation_time_limit_seconds = 16
    entry.challenge.save()
    submission_run_checkpoint_entry(submission_id=entry.pk)
    failed = Submission.objects.get(pk=entry.pk)
    assert failed.status == S.FAILED, failed.error
    assert re.match(r"Your model took 1\.[5-9]\d* s a bar on a 2-bar test melody; this challenge allows 1 s a bar "
                    r"\(16 s for its longest input\)", failed.error), failed.error
    assert not failed.outputs.exists()


def test_a_continuation_is_timed_by_the_bars_it_makes(entry, sent, monkeypatch):
    """A model that continues its input (as the Transformer does) makes more bars than the test melody's 2: it is
    timed a bar of what it made (16 bars in 2.5 s) and stopped only at the per-input limit, not at 2 bars' allowance
    (0.5 s a bar here: it would have been stopped after 2 s)."""
    import pretty_midi

    from generation.engine.models.arcnn import sampler, spec

    _long_inputs(entry.challenge, n_notes=64)  # 16 bars: 8 s / 16 = 0.5 s a bar allowed
    entry.challenge.generation_time_limit_seconds = 8
    entry.challenge.save()
    monkeypatch.setattr(spec, "CONTINUES", True, raising=False)
    original = sampler.generate

    def continuing(model, pm, params, seed):
        out = original(model, pm, params, seed)
        time.sleep(2.5)
        end = out.get_end_time()
        out.instruments[0].notes += [pretty_midi.Note(velocity=80, pitch=60, start=end + i, end=end + i + 0.9)
                                     for i in range(28)]  # 14 bars more
        return out

    monkeypatch.setattr(sampler, "generate", continuing)
    submission_run_checkpoint_entry(submission_id=entry.pk)
    done = Submission.objects.get(pk=entry.pk)
    assert (done.status, done.error) == (S.SCORING, "")


def test_a_model_within_the_allowance_runs_on_every_input(entry, sent, monkeypatch):
    _long_inputs(entry.challenge, n_notes=64)
    _slow_sampler(monkeypatch, seconds=1.2, longer_than=4.5)  # 0.6 s on a 16-bar input: 0.04 s a bar
    entry.challenge.generation_time_limit_seconds = 16
    entry.challenge.save()
    submission_run_checkpoint_entry(submission_id=entry.pk)
    done = Submission.objects.get(pk=entry.pk)
    assert (done.status, done.error) == (S.SCORING, "")
    assert done.outputs.count() == 2


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
