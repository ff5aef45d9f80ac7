"""The whole Melody Harvest flow through a REAL Celery worker process: API intake of a tiny arcnn checkpoint ->
"submissions.run_checkpoint_entry" (generation queue) -> "evaluation.score_submission" (scoring queue) -> scored."""

from __future__ import annotations

import pytest

from submissions.models import Submission
from tests.submissions.conftest import input_melodies, post_tiny_checkpoint_entry

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _finished(worker, submission_id: int, *, timeout: float) -> Submission:
    def done():
        submission = Submission.objects.get(pk=submission_id)
        return submission if submission.status in ("scored", "failed") else None

    return worker.wait_for(done, timeout=timeout, message="the checkpoint entry to finish")


def test_checkpoint_entry_is_generated_and_scored_by_a_real_worker(celery_worker_process, api, harvest, tmp_path):
    harvest.generation_params = {"arcnn": {"iterations": 3, "seed": 1}}
    harvest.save()
    input_melodies(harvest, 2)
    submission_id = post_tiny_checkpoint_entry(api, tmp_path / "ckpt")
    submission = _finished(celery_worker_process, submission_id, timeout=180)
    assert submission.status == "scored", f"{submission.error}\n{celery_worker_process.log_tail()}"
    assert submission.progress == 100
    assert sorted(o.input_name for o in submission.outputs.all()) == ["input-1.mid", "input-2.mid"]
    assert submission.score.automatic >= 0  # the results app's Score, through the reverse accessor


def test_a_checkpoint_too_slow_a_bar_is_refused_by_the_worker_with_the_figure(celery_worker_process, api, harvest,
                                                                               tmp_path):
    """Issue 24: the worker times the entry on a 2-bar test melody before any input. Here the challenge allows
    1 s for its 500-bar input (0.002 s a bar); the tiny AR-CNN with 100 edits takes far longer a bar."""
    import io

    import pretty_midi
    from django.core.files.base import ContentFile

    from chartbusters.challenges.models import InputMelody

    harvest.generation_params = {"arcnn": {"iterations": 100, "seed": 1}}
    harvest.generation_time_limit_seconds = 1
    harvest.save()
    pm = pretty_midi.PrettyMIDI(initial_tempo=240.0)
    line = pretty_midi.Instrument(program=0)
    line.notes = [pretty_midi.Note(velocity=90, pitch=60 + i % 12, start=i * 0.25, end=i * 0.25 + 0.2)
                  for i in range(2000)]  # 500 bars of 4/4 in 500 s
    pm.instruments.append(line)
    buffer = io.BytesIO()
    pm.write(buffer)
    InputMelody.objects.create(challenge=harvest, name="long.mid", midi=ContentFile(buffer.getvalue(), name="l.mid"))
    submission_id = post_tiny_checkpoint_entry(api, tmp_path / "ckpt", title="Slow model")
    submission = _finished(celery_worker_process, submission_id, timeout=120)
    assert submission.status == "failed", celery_worker_process.log_tail()
    assert submission.error.startswith(
        "Your model took more than 0.004 s a bar on a 2-bar test melody (stopped after "), submission.error
    assert "this challenge allows 0.002 s a bar (1 s for its longest input)" in submission.error
    assert not submission.outputs.exists()
    body = api("entrant").get(f"/api/submissions/{submission_id}/").json()
    assert body["error"] == submission.error  # the entrant reads the figure
