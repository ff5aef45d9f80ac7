"""The studio's piano-roll notes <-> MIDI, on the engine's sixteenth-note grid (docs/design.md section 3). No torch.

The browser edits music as JSON and never parses or writes MIDI itself::

    {"tempo": 100, "time_signature": [4, 4], "key": "D major",   # key: optional, null = none stated
     "tracks": [{"name": "melody", "program": 0, "is_drum": false,
                 "notes": [[60, 0, 4, 90], ...]}]}        # [pitch, start step, length in steps, velocity]

``key`` is the file's key signature (one of ``keys.KEY_NAMES``), or null when it states none: the models then
estimate the key from the notes (``generation.engine.keys.key_of``).

A step is a sixteenth note (4 a beat). ``notes_to_midi_bytes`` checks every field and names the first problem
(``NotesError``: code + message); the MIDI it writes then passes the platform's MIDI limits
(``generation.engine.midi_io``) like any upload. ``midi_to_notes`` reads any validated MIDI onto the grid (notes
shorter than a step last one step).
"""

from __future__ import annotations

import json
from typing import Any

import pretty_midi

from generation.engine.errors import MidiValidationError, ParamError
from generation.engine.keys import key_from_name, key_name, key_number, key_of
from generation.engine.midi_io import first_tempo, first_time_signature, midi_to_bytes, validate_midi_bytes

STEPS_PER_BEAT = 4
MAX_TRACKS = 16
MAX_NOTES = 5_000
MAX_STEPS = 128 * 16  # 128 bars of 4/4: 4 minutes at 120 bpm; the keyboard records up to 32 bars
MAX_NOTES_JSON_BYTES = 512 * 1024
TEMPO_RANGE = (30.0, 300.0)
DENOMINATORS = (2, 4, 8, 16)

NOTES_NOT_JSON_MESSAGE = "`notes` must be a JSON object with `tempo`, `time_signature` and `tracks`."
NOTES_TOO_LARGE_MESSAGE = "`notes` is {found:,} bytes; the limit is {limit:,} bytes."
TEMPO_MESSAGE = "`tempo` must be a number of beats per minute between 30 and 300; got {value!r}."
METER_MESSAGE = "`time_signature` must be [beats, beat unit]: 1-12 beats, a unit of 2, 4, 8 or 16; got {value!r}."
TRACKS_MESSAGE = "`tracks` must be a list of 1 to {limit} tracks."
TRACK_MESSAGE = "Track {n} must be an object with `notes` (a list), `program` 0-127 and `is_drum` true/false."
NOTE_MESSAGE = (
    "Track {n}, note {i}: a note is [pitch 0-127, start step 0-{max_step}, length 1-{max_step} steps, "
    "velocity 1-127] and ends by step {max_step}; got {value!r}."
)
TOO_MANY_NOTES_MESSAGE = "The music has {found:,} notes; the studio's limit is {limit:,}."
NO_NOTES_MESSAGE = "There are no notes yet: play, upload or pick a melody first."


class NotesError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def parse_notes(raw: str | bytes | dict) -> dict:
    """The ``notes`` field (a JSON text or an already parsed object), checked; NotesError names the problem."""
    if isinstance(raw, str | bytes):
        if len(raw) > MAX_NOTES_JSON_BYTES:
            raise NotesError("too_large", NOTES_TOO_LARGE_MESSAGE.format(found=len(raw), limit=MAX_NOTES_JSON_BYTES))
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise NotesError("invalid_notes", NOTES_NOT_JSON_MESSAGE) from None
    if not isinstance(raw, dict):
        raise NotesError("invalid_notes", NOTES_NOT_JSON_MESSAGE)
    tempo = raw.get("tempo", 120)
    if isinstance(tempo, bool) or not isinstance(tempo, int | float) or not TEMPO_RANGE[0] <= tempo <= TEMPO_RANGE[1]:
        raise NotesError("invalid_notes", TEMPO_MESSAGE.format(value=tempo))
    meter = raw.get("time_signature", [4, 4])
    if not (isinstance(meter, list) and len(meter) == 2 and _int_in(meter[0], 1, 12) and meter[1] in DENOMINATORS
            and not isinstance(meter[1], bool)):
        raise NotesError("invalid_notes", METER_MESSAGE.format(value=meter))
    key = raw.get("key") or None
    try:
        if key is not None:
            key_from_name(key)
    except ParamError as exc:
        raise NotesError("invalid_notes", exc.message) from None
    tracks = raw.get("tracks")
    if not isinstance(tracks, list) or not 1 <= len(tracks) <= MAX_TRACKS:
        raise NotesError("invalid_notes", TRACKS_MESSAGE.format(limit=MAX_TRACKS))
    clean_tracks, total = [], 0
    for n, track in enumerate(tracks, start=1):
        if not (isinstance(track, dict) and isinstance(track.get("notes"), list)
                and _int_in(track.get("program", 0), 0, 127) and isinstance(track.get("is_drum", False), bool)):
            raise NotesError("invalid_notes", TRACK_MESSAGE.format(n=n))
        total += len(track["notes"])
        if total > MAX_NOTES:
            raise NotesError("too_many_notes", TOO_MANY_NOTES_MESSAGE.format(found=total, limit=MAX_NOTES))
        notes = []
        for i, note in enumerate(track["notes"], start=1):
            ok = (isinstance(note, list) and len(note) == 4 and _int_in(note[0], 0, 127)
                  and _int_in(note[1], 0, MAX_STEPS - 1) and _int_in(note[2], 1, MAX_STEPS)
                  and _int_in(note[3], 1, 127) and note[1] + note[2] <= MAX_STEPS)
            if not ok:
                raise NotesError("invalid_notes", NOTE_MESSAGE.format(n=n, i=i, max_step=MAX_STEPS, value=note))
            notes.append(note)
        name = track.get("name", "")
        clean_tracks.append({"name": name[:60] if isinstance(name, str) else "", "program": track.get("program", 0),
                             "is_drum": track.get("is_drum", False), "notes": notes})
    if not any(t["notes"] for t in clean_tracks if not t["is_drum"]):
        raise NotesError("no_notes", NO_NOTES_MESSAGE)
    return {"tempo": float(tempo), "time_signature": list(meter), "key": key, "tracks": clean_tracks}


def notes_to_midi(notes: dict) -> pretty_midi.PrettyMIDI:
    """Checked notes (``parse_notes``) as PrettyMIDI at their tempo and meter."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=notes["tempo"])
    numerator, denominator = notes["time_signature"]
    pm.time_signature_changes = [pretty_midi.TimeSignature(numerator, denominator, 0.0)]
    if notes.get("key"):
        pm.key_signature_changes = [pretty_midi.KeySignature(key_number(key_from_name(notes["key"])), 0.0)]
    step_seconds = 60.0 / notes["tempo"] / STEPS_PER_BEAT
    for track in notes["tracks"]:
        instrument = pretty_midi.Instrument(program=track["program"], is_drum=track["is_drum"], name=track["name"])
        for pitch, start, length, velocity in sorted(track["notes"], key=lambda n: (n[1], n[0])):
            instrument.notes.append(pretty_midi.Note(velocity=velocity, pitch=pitch, start=start * step_seconds,
                                                     end=(start + length) * step_seconds))
        pm.instruments.append(instrument)
    return pm


def notes_to_midi_bytes(raw: str | bytes | dict) -> bytes:
    """The ``notes`` field as Standard MIDI File bytes within the platform's limits (NotesError otherwise)."""
    data = midi_to_bytes(notes_to_midi(parse_notes(raw)))
    try:
        validate_midi_bytes(data)
    except MidiValidationError as exc:
        raise NotesError(exc.code, exc.message) from exc
    return data


def midi_to_notes(pm: pretty_midi.PrettyMIDI) -> dict:
    """Validated MIDI on the studio's grid: onsets and ends rounded to the nearest sixteenth (tempo changes
    followed through the file's tick map)."""
    ticks_per_step = pm.resolution / STEPS_PER_BEAT
    tracks = []
    for instrument in pm.instruments:
        notes = []
        for note in instrument.notes:
            start = round(pm.time_to_tick(note.start) / ticks_per_step)
            end = max(start + 1, round(pm.time_to_tick(note.end) / ticks_per_step))
            notes.append([int(note.pitch), int(start), int(end - start), int(note.velocity) or 1])
        notes.sort(key=lambda n: (n[1], n[0]))
        tracks.append({"name": instrument.name or "", "program": int(instrument.program),
                       "is_drum": bool(instrument.is_drum), "notes": notes})
    key = key_name(key_of(pm)) if pm.key_signature_changes else None  # the key the file states, not an estimate
    return {"tempo": first_tempo(pm), "time_signature": list(first_time_signature(pm)), "key": key, "tracks": tracks}
