"""Piano rolls on the sixteenth-note grid (docs/design.md section 3). No torch, no Django; vectorized numpy.

A track is a ``(T, 128)`` boolean roll (``True`` = the pitch sounds during that step) plus an onset mask of the same
shape (``True`` = a note starts there), so that a pitch struck again right after itself survives the round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pretty_midi

from generation.engine.midi_io import first_tempo, first_time_signature, steps_per_bar_of

ONSET_TOLERANCE_S = 0.05  # onsets closer than this are one attack (a rolled, humanized or jittered chord): the
#                           scorer's metrics and originality check both read sounded notes with it

STEPS_PER_BEAT = 4  # a beat is a quarter note; one step is a sixteenth note
N_PITCHES = 128
DEFAULT_VELOCITY = 80


@dataclass
class Rolls:
    tracks: np.ndarray  # bool (n_tracks, T, 128)
    programs: list[int]
    is_drum: list[bool]
    names: list[str]
    tempo_bpm: float
    time_signature: tuple[int, int]
    steps_per_bar: int
    onsets: np.ndarray | None = None  # bool (n_tracks, T, 128); None = every run of active cells is one note
    velocities: list[int] = field(default_factory=list)  # per track; empty = DEFAULT_VELOCITY

    @property
    def n_steps(self) -> int:
        return int(self.tracks.shape[1])

    @property
    def step_seconds(self) -> float:
        return 60.0 / (self.tempo_bpm * STEPS_PER_BEAT)


def _tempo_map(pm: pretty_midi.PrettyMIDI) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(change times in s, steps a second from each change, steps elapsed at each change) of ``pm``'s tempo changes."""
    change_times, tempi = pm.get_tempo_changes()
    if len(tempi) == 0:
        change_times, tempi = np.array([0.0]), np.array([120.0])
    change_times = np.asarray(change_times, dtype=np.float64)
    steps_per_second = np.asarray(tempi, dtype=np.float64) / 60.0 * STEPS_PER_BEAT
    steps_at_change = np.concatenate([[0.0], np.cumsum(np.diff(change_times) * steps_per_second[:-1])])
    return change_times, steps_per_second, steps_at_change


def seconds_to_steps(pm: pretty_midi.PrettyMIDI, times: np.ndarray) -> np.ndarray:
    """Map seconds to (fractional) sixteenth-note steps, following every tempo change of ``pm``."""
    change_times, steps_per_second, steps_at_change = _tempo_map(pm)
    idx = np.clip(np.searchsorted(change_times, times, side="right") - 1, 0, len(change_times) - 1)
    return steps_at_change[idx] + (times - change_times[idx]) * steps_per_second[idx]


def steps_to_seconds(pm: pretty_midi.PrettyMIDI, steps: np.ndarray) -> np.ndarray:
    """Sixteenth-note steps -> seconds, following every tempo change of ``pm`` (inverse of seconds_to_steps)."""
    change_times, steps_per_second, steps_at_change = _tempo_map(pm)
    idx = np.clip(np.searchsorted(steps_at_change, steps, side="right") - 1, 0, len(change_times) - 1)
    return change_times[idx] + (steps - steps_at_change[idx]) / steps_per_second[idx]


def notes_to_roll(
    pitches: np.ndarray, starts: np.ndarray, ends: np.ndarray, n_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Integer step notes -> (roll, onsets), both bool (n_steps, 128). Notes past ``n_steps`` are cut."""
    roll_delta = np.zeros((n_steps + 1, N_PITCHES), dtype=np.int32)
    onsets = np.zeros((n_steps, N_PITCHES), dtype=bool)
    keep = (starts < n_steps) & (ends > starts)
    pitches, starts, ends = pitches[keep], starts[keep], np.minimum(ends[keep], n_steps)
    np.add.at(roll_delta, (starts, pitches), 1)
    np.add.at(roll_delta, (ends, pitches), -1)
    onsets[starts, pitches] = True
    roll = np.cumsum(roll_delta[:-1], axis=0) > 0
    return roll, onsets


def roll_to_notes(roll: np.ndarray, onsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bool (T, 128) roll (+ optional onset mask) -> (pitches, starts, ends) in steps, sorted by start then pitch."""
    roll = np.asarray(roll, dtype=bool)
    padded = np.zeros((roll.shape[0] + 2, roll.shape[1]), dtype=bool)
    padded[1:-1] = roll
    starts_mask = padded[1:-1] & ~padded[:-2]  # a run begins
    if onsets is not None:
        starts_mask |= roll & np.asarray(onsets, dtype=bool)  # a re-strike inside a run
    ends_mask = padded[1:-1] & ~padded[2:]  # a run's last cell
    start_pitch, start_step = np.nonzero(starts_mask.T)  # ordered by pitch, then time
    end_pitch, end_step = np.nonzero(ends_mask.T)
    n_keys = roll.shape[0] + 1
    # a note ends at its run's last cell + 1, or earlier at the next onset of the same pitch
    run_end = end_step[np.searchsorted(end_pitch * n_keys + end_step, start_pitch * n_keys + start_step)] + 1
    next_onset = np.full(start_step.shape, np.iinfo(np.int64).max, dtype=np.int64)
    same_pitch = start_pitch[1:] == start_pitch[:-1]
    next_onset[:-1][same_pitch] = start_step[1:][same_pitch]
    ends = np.minimum(run_end, next_onset).astype(np.int64)
    pitches, starts = start_pitch.astype(np.int64), start_step.astype(np.int64)
    order = np.lexsort((pitches, starts))
    return pitches[order], starts[order], ends[order]


def midi_to_rolls(pm: pretty_midi.PrettyMIDI, min_steps: int = 0) -> Rolls:
    """Every instrument of ``pm`` (drums included, flagged) as a roll on the sixteenth grid."""
    per_track = []
    last_step = 0
    for inst in pm.instruments:
        if inst.notes:
            arr = np.array([(n.pitch, n.start, n.end) for n in inst.notes], dtype=np.float64)
            steps = seconds_to_steps(pm, arr[:, 1:].ravel()).reshape(-1, 2)
            starts = np.rint(steps[:, 0]).astype(np.int64)
            ends = np.maximum(np.rint(steps[:, 1]).astype(np.int64), starts + 1)
            pitches = arr[:, 0].astype(np.int64)
            last_step = max(last_step, int(ends.max()))
        else:
            pitches = starts = ends = np.zeros(0, dtype=np.int64)
        per_track.append((pitches, starts, ends))
    time_signature = first_time_signature(pm)
    n_steps = max(last_step, min_steps)
    tracks = np.zeros((len(per_track), n_steps, N_PITCHES), dtype=bool)
    onsets = np.zeros_like(tracks)
    for i, (pitches, starts, ends) in enumerate(per_track):
        tracks[i], onsets[i] = notes_to_roll(pitches, starts, ends, n_steps)
    velocities = [int(np.median([n.velocity for n in inst.notes])) if inst.notes else DEFAULT_VELOCITY
                  for inst in pm.instruments]
    return Rolls(
        tracks=tracks,
        programs=[int(inst.program) for inst in pm.instruments],
        is_drum=[bool(inst.is_drum) for inst in pm.instruments],
        names=[inst.name for inst in pm.instruments],
        tempo_bpm=first_tempo(pm),
        time_signature=time_signature,
        steps_per_bar=steps_per_bar_of(time_signature, STEPS_PER_BEAT),
        onsets=onsets,
        velocities=velocities,
    )


SOUNDED_STEPS_PER_SECOND = 8  # the sounded grid: 125 ms steps, a sixteenth at 120 bpm (the chorales' tempo)


def sounded_rolls(pm: pretty_midi.PrettyMIDI,
                  steps_per_second: int = SOUNDED_STEPS_PER_SECOND) -> tuple[np.ndarray, np.ndarray]:
    """The pitched (non-drum) tracks as they sound: bool ``(n_tracks, T, 128)`` rolls and onsets on a grid of
    fixed steps in seconds, whatever the file's tempo markings, note values or resolution say. Scores read this, so
    the same audio written another way scores the same."""
    per_track = []
    for inst in pm.instruments:
        if inst.is_drum or not inst.notes:
            continue
        arr = np.array([(n.pitch, n.start, n.end) for n in inst.notes], dtype=np.float64)
        starts = np.rint(arr[:, 1] * steps_per_second).astype(np.int64)
        ends = np.maximum(np.rint(arr[:, 2] * steps_per_second).astype(np.int64), starts + 1)
        per_track.append((arr[:, 0].astype(np.int64), starts, ends))
    n_steps = max((int(ends.max()) for _p, _s, ends in per_track), default=0)
    tracks = np.zeros((len(per_track), n_steps, N_PITCHES), dtype=bool)
    onsets = np.zeros_like(tracks)
    for i, (pitches, starts, ends) in enumerate(per_track):
        tracks[i], onsets[i] = notes_to_roll(pitches, starts, ends, n_steps)
    return tracks, onsets


def rolls_to_midi(rolls: Rolls) -> pretty_midi.PrettyMIDI:
    """Rolls -> PrettyMIDI with the rolls' tempo and time signature; on-grid notes come back exactly."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(rolls.tempo_bpm))
    num, den = rolls.time_signature
    pm.time_signature_changes.append(pretty_midi.TimeSignature(int(num), int(den), 0.0))
    step = rolls.step_seconds
    for i in range(rolls.tracks.shape[0]):
        onsets = None if rolls.onsets is None else rolls.onsets[i]
        pitches, starts, ends = roll_to_notes(rolls.tracks[i], onsets)
        velocity = rolls.velocities[i] if i < len(rolls.velocities) else DEFAULT_VELOCITY
        inst = pretty_midi.Instrument(
            program=int(rolls.programs[i]) if i < len(rolls.programs) else 0,
            is_drum=bool(rolls.is_drum[i]) if i < len(rolls.is_drum) else False,
            name=rolls.names[i] if i < len(rolls.names) else "",
        )
        inst.notes = [
            pretty_midi.Note(velocity=int(velocity), pitch=int(p), start=float(s * step), end=float(e * step))
            for p, s, e in zip(pitches.tolist(), starts.tolist(), ends.tolist(), strict=True)
        ]
        pm.instruments.append(inst)
    return pm


def replace_tracks(rolls: Rolls, tracks: np.ndarray, onsets: np.ndarray | None = None, **changes) -> Rolls:
    """A copy of ``rolls`` (same tempo, time signature, programs) holding new ``tracks`` -- for generated output."""
    meta = {
        "programs": list(rolls.programs), "is_drum": list(rolls.is_drum), "names": list(rolls.names),
        "tempo_bpm": rolls.tempo_bpm, "time_signature": rolls.time_signature, "steps_per_bar": rolls.steps_per_bar,
        "velocities": list(rolls.velocities),
    }
    meta.update(changes)
    return Rolls(tracks=np.asarray(tracks, dtype=bool), onsets=onsets, **meta)
