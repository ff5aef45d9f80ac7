"""MIDI input/output and the platform's input limits (DESIGN section 3). No torch, no Django.

Every refusal is a ``MidiValidationError`` whose message names the limit and the value found.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import pretty_midi

from generation.engine.errors import MidiValidationError

MAX_MIDI_BYTES = 2 * 1024 * 1024
MAX_NOTES = 20_000
MAX_SECONDS = 600
DEFAULT_TEMPO_BPM = 120.0

NOT_MIDI_MESSAGE = "The file is not a readable Standard MIDI File ({detail})."
TOO_LARGE_MESSAGE = "The MIDI file is {found:,} bytes; the limit is {limit:,} bytes (2 MiB)."
TOO_MANY_NOTES_MESSAGE = "The MIDI file has {found:,} notes; the limit is {limit:,}."
TOO_LONG_MESSAGE = "The MIDI file lasts {found:,.1f} seconds; the limit is {limit:,} seconds (10 minutes)."
NO_NOTES_MESSAGE = "The MIDI file has no notes outside the drum channel; at least one is needed."


@dataclass(frozen=True)
class MidiInfo:
    n_notes: int
    n_tracks: int  # instruments that hold at least one note
    seconds: float
    tempo_bpm: float  # the first tempo (120 when the file sets none)
    time_signature: tuple[int, int]  # the first time signature (4/4 when the file sets none)
    n_bars: int


def _parse(data: bytes) -> pretty_midi.PrettyMIDI:
    if not data.startswith(b"MThd"):
        raise MidiValidationError("not_midi", NOT_MIDI_MESSAGE.format(detail="it does not start with 'MThd'"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:  # mido/pretty_midi raise many types on corrupt input
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise MidiValidationError("not_midi", NOT_MIDI_MESSAGE.format(detail=detail)) from exc


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
    """Check ``data`` against DESIGN section 3's limits; raise MidiValidationError naming the broken limit."""
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
