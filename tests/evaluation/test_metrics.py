"""Known-answer muspy metrics on hand-built pieces; drums ignored; empty music is a clear error."""

from __future__ import annotations

import math

import pytest

from evaluation.metrics import (
    METRIC_NAMES,
    NO_PITCHED_NOTES,
    MetricsError,
    compute_metrics,
    estimate_key,
    music_from_pretty_midi,
)
from tests.evaluation.music import piece, scale_piece


def test_scale_known_values():
    m = compute_metrics(scale_piece())
    assert set(m) == set(METRIC_NAMES)
    assert all(type(v) is float for v in m.values())
    assert m["pitch_range"] == 12.0
    assert m["n_pitches_used"] == 8.0
    assert m["n_pitch_classes_used"] == 7.0
    assert m["polyphony"] == 1.0
    assert m["polyphony_rate"] == 0.0
    assert m["scale_consistency"] == 1.0
    assert m["pitch_in_scale_rate"] == 1.0
    assert m["pitch_entropy"] == pytest.approx(3.0)  # 8 equally used pitches
    # pitch classes: C twice, six others once -> -(1/4 log2 1/4 + 6 * 1/8 log2 1/8) = 0.5 + 2.25
    assert m["pitch_class_entropy"] == pytest.approx(2.75)
    assert m["empty_measure_rate"] == 0.0
    assert m["outer_voice_step_rate"] == 1.0  # a scale moves by step only


def _voices(tops: list[int], basses: list[int]) -> list[list[tuple[int, float, float]]]:
    return [[(p, i, i + 1) for i, p in enumerate(tops)], [(p, i, i + 1) for i, p in enumerate(basses)]]


def test_outer_voices_step_rate_counts_steps_of_both_outer_lines_whatever_the_track_layout():
    tops = [72, 74, 76, 77, 79, 77, 76, 74, 72]  # all steps
    basses = [48, 55, 48, 55, 43, 48, 43, 55, 48]  # all leaps
    two_tracks = piece(_voices(tops, basses))
    assert compute_metrics(two_tracks)["outer_voice_step_rate"] == pytest.approx(0.5)
    one_track = piece([_voices(tops, basses)[0] + _voices(tops, basses)[1]])
    assert compute_metrics(one_track)["outer_voice_step_rate"] == pytest.approx(0.5)
    swapped = piece(_voices(basses, tops))  # the tracks' order is no voice's rank
    assert compute_metrics(swapped)["outer_voice_step_rate"] == pytest.approx(0.5)
    repeated = piece(_voices([72] * 9, [48] * 9))  # a repeated note is no step
    assert compute_metrics(repeated)["outer_voice_step_rate"] == 0.0


def test_a_held_top_note_hides_the_inner_voices_onsets_from_the_top_line():
    """A soprano holding a whole note over a moving alto: the top line is the soprano's notes, not the alto's."""
    soprano = [(74, 0, 4), (76, 4, 8)]  # one step
    alto = [(60, 0, 1), (67, 1, 2), (60, 2, 3), (67, 3, 4), (60, 4, 5), (67, 5, 6), (60, 6, 7), (67, 7, 8)]
    m = compute_metrics(piece([soprano, alto]))
    # top line 74, 76: 1 step of 1 move; bottom line the alto's fifths: 0 of 7
    assert m["outer_voice_step_rate"] == pytest.approx(1 / 8)


def test_chord_polyphony_and_range():
    m = compute_metrics(piece([[(60, 0, 4)], [(64, 0, 4)], [(67, 0, 4)]]))
    assert m["polyphony"] == 3.0
    assert m["polyphony_rate"] == 1.0  # muspy counts steps with more than 2 pitches
    assert m["pitch_range"] == 7.0
    assert m["n_pitch_classes_used"] == 3.0


def test_empty_bar_counts_on_the_sounded_grid():
    # At 120 bpm a beat lasts 0.5 s, the sounded beat, and a bar 2 s: bar 1 played, bar 2 silent, bar 3 played.
    notes = [[(60, 0, 3.5), (62, 8, 12)]]
    m = compute_metrics(piece(notes))
    # muspy: bars = end // bar + 1 = 4, a note covers the bars from its start to its end inclusive:
    # bar 0 (first note), bars 2 and 3 (second note ends exactly on bar 3's line) -> 1 of 4 empty
    assert m["empty_measure_rate"] == 0.25
    # the same audio written with half the note values at half the tempo marking measures the same
    halved = [[(p, s / 2, e / 2) for p, s, e in notes[0]]]
    assert compute_metrics(piece(halved, tempo=60.0)) == pytest.approx(m)
    # played twice as slowly it is other audio: the silent bar is no longer a whole empty bar of a 4-bar piece
    assert compute_metrics(piece(notes, tempo=60.0))["empty_measure_rate"] != 0.25


def test_pitch_in_scale_rate_uses_the_estimated_key():
    # G major scale: one F# -> not in C major, but in G major
    g_major = [67, 69, 71, 72, 74, 76, 78, 79]
    pm = piece([[(p, i, i + 1) for i, p in enumerate(g_major)]])
    assert estimate_key(music_from_pretty_midi(pm))[0] in (7, 4)  # G major or its relative E minor
    assert compute_metrics(pm)["pitch_in_scale_rate"] == 1.0


def test_drums_are_ignored():
    pitched = [[(p, i, i + 0.5) for i, p in enumerate([60, 64, 67, 72])]]
    drums = [(36, i / 2, i / 2 + 0.25) for i in range(8)]  # fills every rest of the pitched track
    assert compute_metrics(piece(pitched, drums=drums)) == compute_metrics(piece(pitched))


@pytest.mark.parametrize("drums", [None, [(36, 0, 1), (38, 1, 2)]])
def test_empty_or_drums_only_is_a_clear_error(drums):
    pm = piece([], drums=drums)
    with pytest.raises(MetricsError) as err:
        compute_metrics(pm)
    assert err.value.code == "no_notes"
    assert err.value.message == NO_PITCHED_NOTES


def test_values_are_finite_plain_floats():
    m = compute_metrics(piece([[(60, 0, 0.25)]]))  # one sixteenth note
    assert all(isinstance(v, float) and math.isfinite(v) for v in m.values())


def test_single_bar_groove_is_consistent():
    assert compute_metrics(piece([[(60, 0, 1), (64, 1, 2)]]))["groove_consistency"] == 1.0


def test_staccato_measures_as_written_but_rests_stay_rests():
    """A note played for a third of its value or more is read at its written value (to the track's next onset), so a
    staccato chorale texture has the polyphony of the legato one; a silence longer than twice the note is a rest."""
    legato = [[(60 + 2 * i, i, i + 1) for i in range(8)], [(48 + 2 * i, i, i + 1) for i in range(8)]]
    staccato = [[(p, s, s + 0.4 * (e - s)) for p, s, e in track] for track in legato]
    texture = ("polyphony", "polyphony_rate", "empty_beat_rate", "pitch_in_scale_rate")
    as_written = compute_metrics(piece(legato), list(texture))
    assert compute_metrics(piece(staccato), list(texture)) == pytest.approx(as_written)
    short = [[(p, s, s + 0.25 * (e - s)) for p, s, e in track] for track in legato]  # a quarter of the value: rests
    assert compute_metrics(piece(short), ["polyphony"])["polyphony"] == as_written["polyphony"]  # chords together
    music = music_from_pretty_midi(piece(short))
    assert [n.duration for n in music.tracks[0].notes][:3] == [3, 3, 3]  # 0.75-beat silences after 0.25: as played
    rest = [[(60, 0, 1), (62, 4, 5)]]  # a quarter note, then three beats' rest: not a dotted half
    music = music_from_pretty_midi(piece(rest))
    assert [n.duration for n in music.tracks[0].notes] == [12, 12]
    chord = [[(60, 0, 0.5), (64, 0.02, 0.52), (62, 1, 2)]]  # a rolled chord's notes are one attack: to beat 1
    assert [n.duration for n in music_from_pretty_midi(piece(chord)).tracks[0].notes] == [12, 12, 12]
