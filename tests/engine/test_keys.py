"""keys.key_of: the file's key signature first, else an estimate from every pitched track."""

import numpy as np
import pretty_midi

from generation.engine.keys import estimate_key, key_of, key_pitch_classes
from tests.engine.midi_factory import make_pm

# A C-major tune that starts, dwells and ends on E (E G B G E D E G | B C B G E D E E): its notes alone correlate
# best with E minor.
STARTS_ON_E = [64, 67, 71, 67, 64, 62, 64, 67, 71, 72, 71, 67, 64, 62, 64, 64]
MELODY = [(p, i, i + 1) for i, p in enumerate(STARTS_ON_E)]
BASS_IN_C = [(48, 0, 4), (43, 4, 8), (41, 8, 12), (43, 12, 14), (36, 14, 16)]  # C G F G C


def _with_key_signature(pm: pretty_midi.PrettyMIDI, key_number: int) -> pretty_midi.PrettyMIDI:
    pm.key_signature_changes.append(pretty_midi.KeySignature(key_number, 0.0))
    return pm


def test_the_melody_alone_misleads_the_estimate():
    assert key_of(make_pm([MELODY])) == (4, "minor")  # why the key signature and the other tracks matter


def test_the_files_key_signature_decides():
    assert key_of(_with_key_signature(make_pm([MELODY]), 0)) == (0, "major")  # C major
    assert key_of(_with_key_signature(make_pm([MELODY]), 21)) == (9, "minor")  # A minor, as the file says
    drum_pm = _with_key_signature(make_pm([[(36, i, i + 0.5) for i in range(8)], MELODY], drum_tracks=[0]), 0)
    assert key_of(drum_pm) == (0, "major")


def test_without_a_key_signature_every_pitched_track_counts():
    assert key_of(make_pm([MELODY, BASS_IN_C])) == (0, "major")
    drums = [(42, i / 2, i / 2 + 0.25) for i in range(32)]  # drum notes never count
    assert key_of(make_pm([drums, MELODY, BASS_IN_C], drum_tracks=[0])) == (0, "major")


def test_the_final_note_settles_an_ambiguous_tune():
    # the notes of C major / A minor in equal measure; the tune ends on A: A minor
    notes = [(p, i, i + 1) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72, 71, 67, 64, 60, 62, 64, 57])]
    assert key_of(make_pm([notes])) == (9, "minor")
    roll = np.zeros((16, 128), dtype=bool)
    for p, s, e in notes:
        roll[s:e, p] = True
    assert estimate_key(roll) == (9, "minor")


def test_key_pitch_classes():
    assert key_pitch_classes((0, "major")) == {0, 2, 4, 5, 7, 9, 11}
    assert key_pitch_classes((9, "minor")) == {9, 11, 0, 2, 4, 5, 7, 6, 8}  # natural minor + F sharp, G sharp
    assert key_of(make_pm([])) == (0, "major")  # nothing to go by
