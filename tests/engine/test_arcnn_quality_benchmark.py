"""The AR-CNN quality benchmark (benchmarks/arcnn_quality.py): its whole-note corruption and its metrics, on rolls
built by hand."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "arcnn_quality.py"
_spec = importlib.util.spec_from_file_location("arcnn_quality_benchmark", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _roll(notes, steps=32):
    """(pitch, start, end) list -> (roll, onsets), both (steps, 128) bool."""
    roll, onsets = np.zeros((steps, 128), bool), np.zeros((steps, 128), bool)
    for pitch, start, end in notes:
        roll[start:end, pitch] = True
        onsets[start, pitch] = True
    return roll, onsets


# a chord texture: two re-struck notes on pitch 60 (one run of cells), a long 64, short 67s, a bass 48
NOTES = [(60, 0, 4), (60, 4, 8), (64, 0, 8), (67, 8, 9), (67, 9, 10), (67, 12, 16), (48, 0, 16), (55, 16, 24)]


def test_window_notes_split_runs_at_onsets():
    roll, onsets = _roll(NOTES)
    assert sorted(bench.window_notes(roll, onsets)) == sorted(NOTES)


@pytest.mark.parametrize("seed", range(5))
def test_remove_notes_removes_half_of_the_notes_whole(seed):
    roll, onsets = _roll(NOTES)
    out = bench.remove_notes(roll, onsets, 0.5, np.random.default_rng(seed))
    assert not (out & ~roll).any()  # nothing added
    fates = [(bool(out[s:e, p].all()), bool(out[s:e, p].any())) for p, s, e in NOTES]
    assert all(whole == some for whole, some in fates)  # each note is kept whole or removed whole
    assert sum(not whole for whole, _ in fates) == 4  # round(0.5 * 8) notes removed


def test_remove_notes_varies_with_the_seed():
    roll, onsets = _roll(NOTES)
    outs = {bench.remove_notes(roll, onsets, 0.5, np.random.default_rng(s)).tobytes() for s in range(10)}
    assert len(outs) > 3


@pytest.mark.parametrize("seed", range(5))
def test_short_random_notes_fill_one_percent_of_the_span_with_wrong_cells(seed):
    roll, onsets = _roll(NOTES, steps=128)
    clean = roll.copy()
    corrupted = bench.remove_notes(roll, onsets, 0.5, np.random.default_rng(seed))
    out = bench.add_short_notes(corrupted, clean, 1.0, np.random.default_rng(seed))
    added = out & ~corrupted
    free_in_span = (~clean[:, 48:68]).sum()
    assert added.sum() == round(0.01 * free_in_span)  # exactly 1 % of the span's empty cells
    assert not (added & clean).any()  # every added cell is a wrong one
    pitches = np.flatnonzero(added.any(axis=0))
    assert pitches.min() >= 48
    assert pitches.max() <= 67
    starts = added & ~np.vstack([np.zeros((1, 128), bool), added[:-1]])
    # runs of added cells are short notes (two random notes may touch, so a run can reach 2 * 4 steps)
    _p, s, e = bench.roll_to_notes(added)
    assert (e - s).max() <= 8
    assert starts.sum() >= added.sum() / 8


def test_corrupt_notes_is_seeded():
    roll, onsets = _roll(NOTES, steps=128)
    a = bench.corrupt_notes(roll[None], onsets[None], seed=3)
    b = bench.corrupt_notes(roll[None], onsets[None], seed=3)
    c = bench.corrupt_notes(roll[None], onsets[None], seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_edit_metrics_on_a_hand_built_window():
    clean = np.zeros((1, 8, 128), bool)
    clean[0, :, 60] = True  # 8 cells
    corrupted = clean.copy()
    corrupted[0, 4:, 60] = False  # 4 removed
    corrupted[0, 0:2, 90] = True  # 2 random
    edited = corrupted.copy()
    edited[0, 4:6, 60] = True  # 2 right additions
    edited[0, 0, 70] = True  # 1 wrong addition
    edited[0, 0, 90] = False  # 1 right removal
    edited[0, 0, 60] = False  # 1 wrong removal
    m = bench.edit_metrics(clean, corrupted, edited, edits=100)
    assert m["mean_jaccard_before"] == pytest.approx(4 / 10)
    assert m["mean_jaccard_after"] == pytest.approx(5 / 10)  # inter {1..5} = 5; union 8 + 90@1 + 70@0 = 10
    assert m["mean_gain"] == pytest.approx(0.1)
    assert m["improved_fraction"] == 1.0
    assert m["precision_added"] == pytest.approx(2 / 3)
    assert m["precision_removed"] == pytest.approx(1 / 2)
    assert m["gain_removing_random"] == pytest.approx(4 / 8 - 4 / 10)
    assert m["oracle_mean_jaccard"] == pytest.approx(1.0)  # 6 edits suffice


def test_oracle_is_bounded_by_its_edits():
    clean = np.zeros((1, 8, 128), bool)
    clean[0, :, 60] = True
    corrupted = np.zeros_like(clean)
    assert bench.oracle_jaccard(corrupted, clean, 4)[0] == pytest.approx(0.5)


def test_melody_metrics_on_a_hand_built_melody():
    # C major melody of four quarter notes and four sixteenths over Bach-like lower voices (C major, then G major);
    # the edit removes one note and adds a G under two notes (in key, in the chord), an F# a seventh under the
    # melody's E (out of key and chord) and a sixteenth A a seventh under its G (in key, not in the chord)
    melody = [(72, 0, 4), (76, 4, 8), (79, 8, 12), (72, 12, 16), (74, 16, 17), (76, 17, 18), (77, 18, 19),
              (79, 19, 20)]
    x, o = _roll(melody)
    bach = np.zeros((1, 4, *x.shape), bool)
    bach[0, 0] = x
    for voice, (first, second) in enumerate([(67, 71), (64, 67), (48, 43)], start=1):
        bach[0, voice, 0:16, first] = True
        bach[0, voice, 16:20, second] = True
    y = x.copy()
    y[12:16, 72] = False  # one of 8 notes lost
    y[0:8, 55] = True  # a G under the first two notes: 8 steps with two notes
    y[17:19, 66] = True  # F#, 2 steps with two notes
    y[19:20, 57] = True  # A, a sixteenth
    m = bench.melody_metrics(x[None], o[None], y[None], [20], (40, 90), [(0, "major")], [20 / 16], bach)
    assert m["notes_kept"] == pytest.approx(7 / 8)
    assert m["time_two_plus"] == pytest.approx(11 / 20)
    assert m["added_notes"] == 3
    assert m["added_per_bar"] == pytest.approx(3 / 1.25)
    assert m["added_in_key"] == pytest.approx(2 / 3)
    assert m["added_in_chord"] == pytest.approx(1 / 3)
    assert m["random_in_key_in_chord"] == pytest.approx((3 + 3 + 2) / 21)  # the key's 7 notes inside each chord
    assert m["added_dissonant"] == pytest.approx(2 / 3)
    assert m["added_sixteenths"] == pytest.approx(1 / 3)
    assert m["bach_per_bar"] == pytest.approx(6 / 1.25)
    assert m["bach_dissonant"] == 0
    assert m["bach_sixteenths"] == 0
    assert (m["added_pitch_min"], m["added_pitch_max"]) == (55, 66)
    assert m["added_outside_range"] == 0
    assert m["short_before"] == pytest.approx(4 / 8)
    assert m["short_after"] == pytest.approx(6 / 10)  # 7 kept (4 short), G (8 steps), F# (2), A (1)
    assert bench.melody_metrics(x[None], o[None], y[None], [20], (60, 90), [(0, "major")],
                                [1.25])["added_outside_range"] == 2


def test_key_estimate_finds_major_and_minor():
    c_major = [(60 + s, 4 * i, 4 * i + 4) for i, s in enumerate([0, 4, 7, 12, 7, 4, 0, 2, 4, 5, 7, 11, 12, 7, 0])]
    assert bench.estimate_key(_roll(c_major, steps=64)[0]) == (0, "major")
    a_minor = [(57 + s, 4 * i, 4 * i + 4) for i, s in enumerate([0, 3, 7, 12, 7, 3, 0, 2, 3, 5, 7, 8, 11, 12, 0])]
    assert bench.estimate_key(_roll(a_minor, steps=64)[0]) == (9, "minor")
