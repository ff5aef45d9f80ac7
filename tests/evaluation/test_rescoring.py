"""One scorer per result (Judge III item 8) and reproducible results (Rankings item 4): every score records its
scorer version; entries scored by the default model before the challenge's own realness model was ready are rescored
with it, as one task, before the results can be published; a rescore of an unchanged challenge changes nothing and
says so; failed entries are listed apart with their reason."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from chartbusters.accounts.roles import Role
from chartbusters.challenges.models import ReferenceFile
from chartbusters.errors import ApplicationError
from evaluation.models import ChallengeRescore, RealnessModel, Score
from evaluation.reference import reference_files_digest
from evaluation.scorer import current_scorer_version
from evaluation.services.judging import judging_publish
from evaluation.services.rescore_run import challenge_rescore, challenge_rescore_run
from evaluation.services.scoring import submission_score
from generation.engine.dataset import load_chorales, pieces_split
from generation.engine.midi_io import midi_to_bytes
from submissions.models import Submission
from tests.evaluation.music import random_walk_piece, variant
from tests.factories import ChallengeFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db]  # the real discriminator scores every entry


def _closed_challenge(make_user, **fields):
    """A closed challenge without judges (alpha 0), and its organizer."""
    now = timezone.now()
    challenge = ChallengeFactory(
        opens_at=now - timedelta(days=3),
        closes_at=now - timedelta(days=1),
        judging_ends_at=now + timedelta(days=1),
        alpha=0.0,
        **fields,
    )
    organizer = make_user("org", role=Role.ORGANIZER)
    challenge.organizers.add(organizer)
    return challenge, organizer


def _scored_entry(challenge, user, pm) -> Submission:
    sub = Submission.objects.create(
        challenge=challenge,
        entrant=user,
        kind="composition",
        title=user.username,
        licence="CC BY 4.0",
        midi=ContentFile(midi_to_bytes(pm), name="e.mid"),
    )
    assert submission_score(submission_id=sub.pk) == Submission.Status.SCORED
    return sub


def _entries(challenge, make_user) -> list[Submission]:
    pieces = [variant(random_walk_piece(s, n_notes=60, n_tracks=3), shift=s % 3) for s in (31, 32, 33)]
    return [_scored_entry(challenge, make_user(f"e{i}"), pm) for i, pm in enumerate(pieces)]


def test_results_are_rescored_with_the_challenges_own_model_before_publication(make_user, monkeypatch):
    from evaluation.services import realness_models

    monkeypatch.setattr(realness_models, "steps_for", lambda n: 20)  # a test-sized run
    challenge, organizer = _closed_challenge(make_user)
    for p in pieces_split(load_chorales(), "valid")[:5]:  # saving them queues the challenge's own model
        ReferenceFile.objects.create(
            challenge=challenge, name=p.name, midi=ContentFile(midi_to_bytes(p.to_midi()), name=f"{p.name}.mid")
        )
    assert RealnessModel.objects.get(challenge=challenge).status == RealnessModel.Status.QUEUED
    entries = _entries(challenge, make_user)  # scored while the model trains: the default model's realness
    default_versions = set(Score.objects.filter(challenge=challenge).values_list("scorer_version", flat=True))
    assert len(default_versions) == 1
    assert "" not in default_versions
    assert Score.objects.get(submission=entries[0]).parts["scorer"]["realness"].startswith("default ")
    with pytest.raises(ApplicationError) as refused:  # the model is still being trained
        judging_publish(challenge_id=challenge.pk, by=organizer)
    assert refused.value.code == "rescoring"

    assert realness_models.realness_model_train(challenge_id=challenge.pk) == RealnessModel.Status.READY
    rescore = ChallengeRescore.objects.get(challenge=challenge)  # queued by the model becoming ready
    assert rescore.status == ChallengeRescore.Status.QUEUED
    with pytest.raises(ApplicationError) as refused:
        judging_publish(challenge_id=challenge.pk, by=organizer)
    assert refused.value.code == "rescoring"

    report = challenge_rescore_run(rescore_id=rescore.pk)
    rescore.refresh_from_db()
    assert (rescore.status, rescore.progress, rescore.done, rescore.total) == ("done", 100, 3, 3)
    current = current_scorer_version(challenge)
    assert current not in default_versions
    assert report["scorer_version"] == current
    scores = Score.objects.filter(challenge=challenge)
    assert set(scores.values_list("scorer_version", flat=True)) == {current}  # one scorer for every result
    for score in scores:
        assert score.parts["realness_model"]["source"].startswith(f"challenge {challenge.slug}")
        assert score.parts["scorer"]["realness"].startswith("challenge ")
    assert judging_publish(challenge_id=challenge.pk, by=organizer) == 0
    challenge.refresh_from_db()
    assert challenge.results_published is True


def test_publication_is_refused_while_an_entry_carries_an_older_version(make_user):
    challenge, organizer = _closed_challenge(make_user)
    entries = _entries(challenge, make_user)
    Score.objects.filter(submission=entries[1]).update(scorer_version="0123456789abcdef")
    with pytest.raises(ApplicationError) as refused:
        judging_publish(challenge_id=challenge.pk, by=organizer)
    assert refused.value.code == "scorer_version"
    assert "1 scored entry" in refused.value.message
    report = challenge_rescore(challenge_id=challenge.pk)
    assert report["versions_before"] == sorted(["0123456789abcdef", current_scorer_version(challenge)])
    assert report["no_change"] is True  # the same scorer in fact: the scores did not move
    assert judging_publish(challenge_id=challenge.pk, by=organizer) == 0


def test_a_rescore_of_an_unchanged_challenge_changes_nothing(make_user):
    challenge, _ = _closed_challenge(make_user)
    entries = _entries(challenge, make_user)
    copy = _scored_entry(
        challenge, make_user("copier"), variant(random_walk_piece(31, n_notes=60, n_tracks=3), shift=5)
    )  # e0's piece: a copy of an earlier entry
    failed = Submission.objects.create(
        challenge=challenge,
        entrant=make_user("f"),
        kind="composition",
        title="f",
        licence="CC BY 4.0",
        status=Submission.Status.FAILED,
        error="The piece has no notes; add some.",
    )
    before = {
        s.submission_id: (s.automatic, s.final, s.flagged_copy) for s in Score.objects.filter(challenge=challenge)
    }
    assert before[copy.pk][2] is True
    out = io.StringIO()
    call_command("rescore", challenge.slug, stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "no change" in text
    assert f"submission {failed.pk} (f, failed): The piece has no notes; add some." in text
    after = {s.submission_id: (s.automatic, s.final, s.flagged_copy) for s in Score.objects.filter(challenge=challenge)}
    assert after.keys() == before.keys()
    for sid, (automatic, final, flagged) in before.items():
        assert after[sid][0] == pytest.approx(automatic, abs=1e-9)
        assert after[sid][1] == pytest.approx(final, abs=1e-9)
        assert after[sid][2] is flagged
    assert len(entries) == 3
    # a change is reported with the entry, before and after
    Score.objects.filter(submission=entries[0]).update(final=1.0, automatic=1.0)
    report = challenge_rescore(challenge_id=challenge.pk)
    assert report["no_change"] is False
    assert [c["submission"] for c in report["changed"]] == [entries[0].pk]
    assert report["changed"][0]["final"][0] == 1.0
    assert [u["submission"] for u in report["unranked"]] == [failed.pk]


def test_the_reference_digest_follows_content_not_saves(make_user):
    challenge, _ = _closed_challenge(make_user)
    pm = random_walk_piece(5, n_notes=30, n_tracks=1)
    a = ReferenceFile.objects.create(challenge=challenge, name="a", midi=ContentFile(midi_to_bytes(pm), name="a.mid"))
    digest = reference_files_digest(challenge.reference_files.all())
    a.name = "renamed"
    a.save()
    a.midi.save("again.mid", ContentFile(midi_to_bytes(pm)), save=True)  # the same bytes uploaded again
    assert reference_files_digest(challenge.reference_files.all()) == digest
    a.midi.save("other.mid", ContentFile(midi_to_bytes(variant(pm, shift=2))), save=True)
    assert reference_files_digest(challenge.reference_files.all()) != digest


def test_the_board_says_rescoring_until_it_is_done(client, make_user):
    challenge, _ = _closed_challenge(make_user)
    challenge.published = True
    challenge.save()
    api = f"/api/challenges/{challenge.slug}/leaderboard/"
    assert client.get(api).json()["rescoring"] is False
    row = ChallengeRescore.objects.create(challenge=challenge, reason="test")
    assert client.get(api).json()["rescoring"] is True
    assert b'id="rescoring"' in client.get(f"/challenges/{challenge.slug}/leaderboard/").content
    ChallengeRescore.objects.filter(pk=row.pk).update(status=ChallengeRescore.Status.DONE)
    assert client.get(api).json()["rescoring"] is False


def test_a_published_challenge_is_verified_not_changed(make_user):
    challenge, _ = _closed_challenge(make_user)
    entries = _entries(challenge, make_user)
    challenge.results_published = True
    challenge.save()
    Score.objects.filter(submission=entries[2]).update(final=99.0, automatic=99.0)
    report = challenge_rescore(challenge_id=challenge.pk)
    assert report["applied"] is False
    assert [c["submission"] for c in report["changed"]] == [entries[2].pk]
    assert Score.objects.get(submission=entries[2]).final == 99.0  # published results stay as published
    assert challenge_rescore(challenge_id=challenge.pk, apply=True)["applied"] is True
    assert Score.objects.get(submission=entries[2]).final < 99.0
