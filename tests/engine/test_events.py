import numpy as np
import pretty_midi
import pytest

from generation.engine import events
from generation.engine.events import (
    NOTE_ON_OFFSET,
    PAD,
    START,
    VOCAB_SIZE,
    bin_to_velocity,
    decode,
    encode,
    token_name,
    velocity_to_bin,
)


def _pm(notes, program=0):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes = [pretty_midi.Note(v, p, s, e) for p, s, e, v in notes]
    pm.instruments.append(inst)
    return pm


def _notes(pm):
    return sorted((n.pitch, round(n.start, 6), round(n.end, 6), n.velocity) for i in pm.instruments for n in i.notes)


def test_vocabulary_layout():
    assert VOCAB_SIZE == 310
    names = [token_name(t) for t in range(VOCAB_SIZE)]
    assert names[START] == "<S>"
    assert names[PAD] == "<PAD>"
    assert sum(n.startswith("TIME_SHIFT") for n in names) == 100
    assert sum(n.startswith("NOTE_ON") for n in names) == 88
    assert sum(n.startswith("NOTE_OFF") for n in names) == 88
    assert sum(n.startswith("VELOCITY") for n in names) == 32
    assert names[2] == "TIME_SHIFT_10ms"
    assert names[101] == "TIME_SHIFT_1000ms"
    assert names[NOTE_ON_OFFSET] == "NOTE_ON_21"
    assert len(set(names)) == VOCAB_SIZE
    with pytest.raises(ValueError, match="outside"):
        token_name(VOCAB_SIZE)


def test_round_trip_on_the_10ms_grid():
    rng = np.random.default_rng(1)
    notes = []
    for pitch in rng.choice(np.arange(21, 109), size=30, replace=False):
        t = int(rng.integers(0, 50))
        for _ in range(5):
            length = int(rng.integers(1, 250))
            vel = bin_to_velocity(int(rng.integers(0, 32)))
            notes.append((int(pitch), t / 100, (t + length) / 100, vel))
            t += length + int(rng.integers(0, 300))  # gaps longer than 1 s need several TIME_SHIFTs
    notes.append((60, 50.0, 50.5, 64))
    notes.append((60, 50.5, 51.0, 64))  # re-struck at the same instant: NOTE_OFF comes first
    expected = sorted((p, s, e, bin_to_velocity(velocity_to_bin(v))) for p, s, e, v in notes)
    tokens = encode(_pm(notes))
    assert tokens[0] == START
    assert all(0 <= t < VOCAB_SIZE for t in tokens)
    assert _notes(decode(tokens)) == expected


def test_off_grid_times_quantize_to_10ms_and_drums_and_out_of_range_pitches_are_dropped():
    pm = _pm([(60, 0.004, 0.506, 100), (10, 0.0, 1.0, 100)])
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes = [pretty_midi.Note(100, 36, 0.0, 0.1)]
    pm.instruments.append(drums)
    out = _notes(decode(encode(pm)))
    assert out == [(60, 0.0, 0.51, bin_to_velocity(velocity_to_bin(100)))]


def test_decode_is_robust_to_arbitrary_tokens():
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, VOCAB_SIZE, size=2000).tolist()
    pm = decode(tokens, max_note_seconds=3.0, tempo_bpm=100.0, time_signature=(3, 4))
    assert all(0 < n.end - n.start <= 3.0 + 1e-9 for n in pm.instruments[0].notes)
    assert pm.time_signature_changes[0].numerator == 3
    assert decode([]).instruments[0].notes == []
    assert encode(pretty_midi.PrettyMIDI()) == [START]


def test_velocity_bins_cover_midi_velocities():
    bins = [velocity_to_bin(v) for v in range(1, 128)]
    assert bins[0] == 0
    assert bins[-1] == events.N_VELOCITY_BINS - 1
    assert sorted(set(bins)) == list(range(32))
