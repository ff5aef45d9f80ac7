"""Originality: copied passages are found (transposed or not) with where they match; originals are not flagged."""

from __future__ import annotations

import pytest

from evaluation.originality import LineIndex, lines_from_midi, lines_from_piece
from evaluation.originality_check import originality_check, originality_register, training_index
from generation.engine.dataset import load_chorales, pieces_split
from tests.evaluation.music import piece, random_walk_piece
from tests.factories import ChallengeFactory


@pytest.fixture(scope="module")
def chorale():
    """A 4/4 chorale of at least 8 bars (the copy below is measured in the entry's 4/4 bars)."""
    train = pieces_split(load_chorales(), "train")
    return next(p for p in train[5:] if p.steps_per_bar == 16 and p.rolls.shape[1] > 128)


def _soprano_bars(chorale, first_bar: int, n_bars: int, shift: int, offset_beats: float):
    """The chorale's soprano notes of ``n_bars`` bars from ``first_bar`` as (pitch, start_beat, end_beat)."""
    line = lines_from_piece(chorale)[0]
    spb = chorale.steps_per_bar
    lo, hi = first_bar * spb, (first_bar + n_bars) * spb
    return [(int(p) + shift, (o - lo) / 4 + offset_beats, (o - lo + d) / 4 + offset_beats)
            for p, o, d in zip(line.pitch, line.onset, line.duration, strict=True) if lo <= o < hi]


@pytest.mark.parametrize("shift", [0, 5, -3])
def test_copied_four_bars_are_found(chorale, shift):
    original = random_walk_piece(7, n_notes=24, n_tracks=1)
    copied = _soprano_bars(chorale, 2, 4, shift, offset_beats=6.0)
    pm = piece([[(p, s, e) for p, s, e in [(n.pitch, n.start * 2, n.end * 2)
                                           for n in original.instruments[0].notes]], copied])
    found = training_index().match(lines_from_midi(pm, "entry", 16))
    assert found is not None
    assert found.source == chorale.name
    assert found.source_track == "soprano"
    assert found.entry_track == "track 2"
    assert found.bars >= 3.5  # 4 bars, less a tied-in first note at most
    assert found.source_bar in (3, 4)
    result = originality_check([pm])
    assert result["flagged"] is True
    assert result["longest"]["kind"] == "training"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_original_piece_is_not_flagged(seed):
    result = originality_check([random_walk_piece(seed, n_notes=80, n_tracks=3)])
    assert result["flagged"] is False
    assert result["longest"] is None or result["longest"]["bars"] <= result["threshold_bars"]


def test_index_round_trips_through_disk(tmp_path, chorale):
    index = LineIndex(lines_from_piece(chorale))
    index.save(tmp_path / "i.npz")
    loaded = LineIndex.load(tmp_path / "i.npz")
    query = lines_from_piece(chorale)
    assert loaded.match(query) == index.match(query)


@pytest.mark.django_db
def test_earlier_entries_of_other_entrants(make_user, tmp_path):
    from submissions.models import Submission

    challenge = ChallengeFactory(originality_threshold_bars=2.0)
    alice, bob = make_user("alice"), make_user("bob")

    def submit(user):
        return Submission.objects.create(challenge=challenge, entrant=user, kind="composition", title="t",
                                         licence="CC BY 4.0")

    first, own_again, copy = submit(alice), submit(alice), submit(bob)
    melody = random_walk_piece(11, n_notes=48, n_tracks=1)
    assert originality_register(submission_id=first.pk, pms=[melody]) > 0
    # bob's entry: the same melody a fourth higher, after a bar of rest
    notes = [(n.pitch + 5, n.start * 2 + 4, n.end * 2 + 4) for n in melody.instruments[0].notes]
    stolen = piece([notes])
    result = originality_check([stolen], challenge=challenge, exclude_submission_id=copy.pk)
    assert result["flagged"] is True
    assert result["longest"]["kind"] == "entry"
    assert result["longest"]["source"] == f"submission {first.pk}"
    # alice reusing her own melody is no copy; nor is a check against entries that came later
    assert originality_check([stolen], challenge=challenge, exclude_submission_id=own_again.pk)["flagged"] is False
    assert originality_check([stolen], challenge=challenge, exclude_submission_id=first.pk)["flagged"] is False
    # registering again replaces the fingerprint
    n = originality_register(submission_id=first.pk, pms=[melody])
    assert first.originality_fingerprint.grams.count() == n
