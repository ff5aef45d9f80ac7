"""Hand-built pieces for the evaluation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi

C_MAJOR_SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def piece(tracks: list[list[tuple[int, float, float]]], *, tempo: float = 120.0, drums: list | None = None,
          time_signature: tuple[int, int] = (4, 4)) -> pretty_midi.PrettyMIDI:
    """``tracks``: per track, notes as (pitch, start_beat, end_beat); ``drums``: the same for one drum track."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(*time_signature, 0.0))
    beat = 60.0 / tempo
    for i, notes in enumerate(tracks):
        inst = pretty_midi.Instrument(program=0, name=f"track {i + 1}")
        inst.notes = [pretty_midi.Note(80, p, s * beat, e * beat) for p, s, e in notes]
        pm.instruments.append(inst)
    if drums:
        inst = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
        inst.notes = [pretty_midi.Note(100, p, s * beat, e * beat) for p, s, e in drums]
        pm.instruments.append(inst)
    return pm


def scale_piece(**kwargs) -> pretty_midi.PrettyMIDI:
    """The C major scale C4..C5 in quarter notes, one track."""
    return piece([[(p, i, i + 1) for i, p in enumerate(C_MAJOR_SCALE)]], **kwargs)


def random_walk_piece(seed: int, n_notes: int = 64, n_tracks: int = 2) -> pretty_midi.PrettyMIDI:
    """An 'original' piece: random-walk melodies with irregular rhythms (no known music)."""
    rng = np.random.default_rng(seed)
    tracks = []
    for t in range(n_tracks):
        pitch, beat, notes = 64 - 12 * t, 0.0, []
        for _ in range(n_notes):
            length = float(rng.choice([0.25, 0.5, 0.75, 1.0, 1.5]))
            pitch = int(np.clip(pitch + rng.integers(-5, 6), 40, 84))
            notes.append((pitch, beat, beat + length))
            beat += length
        tracks.append(notes)
    return piece(tracks)


def write(pm: pretty_midi.PrettyMIDI, path: Path) -> Path:
    pm.write(str(path))
    return path
