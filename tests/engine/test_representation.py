import numpy as np
import pretty_midi
import pytest

from generation.engine.midi_io import load_midi, midi_to_bytes
from generation.engine.representation import (
    STEPS_PER_BEAT,
    midi_to_rolls,
    replace_tracks,
    roll_to_notes,
    rolls_to_midi,
    seconds_to_steps,
)
from tests.engine.midi_factory import make_pm, note_tuples

MELODY = [(60, 0, 1), (60, 1, 2), (60, 2, 2.5), (62, 2.5, 3), (64, 3, 5), (64, 5, 5.25), (67, 5.25, 8)]
CHORDS = [(48, 0, 4), (52, 0, 4), (55, 0, 4), (48, 4, 8), (53, 4, 8), (57, 4, 8)]


def test_round_trip_keeps_every_on_grid_note_tempo_and_time_signature():
    pm = make_pm([MELODY, CHORDS], tempo=90.0, time_signature=(3, 4), programs=[73, 32])
    rolls = midi_to_rolls(load_midi(midi_to_bytes(pm)))
    assert rolls.tracks.shape == (2, 8 * STEPS_PER_BEAT, 128)
    assert rolls.time_signature == (3, 4)
    assert rolls.steps_per_bar == 12
    assert rolls.programs == [73, 32]
    out = load_midi(midi_to_bytes(rolls_to_midi(rolls)))
    beat = 60.0 / out.get_tempo_changes()[1][0]  # the file stores whole microseconds per beat
    assert out.get_tempo_changes()[1][0] == pytest.approx(90.0, abs=1e-3)
    ts = out.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (3, 4)
    assert note_tuples(out, 0, beat=beat) == sorted(MELODY)  # the three re-struck C4s stay three notes
    assert note_tuples(out, 1, beat=beat) == sorted(CHORDS)
    assert [i.program for i in out.instruments] == [73, 32]


def test_random_on_grid_notes_round_trip_exactly():
    rng = np.random.default_rng(0)
    notes = []
    for pitch in rng.choice(np.arange(30, 100), size=20, replace=False):
        t = 0
        while t < 200:
            t += int(rng.integers(0, 4))
            length = int(rng.integers(1, 9))
            notes.append((int(pitch), t / 4, (t + length) / 4))  # back-to-back re-strikes included
            t += length
    pm = make_pm([notes], tempo=133.0)
    out = rolls_to_midi(midi_to_rolls(pm))
    assert note_tuples(out, 0, beat=60 / 133.0) == sorted(notes)


def test_off_grid_notes_snap_to_the_nearest_sixteenth():
    pm = make_pm([[(60, 0.1, 0.9), (62, 1.13, 1.2)]])
    rolls = midi_to_rolls(pm)
    pitches, starts, ends = roll_to_notes(rolls.tracks[0], rolls.onsets[0])
    assert list(zip(pitches, starts, ends, strict=True)) == [(60, 0, 4), (62, 5, 6)]  # a note never vanishes


def test_without_onsets_contiguous_cells_are_one_note():
    roll = np.zeros((8, 128), dtype=bool)
    roll[0:4, 60] = True
    roll[2:8, 64] = True
    pitches, starts, ends = roll_to_notes(roll)
    assert list(zip(pitches, starts, ends, strict=True)) == [(60, 0, 4), (64, 2, 8)]
    onsets = np.zeros_like(roll)
    onsets[[0, 2], 60] = True
    pitches, starts, ends = roll_to_notes(roll, onsets)
    assert list(zip(pitches, starts, ends, strict=True)) == [(60, 0, 2), (60, 2, 4), (64, 2, 8)]


def test_tempo_changes_are_followed():
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    # a tempo change (to 60 bpm) at 2 s: written through mido, read back by pretty_midi
    data = midi_to_bytes(pm)
    import mido

    mid = mido.MidiFile(file=__import__("io").BytesIO(data))
    tpb = mid.ticks_per_beat
    mid.tracks[0].insert(len(mid.tracks[0]) - 1, mido.MetaMessage("set_tempo", tempo=1_000_000, time=4 * tpb))
    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=80, time=4 * tpb),
                            mido.Message("note_off", note=60, velocity=0, time=tpb)])
    mid.tracks.append(track)
    buf = __import__("io").BytesIO()
    mid.save(file=buf)
    pm2 = load_midi(buf.getvalue())
    assert seconds_to_steps(pm2, np.array([1.0, 2.0, 3.0])) == pytest.approx([8.0, 16.0, 20.0])
    rolls = midi_to_rolls(pm2)
    assert np.nonzero(rolls.onsets[0])[0].tolist() == [16]


def test_drums_are_kept_and_flagged_and_replace_tracks_keeps_metadata():
    pm = make_pm([MELODY, [(36, 0, 0.25)]], drum_tracks=[1], tempo=100.0)
    rolls = midi_to_rolls(pm)
    assert rolls.is_drum == [False, True]
    new = replace_tracks(rolls, np.zeros_like(rolls.tracks[:1]))
    assert new.tempo_bpm == 100.0
    assert new.time_signature == (4, 4)
    out = rolls_to_midi(new)
    assert out.instruments[0].notes == []
