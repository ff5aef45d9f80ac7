"""MIDI input/output and the platform's input limits (docs/design.md section 3). No torch, no Django.

Every refusal is a ``MidiValidationError`` whose message names the limit and the value found.

Reading is bounded: the track chunks are decoded here in one pass that counts note-ons and events and stops at the
first limit passed (``MAX_NOTES``, ``MAX_EVENTS``), so a 2 MiB file of running-status notes costs milliseconds,
not seconds. A file of any resolution is brought to at most ``MAX_TICKS`` ticks (the resolution lowered in
proportion, times kept to a fraction of a millisecond) before pretty_midi builds its objects: its tick-to-time table
is one float per tick (its own 10-million-tick check refused music21's 10,080-ticks-per-beat exports).
"""

from __future__ import annotations

import copy
import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import mido
import pretty_midi
from mido.midifiles.meta import build_meta_message

from generation.engine.errors import MidiValidationError

NO_MELODY_MESSAGE = "The input has no pitched (non-drum) track with notes to work on."

MAX_MIDI_BYTES = 2 * 1024 * 1024
MAX_NOTES = 20_000
MAX_SECONDS = 600
MAX_EVENTS = 60_000  # events of all kinds over all tracks (20,000 notes on and off + 20,000 others): bounds the work
MAX_TICKS = 1_000_000  # ticks after resampling: pretty_midi's tick-to-time table is 8 bytes a tick
DEFAULT_TEMPO_BPM = 120.0

NOT_MIDI_MESSAGE = "The file is not a readable Standard MIDI File ({detail})."
TOO_LARGE_MESSAGE = "The MIDI file is {found:,} bytes; the limit is {limit:,} bytes (2 MiB)."
TOO_MANY_NOTES_MESSAGE = "The MIDI file has {found:,} notes; the limit is {limit:,}."
TOO_LONG_MESSAGE = "The MIDI file lasts {found:,.1f} seconds; the limit is {limit:,} seconds (10 minutes)."
TOO_MANY_NOTES_EARLY_MESSAGE = "The MIDI file has more than {limit:,} notes; the limit is {limit:,}."
TOO_MANY_EVENTS_MESSAGE = "The MIDI file has more than {limit:,} MIDI events; the limit is {limit:,}."
TIMING_MESSAGE = "The MIDI file's timing is out of range ({beats:,} beats); it cannot be music of 10 minutes or less."
NO_NOTES_MESSAGE = "The MIDI file has no notes outside the drum channel; at least one is needed."


@dataclass(frozen=True)
class MidiInfo:
    n_notes: int
    n_tracks: int  # instruments that hold at least one note
    seconds: float
    tempo_bpm: float  # the first tempo (120 when the file sets none)
    time_signature: tuple[int, int]  # the first time signature (4/4 when the file sets none)
    n_bars: int


def _not_midi(detail: str) -> MidiValidationError:
    return MidiValidationError("not_midi", NOT_MIDI_MESSAGE.format(detail=detail))


class _Event:
    """A channel event as pretty_midi reads it (the attributes of mido's Message that it uses), far lighter."""

    __slots__ = ("channel", "control", "note", "pitch", "program", "time", "type", "value", "velocity")

    def __init__(self, type_: str, time: int, channel: int) -> None:
        self.type, self.time, self.channel = type_, time, channel


_CHANNEL_TYPES = {0x80: "note_off", 0x90: "note_on", 0xA0: "polytouch", 0xB0: "control_change",
                  0xC0: "program_change", 0xD0: "aftertouch", 0xE0: "pitchwheel"}


def _variable_int(data: bytes, i: int, end: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        if i >= end:
            raise _not_midi("a track ends inside a variable-length number")
        byte = data[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i
    raise _not_midi("a variable-length number is longer than 4 bytes")


def _read_track(data: bytes, i: int, end: int, counts: list[int]) -> list:
    """The events of one MTrk chunk with absolute ticks in ``time``; ``counts`` = [notes, events] over the file,
    checked at every event so that a file over a limit is refused as soon as the limit is passed."""
    events: list = []
    tick, status = 0, 0
    while i < end:
        delta, i = _variable_int(data, i, end)
        tick += delta
        if i >= end:
            raise _not_midi("a track ends after a delta time")
        byte = data[i]
        if byte >= 0x80:
            i += 1
            if byte != 0xFF:
                status = byte  # as mido: meta events do not set running status, sysex does
        elif status:
            byte = status
        else:
            raise _not_midi("running status without a status byte")
        if byte == 0xFF:
            if i >= end:
                raise _not_midi("a track ends inside a meta event")
            meta_type = data[i]
            length, i = _variable_int(data, i + 1, end)
            if i + length > end:
                raise _not_midi("a meta event runs past the end of its track")
            events.append(build_meta_message(meta_type, list(data[i:i + length])))
            events[-1].time = tick
            i += length
        elif byte in (0xF0, 0xF7):  # sysex: pretty_midi ignores it
            length, i = _variable_int(data, i, end)
            i += length
        elif byte >= 0xF0:
            raise _not_midi(f"status byte 0x{byte:X} (a system message) has no place in a MIDI file")
        else:
            kind = byte & 0xF0
            size = 1 if kind in (0xC0, 0xD0) else 2
            if i + size > end:
                raise _not_midi("a track ends inside a channel event")
            first = data[i]
            second = data[i + 1] if size == 2 else 0
            if first > 127 or second > 127:
                raise _not_midi(f"data byte {max(first, second)} is above 127")
            event = _Event(_CHANNEL_TYPES[kind], tick, byte & 0x0F)
            if kind in (0x80, 0x90, 0xA0):
                event.note, event.velocity = first, second
                if kind == 0x90 and second > 0:
                    counts[0] += 1
                    if counts[0] > MAX_NOTES:
                        raise MidiValidationError("too_many_notes",
                                                  TOO_MANY_NOTES_EARLY_MESSAGE.format(limit=MAX_NOTES))
            elif kind == 0xB0:
                event.control, event.value = first, second
            elif kind == 0xC0:
                event.program = first
            elif kind == 0xE0:
                event.pitch = (second << 7 | first) - 8192
            events.append(event)
            i += size
        counts[1] += 1
        if counts[1] > MAX_EVENTS:
            raise MidiValidationError("too_many_events", TOO_MANY_EVENTS_MESSAGE.format(limit=MAX_EVENTS))
    return events


def _read_smf(data: bytes) -> mido.MidiFile:
    """The file's header and tracks as a mido.MidiFile for pretty_midi, decoded here in one bounded pass (no
    mido.Message objects: mido's reader costs ~6 us an event; this one stops at the first limit passed)."""
    if len(data) < 14:
        raise _not_midi("the header is shorter than 14 bytes")
    header_length = int.from_bytes(data[4:8], "big")
    midi_type = int.from_bytes(data[8:10], "big")
    division = int.from_bytes(data[12:14], "big")
    if header_length < 6 or midi_type > 2:
        raise _not_midi(f"the header says type {midi_type}, length {header_length}")
    if division & 0x8000:
        raise _not_midi("SMPTE time division is not supported; export with ticks per beat")
    if division == 0:
        raise _not_midi("the file has 0 ticks per beat")
    midi = mido.MidiFile(type=midi_type, ticks_per_beat=division)
    counts = [0, 0]
    position = 8 + header_length
    while position + 8 <= len(data):
        length = int.from_bytes(data[position + 4:position + 8], "big")
        start, position = position + 8, position + 8 + length
        if data[start - 8:start - 4] == b"MTrk":
            events = _read_track(data, start, min(position, len(data)), counts)
            if events:  # pretty_midi cannot take an empty track
                midi.tracks.append(events)
    if not midi.tracks:
        raise MidiValidationError("no_notes", NO_NOTES_MESSAGE)
    return midi


def _resampled(midi: mido.MidiFile) -> mido.MidiFile:
    """Events' absolute ticks to delta ticks, for pretty_midi; a file whose last event is beyond MAX_TICKS first
    gets a lower resolution in proportion (times in seconds move by at most half a new tick; tempo messages are
    per beat, so they stay as they are)."""
    last = max((track[-1].time for track in midi.tracks if track), default=0)
    old = new = midi.ticks_per_beat
    if last > MAX_TICKS:
        new = max(1, math.floor(old * MAX_TICKS / last))
        if -(-last * new // old) > MAX_TICKS:
            raise _not_midi(TIMING_MESSAGE.format(beats=last // old))
        midi.ticks_per_beat = new
    for track in midi.tracks:
        previous = 0
        for event in track:
            tick = event.time if new == old else (2 * event.time * new + old) // (2 * old)  # exact rounding
            event.time = tick - previous
            previous = tick
    return midi


def _parse(data: bytes) -> pretty_midi.PrettyMIDI:
    if not data.startswith(b"MThd"):
        raise _not_midi("it does not start with 'MThd'")
    try:
        midi = _resampled(_read_smf(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pretty_midi.PrettyMIDI(mido_object=midi)
    except MidiValidationError:
        raise
    except Exception as exc:  # mido's meta decoders and pretty_midi raise many types on odd input
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise _not_midi(detail) from exc


def melody_track(pm: pretty_midi.PrettyMIDI) -> int:
    """Index of the first non-drum instrument with notes: the melody a model edits, accompanies or continues."""
    for i, inst in enumerate(pm.instruments):
        if not inst.is_drum and inst.notes:
            return i
    raise MidiValidationError("no_notes", NO_MELODY_MESSAGE)


def last_note_end(pm: pretty_midi.PrettyMIDI) -> float:
    """Where the input's music ends: the end of its last sounding note (any track), whatever text follows."""
    return max((n.end for inst in pm.instruments for n in inst.notes), default=0.0)


def cut_at_last_note(pm: pretty_midi.PrettyMIDI) -> tuple[pretty_midi.PrettyMIDI, list[str]]:
    """A copy of ``pm`` without the text and lyric events after its last note (they would make get_end_time(), and a
    continuation, start after seconds of silence), and a sentence saying what was dropped (none: nothing was)."""
    end = last_note_end(pm)
    late = [e for e in (*pm.lyrics, *pm.text_events) if e.time > end + 1e-6]
    if not late:
        return pm, []
    out = copy.deepcopy(pm)
    out.lyrics = [e for e in out.lyrics if e.time <= end + 1e-6]
    out.text_events = [e for e in out.text_events if e.time <= end + 1e-6]
    last = max(e.time for e in late)
    return out, [f"The input ends with its last note at {end:.2f} s: {len(late)} text or lyric event"
                 f"{'s' if len(late) > 1 else ''} after it (up to {last:.2f} s) dropped."]


def first_tempo(pm: pretty_midi.PrettyMIDI) -> float:
    _, tempi = pm.get_tempo_changes()
    # MIDI stores whole microseconds per beat: 90 bpm reads back as 90.00009, so round to a thousandth of a bpm
    return round(float(tempi[0]), 3) if len(tempi) else DEFAULT_TEMPO_BPM


def first_time_signature(pm: pretty_midi.PrettyMIDI) -> tuple[int, int]:
    if pm.time_signature_changes:
        ts = pm.time_signature_changes[0]
        return int(ts.numerator), int(ts.denominator)
    return 4, 4


def steps_per_bar_of(time_signature: tuple[int, int], steps_per_beat: int = 4) -> int:
    """Sixteenth-note steps in one bar: 16 for 4/4, 12 for 3/4 and 6/8."""
    numerator, denominator = time_signature
    return max(1, round(numerator * steps_per_beat * 4 / denominator))


def _info(pm: pretty_midi.PrettyMIDI) -> MidiInfo:
    n_notes = sum(len(inst.notes) for inst in pm.instruments)
    if n_notes > MAX_NOTES:
        raise MidiValidationError("too_many_notes", TOO_MANY_NOTES_MESSAGE.format(found=n_notes, limit=MAX_NOTES))
    seconds = float(pm.get_end_time())
    if seconds > MAX_SECONDS:
        raise MidiValidationError("too_long", TOO_LONG_MESSAGE.format(found=seconds, limit=MAX_SECONDS))
    if not any(inst.notes for inst in pm.instruments if not inst.is_drum):
        raise MidiValidationError("no_notes", NO_NOTES_MESSAGE)
    tempo = first_tempo(pm)
    ts = first_time_signature(pm)
    bar_seconds = 60.0 / tempo * ts[0] * 4 / ts[1]
    n_bars = max(1, int(-(-seconds // bar_seconds)))
    n_tracks = sum(1 for inst in pm.instruments if inst.notes)
    return MidiInfo(n_notes, n_tracks, seconds, tempo, ts, n_bars)


def _validated(data: bytes) -> tuple[pretty_midi.PrettyMIDI, MidiInfo]:
    if len(data) > MAX_MIDI_BYTES:
        raise MidiValidationError("too_large", TOO_LARGE_MESSAGE.format(found=len(data), limit=MAX_MIDI_BYTES))
    pm = _parse(data)
    return pm, _info(pm)


def validate_midi_bytes(data: bytes) -> MidiInfo:
    """Check ``data`` against docs/design.md section 3's limits; raise MidiValidationError naming the broken limit."""
    return _validated(data)[1]


def _read_bytes(source: bytes | str | Path) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    path = Path(source)
    size = path.stat().st_size
    if size > MAX_MIDI_BYTES:  # refuse before reading a huge file into memory
        raise MidiValidationError("too_large", TOO_LARGE_MESSAGE.format(found=size, limit=MAX_MIDI_BYTES))
    return path.read_bytes()


def load_midi(source: bytes | str | Path) -> pretty_midi.PrettyMIDI:
    """Read and validate a MIDI file (bytes or path); return it as PrettyMIDI."""
    return _validated(_read_bytes(source))[0]


def load_midi_with_info(source: bytes | str | Path) -> tuple[pretty_midi.PrettyMIDI, MidiInfo]:
    return _validated(_read_bytes(source))


def midi_to_bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def write_midi(pm: pretty_midi.PrettyMIDI, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(midi_to_bytes(pm))
    return path
