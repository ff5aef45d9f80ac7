"""The automatic judge cannot be gamed: scores of what is heard, trivial music below real music, minimum content,
repetition, the copy penalty and its clearance, and a challenge's own realness model (issue "An automatic judge that
cannot be gamed")."""

from __future__ import annotations

import io
import json

import numpy as np
import pretty_midi
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from chartbusters.challenges.models import ReferenceFile
from evaluation.automatic import score_pieces
from evaluation.content import (
    MAX_REPETITION,
    MIN_NOTES,
    MIN_PITCHES,
    MIN_SECONDS,
    REPETITION_FREE,
    content_check,
    repetition,
)
from generation.engine.dataset import load_chorales, pieces_split
from generation.engine.midi_io import load_midi, midi_to_bytes
from generation.engine.representation import sounded_rolls
from generation.engine.trivial_music import DERIVED_FAMILIES, SCRATCH_FAMILIES, as_midi
from tests.evaluation.music import piece, random_walk_piece
from tests.factories import ChallengeFactory

STEPS = 240  # 30 s on the sounded grid


@pytest.fixture(scope="module")
def test_chorales() -> list:
    """Held-out chorales (test split) of at least 20 s, as MIDI."""
    return [p for p in pieces_split(load_chorales(), "test") if p.rolls.shape[1] >= 160]


def _renotated(pm: pretty_midi.PrettyMIDI, factor: float) -> pretty_midi.PrettyMIDI:
    """The same audio written with note values ``factor`` times as long at ``factor`` times the tempo, at another
    resolution, saved and read back (the file's ticks and tempo both change; the seconds do not)."""
    out = pretty_midi.PrettyMIDI(initial_tempo=120.0 * factor, resolution=960)
    for inst in pm.instruments:
        new = pretty_midi.Instrument(program=inst.program, name=inst.name)
        new.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start, n.end) for n in inst.notes]
        out.instruments.append(new)
    data = midi_to_bytes(out)
    reread = load_midi(data)
    assert reread.get_tempo_changes()[1][0] == pytest.approx(120.0 * factor, rel=1e-3)
    return reread


def _transposed(pm: pretty_midi.PrettyMIDI, semitones: int) -> pretty_midi.PrettyMIDI:
    out = pretty_midi.PrettyMIDI()
    for inst in pm.instruments:
        new = pretty_midi.Instrument(program=inst.program, name=inst.name)
        new.notes = [pretty_midi.Note(n.velocity, n.pitch + semitones, n.start, n.end) for n in inst.notes]
        out.instruments.append(new)
    return out


# --------------------------------------------------------------------------------------------- what is heard
def test_sounded_rolls_ignore_notation():
    pm = random_walk_piece(1, n_notes=40)
    for factor in (0.5, 2.0, 3.0):
        a, b = sounded_rolls(pm), sounded_rolls(_renotated(pm, factor))
        assert np.array_equal(a[0], b[0])
        assert np.array_equal(a[1], b[1])


@pytest.mark.slow
@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_same_audio_in_other_notation_scores_the_same(test_chorales, factor):
    for chorale in test_chorales[:2]:
        pm = chorale.to_midi()
        original = score_pieces([pm])
        other = score_pieces([_renotated(pm, factor)])
        assert other.automatic_unpenalized == pytest.approx(original.automatic_unpenalized, abs=1.0)
        assert other.style == pytest.approx(original.style, abs=0.01)


@pytest.mark.slow
def test_transposition_within_a_fifth_barely_changes_the_score(test_chorales):
    for chorale in test_chorales[:3]:
        pm = chorale.to_midi()
        base = score_pieces([pm]).automatic_unpenalized
        for shift in (-7, -4, 3, 7):
            moved = score_pieces([_transposed(pm, shift)]).automatic_unpenalized
            assert abs(moved - base) <= 5.0, (chorale.name, shift, base, moved)


# --------------------------------------------------------------------------------------------- trivial music
@pytest.mark.slow
@pytest.mark.parametrize("family", [*SCRATCH_FAMILIES, *DERIVED_FAMILIES])
def test_each_trivial_family_scores_below_real_chorales(test_chorales, family):
    rng = np.random.default_rng(7)
    real = [score_pieces([c.to_midi()]).automatic_unpenalized for c in test_chorales[:4]]
    if family in SCRATCH_FAMILIES:
        fakes = [as_midi(*SCRATCH_FAMILIES[family](STEPS, rng)) for _ in range(3)]
    else:
        fakes = [as_midi(*DERIVED_FAMILIES[family](c.rolls, c.onsets, rng)) for c in test_chorales[4:7]]
    for fake in fakes:
        score = score_pieces([fake]).automatic_unpenalized
        assert score <= 40.0, (family, score)
        assert score < min(real), (family, score, real)


# --------------------------------------------------------------------------------------------- minimum content
@pytest.mark.parametrize(
    ("tracks", "limit"),
    [
        ([[(60, 0, 1), (64, 1, 2), (67, 2, 3), (72, 3, 4)] * 1], MIN_SECONDS),  # 2 s
        ([[(60, 0, 330)]], MIN_SECONDS),  # the 37-byte file: one note of 165 s -> too few notes
        ([[(60, i, i + 1) for i in range(40)]], MIN_PITCHES),  # one pitch
    ],
)
def test_too_little_music_is_refused_with_the_reason(tracks, limit):
    check = content_check(piece(tracks))
    assert not check.ok
    assert check.reason


def test_the_minimum_content_limits_name_the_measure():
    one_note = content_check(piece([[(60, 0, 330)]]))
    assert f"at least {MIN_NOTES}" in one_note.reason
    short = content_check(piece([[(60 + i, i / 4, i / 4 + 0.25) for i in range(16)]]))  # 16 sixteenths: 2 s
    assert "s of music" in short.reason
    drone = content_check(piece([[(60, i, i + 1) for i in range(30)]]))
    assert f"at least {MIN_PITCHES}" in drone.reason


def test_repetition_measures_loops_not_real_music(test_chorales):
    real = [repetition(sounded_rolls(c.to_midi())[1].any(axis=0)) for c in test_chorales]
    assert max(real) < REPETITION_FREE
    loop = DERIVED_FAMILIES["repeated_window"](test_chorales[0].rolls, test_chorales[0].onsets,
                                               np.random.default_rng(0))  # fmt: skip
    assert repetition(loop[1].any(axis=0)) > 0.7
    looped = content_check(as_midi(*SCRATCH_FAMILIES["repeated_note"](STEPS, np.random.default_rng(0))))
    assert not looped.ok
    assert looped.repetition > MAX_REPETITION
    chord_loop = content_check(as_midi(*SCRATCH_FAMILIES["chord_loop"](STEPS, np.random.default_rng(1))))
    assert chord_loop.repetition_factor < 1.0  # a loop of 4 chords is not 8 bars of music


@pytest.mark.slow
def test_refused_content_scores_zero_with_the_reason():
    result = score_pieces([piece([[(60, 0, 330)]])])
    assert result.automatic == 0.0
    assert result.parts["content"]["ok"] is False
    assert "notes" in result.parts["content"]["reason"]


# --------------------------------------------------------------------------------------------- copy penalty
@pytest.mark.slow
def test_a_copied_chorale_is_penalized_by_its_copied_share(test_chorales):
    copy = test_chorales[0].to_midi()
    result = score_pieces([copy])
    originality = result.parts["originality"]
    assert result.flagged_copy
    assert originality["copied_share"] > 0.8
    assert result.copy_penalty == pytest.approx(1.0 - originality["copied_share"])
    assert result.automatic == pytest.approx(result.automatic_unpenalized * result.copy_penalty)
    assert result.automatic < 20.0
    out = io.StringIO()
    path = __import__("tempfile").mkdtemp() + "/copy.mid"
    copy.write(path)
    call_command("score", path, "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["copy_penalty"] == pytest.approx(result.copy_penalty)
    assert data["automatic_unpenalized"] == pytest.approx(result.automatic_unpenalized)
    assert {"automatic", "style", "realness", "flagged_copy"} <= set(data)


@pytest.mark.django_db
def test_copy_penalty_and_its_clearance(make_user):
    from evaluation.models import LeaderboardEntry, Score
    from evaluation.services.score_store import score_clear_copy_flag, score_store
    from submissions.models import Submission

    challenge = ChallengeFactory()
    entrant, organizer = make_user("entrant"), make_user("organizer")
    sub = Submission.objects.create(challenge=challenge, entrant=entrant, kind="composition", title="t", licence="x",
                                    status=Submission.Status.SCORED)  # fmt: skip
    score_store(submission_id=sub.pk, automatic=30.0, automatic_unpenalized=60.0, copy_penalty=0.5, style=0.6,
                realness=0.6, parts={}, flagged_copy=True)  # fmt: skip
    assert Score.objects.get(submission=sub).automatic == 30.0
    assert LeaderboardEntry.objects.get(submission=sub).score == 30.0
    score = score_clear_copy_flag(submission_id=sub.pk, cleared_by=organizer)
    assert (score.automatic, score.copy_penalty, score.copy_cleared_by) == (60.0, 1.0, organizer)
    assert score.copy_cleared_at is not None
    assert LeaderboardEntry.objects.get(submission=sub).score == 60.0
    # a rerun keeps the organizer's clearance
    score_store(submission_id=sub.pk, automatic=31.0, automatic_unpenalized=62.0, copy_penalty=0.5, style=0.6,
                realness=0.6, parts={}, flagged_copy=True)  # fmt: skip
    assert Score.objects.get(submission=sub).automatic == 62.0
    other = Submission.objects.create(challenge=challenge, entrant=entrant, kind="composition", title="u",
                                      licence="x", status=Submission.Status.SCORED)  # fmt: skip
    score_store(submission_id=other.pk, automatic=50.0, style=0.5, realness=0.5, parts={})
    with pytest.raises(ValueError, match="not flagged"):
        score_clear_copy_flag(submission_id=other.pk, cleared_by=organizer)


# --------------------------------------------------------------------------------------------- challenge models
def _reference_files(challenge, pieces) -> None:
    for p in pieces:
        ReferenceFile.objects.create(challenge=challenge, name=p.name,
                                     midi=ContentFile(midi_to_bytes(p.to_midi()), name=f"{p.name}.mid"))


@pytest.mark.slow
@pytest.mark.django_db
def test_a_tiny_reference_set_trains_its_own_realness_model(monkeypatch):
    from evaluation.models import RealnessModel, ReferenceStats
    from evaluation.services import realness_models

    monkeypatch.setattr(realness_models, "steps_for", lambda n: 20)  # a test-sized run
    challenge = ChallengeFactory()
    pieces = pieces_split(load_chorales(), "valid")[:6]
    _reference_files(challenge, pieces)
    row = RealnessModel.objects.get(challenge=challenge)
    assert row.status == RealnessModel.Status.QUEUED  # saving the files queued training
    before = score_pieces([pieces[0].to_midi()], challenge=challenge)
    assert "queued" in before.parts["realness_model"]["warning"]
    assert realness_models.realness_model_train(challenge_id=challenge.pk) == RealnessModel.Status.READY
    row.refresh_from_db()
    assert row.progress == 100
    assert row.weights
    assert set(row.metrics["auc"]) >= set(SCRATCH_FAMILIES)
    assert "ROC AUC" in row.model_card
    assert ReferenceStats.objects.filter(challenge=challenge).exists()
    after = score_pieces([pieces[0].to_midi()], challenge=challenge)
    assert after.parts["realness_model"]["source"].startswith(f"challenge {challenge.slug}")
    assert after.parts["realness_model"]["warning"] == ""
    # a changed set queues training again and falls back to the default model meanwhile
    _reference_files(challenge, pieces_split(load_chorales(), "valid")[6:7])
    row.refresh_from_db()
    assert row.status == RealnessModel.Status.QUEUED
    assert score_pieces([pieces[0].to_midi()], challenge=challenge).parts["realness_model"]["warning"]


@pytest.mark.django_db
def test_too_few_reference_pieces_fail_with_a_reason():
    from evaluation.models import RealnessModel
    from evaluation.services.realness_models import realness_model_train

    challenge = ChallengeFactory()
    _reference_files(challenge, pieces_split(load_chorales(), "valid")[:1])
    assert realness_model_train(challenge_id=challenge.pk) == RealnessModel.Status.FAILED
    assert "at least 3" in RealnessModel.objects.get(challenge=challenge).error


@pytest.mark.django_db
def test_removing_the_reference_set_drops_its_model():
    from evaluation.models import RealnessModel

    challenge = ChallengeFactory()
    _reference_files(challenge, pieces_split(load_chorales(), "valid")[:2])
    assert RealnessModel.objects.filter(challenge=challenge).exists()
    ReferenceFile.objects.filter(challenge=challenge).delete()  # queryset delete sends post_delete per row
    assert not RealnessModel.objects.filter(challenge=challenge).exists()
