"""The piano roll's notes <-> MIDI on the sixteenth grid (generation.notes)."""

from __future__ import annotations

import json

import pytest

from generation.engine.midi_io import load_midi
from generation.notes import MAX_NOTES, NotesError, midi_to_notes, notes_to_midi_bytes, parse_notes
from tests.studio.conftest import notes_json


def test_notes_round_trip_through_midi():
    data = notes_to_midi_bytes(notes_json(8, tempo=90))
    pm = load_midi(data)
    back = midi_to_notes(pm)
    assert back["tempo"] == pytest.approx(90, abs=0.01)
    assert back["time_signature"] == [4, 4]
    assert back["tracks"][0]["notes"] == json.loads(notes_json(8))["tracks"][0]["notes"]


def test_three_four_and_several_tracks():
    raw = {"tempo": 100, "time_signature": [3, 4], "tracks": [
        {"program": 0, "is_drum": False, "notes": [[67, 0, 4, 90], [69, 4, 2, 80]]},
        {"program": 32, "is_drum": False, "notes": [[43, 0, 12, 70]]},
    ]}
    back = midi_to_notes(load_midi(notes_to_midi_bytes(raw)))
    assert back["time_signature"] == [3, 4]
    assert [t["program"] for t in back["tracks"]] == [0, 32]
    assert back["tracks"][1]["notes"] == [[43, 0, 12, 70]]


@pytest.mark.parametrize(("raw", "code", "words"), [
    ("not json", "invalid_notes", "JSON object"),
    ("[]", "invalid_notes", "JSON object"),
    ({"tempo": 1000, "tracks": []}, "invalid_notes", "`tempo`"),
    ({"tempo": 120, "time_signature": [4, 5], "tracks": []}, "invalid_notes", "`time_signature`"),
    ({"tempo": 120, "tracks": []}, "invalid_notes", "`tracks`"),
    ({"tempo": 120, "tracks": [{"notes": [[200, 0, 4, 90]]}]}, "invalid_notes", "Track 1, note 1"),
    ({"tempo": 120, "tracks": [{"notes": [[60, -1, 4, 90]]}]}, "invalid_notes", "Track 1, note 1"),
    ({"tempo": 120, "tracks": [{"notes": [[60, 0, 0, 90]]}]}, "invalid_notes", "length"),
    ({"tempo": 120, "tracks": [{"notes": []}]}, "no_notes", "no notes"),
    ({"tempo": 120, "tracks": [{"notes": [[60, i % 100, 1, 90] for i in range(MAX_NOTES + 1)]}]},
     "too_many_notes", "limit"),
])
def test_bad_notes_are_refused_with_the_problem_named(raw, code, words):
    with pytest.raises(NotesError) as info:
        parse_notes(raw)
    assert info.value.code == code
    assert words in info.value.message


def test_a_stated_key_round_trips_as_the_files_key_signature():
    raw = json.loads(notes_json(8))
    assert midi_to_notes(load_midi(notes_to_midi_bytes(raw)))["key"] is None  # none stated: the models estimate
    raw["key"] = "Eb minor"
    pm = load_midi(notes_to_midi_bytes(raw))
    assert [k.key_number for k in pm.key_signature_changes] == [15]
    assert midi_to_notes(pm)["key"] == "Eb minor"
