"""The scoring pipeline: "evaluation.score_submission" on real MIDI with the real scorer, in process and through a
REAL Celery worker (POST via the API -> worker -> scored -> ranked -> audio rendered)."""

from __future__ import annotations

import io

import pretty_midi
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from chartbusters.challenges.models import Challenge
from chartbusters.challenges.validation import challenge_field_errors
from evaluation.models import LeaderboardEntry, Rendering, Score
from evaluation.services.scoring import PLATFORM_FAULT_MESSAGE
from evaluation.tasks import score_submission
from submissions.models import Submission
from tests.results.conftest import automatic_only, chorale_like_midi, new_entry


def empty_midi() -> bytes:
    buffer = io.BytesIO()
    pm = pretty_midi.PrettyMIDI()
    pm.instruments.append(pretty_midi.Instrument(program=0))
    pm.write(buffer)
    return buffer.getvalue()


@pytest.mark.django_db
def test_music_without_notes_fails_with_the_scorers_message_and_counts(challenge, people):
    entry = new_entry(challenge, people["entrant"])
    entry.midi.save("empty.mid", ContentFile(empty_midi()), save=True)
    assert score_submission(entry.pk) == "failed"
    entry.refresh_from_db()
    assert entry.status == "failed"
    assert "note" in entry.error.lower()
    assert entry.error != PLATFORM_FAULT_MESSAGE
    assert entry.counts_against_quota is True  # the entrant's fault
    assert not Score.objects.filter(submission=entry).exists()
    assert not LeaderboardEntry.objects.filter(challenge=challenge).exists()


@pytest.mark.django_db
def test_a_platform_failure_fails_the_entry_without_using_quota(challenge, people):
    entry = new_entry(challenge, people["entrant"])
    entry.midi.storage.delete(entry.midi.name)  # the stored file is gone: the platform's fault, not the entrant's
    assert score_submission(entry.pk) == "failed"
    entry.refresh_from_db()
    assert (entry.status, entry.error, entry.counts_against_quota) == ("failed", PLATFORM_FAULT_MESSAGE, False)


@pytest.mark.django_db
def test_a_finished_entry_is_left_alone_when_the_task_comes_twice(challenge, people):
    entry = new_entry(challenge, people["entrant"])
    entry.midi.save("empty.mid", ContentFile(empty_midi()), save=True)
    score_submission(entry.pk)
    before = Submission.objects.values("status", "error", "finished_at").get(pk=entry.pk)
    assert score_submission(entry.pk) == "failed"
    assert Submission.objects.values("status", "error", "finished_at").get(pk=entry.pk) == before


@pytest.mark.slow
@pytest.mark.django_db
def test_scores_a_real_composition_with_every_part_and_ranks_it(challenge, people, django_capture_on_commit_callbacks):
    entry = new_entry(challenge, people["entrant"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # audio is rendered by another test
        assert score_submission(entry.pk) == "scored"
    assert len(callbacks) >= 1
    score = Score.objects.get(submission=entry)
    assert 0 < score.automatic <= 100
    assert score.final == score.automatic
    assert set(score.parts["metrics"]) >= {"pitch_range", "pitch_entropy", "polyphony"}
    assert 0 <= score.parts["metrics"]["pitch_range"]["closeness"] <= 1
    entry.refresh_from_db()
    assert (entry.status, entry.progress, entry.error) == ("scored", 100, "")
    assert LeaderboardEntry.objects.get(challenge=challenge, entrant=people["entrant"]).submission_id == entry.pk


@pytest.mark.slow
@pytest.mark.django_db
def test_a_realness_only_challenge_scores_its_entries(challenge, people, django_capture_on_commit_callbacks):
    """No style metric and the style weight 0: a challenge the one metrics-and-weights rule accepts, and scoring
    with it (it refused every entry while scoring kept a rule of its own) gives the realness alone."""
    choice = {"metrics": [], "weight_style": 0.0, "weight_realness": 1.0}
    assert challenge_field_errors(choice) == {}
    Challenge.objects.filter(pk=challenge.pk).update(**choice)
    automatic_only(challenge)
    entries = [new_entry(challenge, people["entrant"], title="first"),
               new_entry(challenge, people["other"], minutes=1, title="second")]
    with django_capture_on_commit_callbacks(execute=False):  # audio is rendered by another test
        assert [score_submission(entry.pk) for entry in entries] == ["scored", "scored"]
    for entry in entries:
        score = Score.objects.get(submission=entry)
        assert 0 < score.realness <= 1
        assert score.automatic_unpenalized == pytest.approx(100 * score.realness)  # the second may be a copy
        assert score.parts["weights"] == {"style": 0.0, "realness": 1.0}
        assert not any(metric["in_style"] for metric in score.parts["metrics"].values())
    ranked = LeaderboardEntry.objects.filter(challenge=challenge).values_list("submission_id", flat=True)
    assert sorted(ranked) == sorted(entry.pk for entry in entries)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_full_flow_post_worker_scored_ranked_with_audio(celery_worker_process, challenge, people):
    automatic_only(challenge)  # no human judging (alpha 0): the board is not blind while open
    client = APIClient()
    client.force_authenticate(people["entrant"])
    response = client.post(
        f"/api/challenges/{challenge.slug}/submissions/",
        {"title": "Chorale in C", "accept_licence": "true",
         "composition": SimpleUploadedFile("chorale.mid", chorale_like_midi(), content_type="audio/midi")},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    submission_id = response.json()["id"]

    status = celery_worker_process.wait_for(
        lambda: Submission.objects.filter(pk=submission_id, status__in=["scored", "failed"])
        .values_list("status", flat=True).first(),
        timeout=300, message="the entry to be scored",
    )
    assert status == "scored", Submission.objects.get(pk=submission_id).error

    body = client.get(f"/api/submissions/{submission_id}/").json()
    assert body["status"] == "scored"
    assert body["progress"] == 100
    assert 0 < body["score"]["automatic"] <= 100
    assert body["score"]["parts"]["metrics"]
    board = APIClient().get(f"/api/challenges/{challenge.slug}/leaderboard/").json()
    assert [(r["rank"], r["entrant"], r["submission"]) for r in board["rows"]] == [(1, "ada", submission_id)]
    assert board["rows"][0]["score"] == body["score"]["final"]

    rendering = celery_worker_process.wait_for(
        lambda: Rendering.objects.filter(submission_id=submission_id, output__isnull=True).exclude(audio="").first(),
        timeout=120, message="the audio to be rendered",
    )
    assert rendering.audio.size > 1000
    assert rendering.pianoroll.size > 1000
    audio_url = client.get(f"/api/submissions/{submission_id}/").json()["audio_url"]
    assert audio_url == f"/files/audio/{rendering.public_id}/"
    assert b"".join(client.get(audio_url).streaming_content) == rendering.audio.open("rb").read()


@pytest.mark.django_db
def test_an_entry_the_reaper_failed_meanwhile_stays_failed_with_the_reapers_reason(challenge, people, monkeypatch):
    from evaluation.services.scoring import submission_score
    from submissions.services.lifecycle import submission_mark_failed

    entry = new_entry(challenge, people["entrant"])
    entry.midi.save("empty.mid", ContentFile(empty_midi()), save=True)
    reason = "Scoring stopped answering for 8 minutes; the platform gave up on it."
    storage = entry.midi.storage
    original_open = storage.open

    def open_and_reap(name, mode="rb"):  # the reaper fails the entry while the worker reads its file
        submission_mark_failed(submission_id=entry.pk, error=reason, platform_fault=True)
        return original_open(name, mode)

    monkeypatch.setattr(storage, "open", open_and_reap)
    assert submission_score(submission_id=entry.pk) == "failed"
    entry.refresh_from_db()
    assert entry.error == reason


@pytest.mark.django_db
def test_rendering_stores_audio_and_piano_roll_and_refreshes_the_cached_board(challenge, people):
    from evaluation.tasks import render_submission_audio
    from tests.results.conftest import scored_entry

    entry = scored_entry(challenge, people["entrant"], 60.0)
    url = f"/api/challenges/{challenge.slug}/leaderboard/"
    assert APIClient().get(url).json()["rows"][0]["audio_url"] is None  # now cached
    assert render_submission_audio(entry.pk) == 1
    rendering = Rendering.objects.get(submission=entry, output__isnull=True)
    assert rendering.audio.name.endswith(".mp3")  # no ffmpeg needed: soundfile encodes it
    assert rendering.audio.size > 1000
    assert rendering.pianoroll.read(8) == b"\x89PNG\r\n\x1a\n"
    assert APIClient().get(url).json()["rows"][0]["audio_url"] == f"/files/audio/{rendering.public_id}/"


@pytest.mark.django_db
def test_a_rendering_that_fails_says_why_on_the_page(challenge, people, client):
    """The stored MIDI went bad after scoring: the entry's page says the audio could not be rendered, and why."""
    from evaluation.services.rendering import RENDER_FAILED
    from evaluation.tasks import render_submission_audio
    from tests.results.conftest import scored_entry

    entry = scored_entry(challenge, people["entrant"], 60.0)
    with open(entry.midi.path, "wb") as f:
        f.write(b"not a MIDI file any more")
    assert render_submission_audio(entry.pk) == 1
    rendering = Rendering.objects.get(submission=entry, output__isnull=True)
    assert not rendering.audio
    assert rendering.error.startswith(RENDER_FAILED.split("{reason}")[0])
    client.force_login(people["entrant"])
    page = client.get(f"/submissions/{entry.pk}/").content.decode()
    assert "could not be rendered" in page
    assert "audio is being rendered" not in page
