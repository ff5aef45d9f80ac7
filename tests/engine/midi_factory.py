"""Small MIDI files built in tests (no fixtures on disk)."""

from __future__ import annotations

from collections.abc import Iterable

import pretty_midi


def make_pm(
    tracks: Iterable[Iterable[tuple[int, float, float]]],
    *,
    tempo: float = 120.0,
    time_signature: tuple[int, int] | None = (4, 4),
    programs: Iterable[int] | None = None,
    drum_tracks: Iterable[int] = (),
    velocity: int = 80,
) -> pretty_midi.PrettyMIDI:
    """``tracks``: per track, notes as (pitch, start_beat, end_beat) in quarter notes."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    if time_signature:
        pm.time_signature_changes.append(pretty_midi.TimeSignature(*time_signature, 0.0))
    beat = 60.0 / tempo
    tracks = list(tracks)
    programs = list(programs) if programs is not None else [0] * len(tracks)
    drums = set(drum_tracks)
    for i, notes in enumerate(tracks):
        inst = pretty_midi.Instrument(program=programs[i], is_drum=i in drums, name=f"track{i}")
        inst.notes = [pretty_midi.Note(velocity, p, s * beat, e * beat) for p, s, e in notes]
        pm.instruments.append(inst)
    return pm


def note_tuples(pm: pretty_midi.PrettyMIDI, track: int, *, beat: float) -> list[tuple[int, float, float]]:
    """Notes of one track as sorted (pitch, start_beat, end_beat) rounded to 1e-4."""
    return sorted(
        (n.pitch, round(n.start / beat, 4), round(n.end / beat, 4)) for n in pm.instruments[track].notes
    )
