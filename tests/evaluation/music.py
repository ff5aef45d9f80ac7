"""Hand-built pieces for the evaluation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi

from generation.engine.midi_io import load_midi, midi_to_bytes

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


def variant(pm: pretty_midi.PrettyMIDI, *, shift: int = 0, note_values: float = 1.0, tempo: float = 1.0,
            order: list[int] | None = None, octaves: list[int] | None = None) -> pretty_midi.PrettyMIDI:
    """A copy of ``pm`` as a copier would disguise it: transposed by ``shift`` semitones, every note value times
    ``note_values`` with the tempo marking times ``tempo``, its pitched tracks in ``order`` (the copy's track i is
    the original's track order[i]), each moved by ``octaves[i]`` octaves. Sounding time scales by note_values/tempo."""
    tracks = [inst for inst in pm.instruments if not inst.is_drum]
    order = list(range(len(tracks))) if order is None else order
    octaves = [0] * len(order) if octaves is None else octaves
    _, tempi = pm.get_tempo_changes()
    out = pretty_midi.PrettyMIDI(initial_tempo=float(tempi[0] if len(tempi) else 120.0) * tempo)
    scale = note_values / tempo
    out.time_signature_changes = [pretty_midi.TimeSignature(ts.numerator, ts.denominator, ts.time * scale)
                                  for ts in pm.time_signature_changes]
    for i, src in enumerate(order):
        inst = pretty_midi.Instrument(program=tracks[src].program, name=f"track {i + 1}")
        move = shift + 12 * octaves[i]
        inst.notes = [pretty_midi.Note(n.velocity, int(np.clip(n.pitch + move, 0, 127)), n.start * scale,
                                       n.end * scale) for n in tracks[src].notes]
        out.instruments.append(inst)
    return out


def with_tracks(pm: pretty_midi.PrettyMIDI, *others: pretty_midi.Instrument) -> pretty_midi.PrettyMIDI:
    """``pm`` with ``others`` added as further tracks (their notes in seconds, as they are)."""
    out = variant(pm)
    for inst in others:
        added = pretty_midi.Instrument(inst.program, name=f"track {len(out.instruments) + 1}")
        added.notes = list(inst.notes)
        out.instruments.append(added)
    return out


def one_track(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """Every pitched note of ``pm`` on one piano track (a keyboard reduction)."""
    out = variant(pm, order=[0])
    out.instruments[0].notes = sorted((n for inst in pm.instruments if not inst.is_drum for n in inst.notes),
                                      key=lambda n: (n.start, n.pitch))
    out.instruments[0].name = "piano"
    return out


# ------------------------------------------------------------- the same sound, other notation or performance
def _rebuilt(pm: pretty_midi.PrettyMIDI, move) -> pretty_midi.PrettyMIDI:
    """``pm`` with every note passed through ``move(note) -> (pitch, start, end)`` (seconds), tracks kept."""
    out = variant(pm)
    for inst in out.instruments:
        inst.notes = [pretty_midi.Note(n.velocity, *move(n)) for n in inst.notes]
        inst.notes.sort(key=lambda n: (n.start, n.pitch))
    return out


def _onset_map(pm: pretty_midi.PrettyMIDI, fn) -> pretty_midi.PrettyMIDI:
    """Every distinct onset (all notes struck together) moved to fn(index, onset); each note keeps its length."""
    onsets = sorted({round(n.start, 6) for inst in pm.instruments for n in inst.notes})
    new = {t: max(0.0, fn(i, t)) for i, t in enumerate(onsets)}
    return _rebuilt(pm, lambda n: (n.pitch, new[round(n.start, 6)], new[round(n.start, 6)] + n.end - n.start))


def jittered(pm: pretty_midi.PrettyMIDI, rng: np.random.Generator, limit: float) -> pretty_midi.PrettyMIDI:
    return _onset_map(pm, lambda i, t: t + float(rng.uniform(-limit, limit)))


def every_other_late(pm: pretty_midi.PrettyMIDI, delay: float) -> pretty_midi.PrettyMIDI:
    return _onset_map(pm, lambda i, t: t + delay * (i % 2))


def _beat_s(pm: pretty_midi.PrettyMIDI) -> float:
    _, tempi = pm.get_tempo_changes()
    return 60.0 / float(tempi[0])


def swung(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """Each off-beat eighth (an onset half-way through a beat) moved to 2/3 of the beat; the note before it on the
    beat keeps its onset."""
    beat = _beat_s(pm)

    def move(i, t):
        b, frac = divmod(t / beat, 1.0)
        return (b + 2 / 3) * beat if abs(frac - 0.5) < 0.01 else t

    return _onset_map(pm, move)


def time_signature_changed(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    out = variant(pm)
    out.time_signature_changes = [pretty_midi.TimeSignature(64, 4, 0.0),
                                  pretty_midi.TimeSignature(4, 4, out.tick_to_time(1))]
    return load_midi(midi_to_bytes(out))


def tempo_marking_changed(pm: pretty_midi.PrettyMIDI, bpm: float) -> pretty_midi.PrettyMIDI:
    """The same notes in seconds written under another tempo marking (so other note values), read back."""
    out = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    out.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    for inst in pm.instruments:
        copy = pretty_midi.Instrument(inst.program, name=inst.name)
        copy.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start, n.end) for n in inst.notes]
        out.instruments.append(copy)
    return load_midi(midi_to_bytes(out))


def alternated(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """All notes pooled; the notes of the k-th onset go to track k % 2 (the same sound, no voice on one track)."""
    notes = sorted((n for inst in pm.instruments for n in inst.notes), key=lambda n: (n.start, n.pitch))
    onsets = sorted({round(n.start, 6) for n in notes})
    index = {t: i for i, t in enumerate(onsets)}
    out = variant(pm, order=[0, 1])
    for k, inst in enumerate(out.instruments):
        inst.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start, n.end) for n in notes
                      if index[round(n.start, 6)] % 2 == k]
    return out


def patchwork(pms: list[pretty_midi.PrettyMIDI], bars: float) -> pretty_midi.PrettyMIDI:
    """Pieces of ``bars`` 4/4 bars taken in turn from each piece (from the same place in it), end to end."""
    span = 4 * bars * _beat_s(pms[0])
    length = min(pm.get_end_time() for pm in pms)
    out = variant(pms[0])
    for inst in out.instruments:
        inst.notes = []
    for k, start in enumerate(np.arange(0.0, length - span, span)):
        src = pms[k % len(pms)]
        for inst, src_inst in zip(out.instruments, src.instruments, strict=False):
            inst.notes += [pretty_midi.Note(n.velocity, n.pitch, n.start, min(n.end, start + span))
                           for n in src_inst.notes if start <= n.start < start + span]
    return out


def retrograde(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    end = pm.get_end_time()
    return _rebuilt(pm, lambda n: (n.pitch, end - n.end, end - n.start))


def inversion(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """Every interval turned upside down around the piece's middle pitch (kept in the MIDI range)."""
    pitches = [n.pitch for inst in pm.instruments for n in inst.notes]
    axis = (min(pitches) + max(pitches)) // 2
    return _rebuilt(pm, lambda n: (int(np.clip(2 * axis - n.pitch, 0, 127)), n.start, n.end))
