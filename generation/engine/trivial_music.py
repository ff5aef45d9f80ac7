"""Trivial and degenerate music: what an entrant could submit to game an automatic judge (NumPy only, no torch).

Every family returns ``(tracks, onsets)``, bool ``(n_tracks, n_steps, 128)`` on the sounded grid (8 steps a second,
a sixteenth note at 120 bpm). The realness model learns them as negatives (train_discriminator), and
``benchmarks/scoring_gaming.py`` scores them against real music. Families built from scratch take
``(n_steps, rng)``; families derived from real music (rhythm erased, a window repeated) take
``(tracks, onsets, rng)`` of a real piece. Keys are random, voicings plausible: a judge must not be fooled by an
entry only because it is in tune.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pretty_midi

from generation.engine.representation import (
    SOUNDED_STEPS_PER_SECOND,
    Rolls,
    notes_to_roll,
    roll_to_notes,
    rolls_to_midi,
)

MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
MINOR = np.array([0, 2, 3, 5, 7, 8, 10])
STEPS_PER_BAR = 16  # 2 s: a 4/4 bar at 120 bpm on the sounded grid

Notes = tuple[np.ndarray, np.ndarray, np.ndarray]  # pitches, starts, ends (steps)
Family = Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def tracks_from_notes(voices: list[Notes], n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    tracks = np.zeros((max(1, len(voices)), n_steps, 128), dtype=bool)
    onsets = np.zeros_like(tracks)
    for i, (pitches, starts, ends) in enumerate(voices):
        tracks[i], onsets[i] = notes_to_roll(np.asarray(pitches, dtype=np.int64), np.asarray(starts, dtype=np.int64),
                                             np.asarray(ends, dtype=np.int64), n_steps)  # fmt: skip
    return tracks, onsets


def _scale(rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """A random tonic (MIDI 55-66) and mode."""
    return int(rng.integers(55, 67)), (MAJOR if rng.random() < 0.6 else MINOR)


def _chord(tonic: int, mode: np.ndarray, degree: int, n_voices: int, rng: np.random.Generator) -> list[int]:
    """A diatonic chord on ``degree`` (0-based), voiced from the bass up over about two octaves."""
    tones = [mode[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
    root = tonic - 24 + int(tones[0])
    pitches = [root]
    upper = [tonic - 12 + int(t) for t in tones] + [tonic + int(t) for t in tones]
    rng.shuffle(upper)
    pitches += sorted(upper[: n_voices - 1])
    return sorted(set(pitches))


def _block_chords(chords: list[list[int]], duration: int, n_steps: int) -> list[Notes]:
    """Chords of ``duration`` steps in turn until ``n_steps``, one voice per chord tone (by rank)."""
    n_voices = max(len(c) for c in chords)
    voices: list[list[tuple[int, int, int]]] = [[] for _ in range(n_voices)]
    t, i = 0, 0
    while t < n_steps:
        chord = sorted(chords[i % len(chords)], reverse=True)
        for v, pitch in enumerate(chord):
            voices[v].append((pitch, t, min(t + duration, n_steps)))
        t += duration
        i += 1
    return [tuple(np.array(x) for x in zip(*notes, strict=True)) for notes in voices if notes]


def as_midi(tracks: np.ndarray, onsets: np.ndarray) -> pretty_midi.PrettyMIDI:
    """Sounded-grid tracks as a MIDI piece (piano, 4/4 at 120 bpm: one step is a sixteenth, 125 ms)."""
    n = tracks.shape[0]
    return rolls_to_midi(Rolls(tracks=tracks, onsets=onsets, programs=[0] * n, is_drum=[False] * n, names=[""] * n,
                               tempo_bpm=60.0 * SOUNDED_STEPS_PER_SECOND / 4, time_signature=(4, 4),
                               steps_per_bar=STEPS_PER_BAR))  # fmt: skip


# --------------------------------------------------------------------------------------------- from scratch
def held_chord(n_steps: int, rng: np.random.Generator):
    """One triad or seventh chord held for the whole piece (struck once, or again every 8-30 s)."""
    tonic, mode = _scale(rng)
    chord = _chord(tonic, mode, 0, int(rng.integers(3, 5)), rng)
    every = n_steps if rng.random() < 0.5 else int(rng.integers(64, 241))
    return tracks_from_notes(_block_chords([chord], every, n_steps), n_steps)


def long_notes(n_steps: int, rng: np.random.Generator):
    """A single pitch held for the whole piece, or a few very long notes (4-15 s each)."""
    tonic, mode = _scale(rng)
    if rng.random() < 0.5:
        return tracks_from_notes([(np.array([tonic]), np.array([0]), np.array([n_steps]))], n_steps)
    starts = [0]
    while starts[-1] < n_steps:
        starts.append(starts[-1] + int(rng.integers(32, 121)))
    pitches = tonic + rng.choice(mode, size=len(starts) - 1)
    return tracks_from_notes([(pitches, np.array(starts[:-1]), np.minimum(starts[1:], n_steps))], n_steps)


def scale_run(n_steps: int, rng: np.random.Generator):
    """A scale up and down over one or two octaves, in even quarters or eighths, alone or in parallel octaves."""
    tonic, mode = _scale(rng)
    octaves = int(rng.integers(1, 3))
    up = np.concatenate([tonic + mode + 12 * o for o in range(octaves)] + [[tonic + 12 * octaves]])
    cycle = np.concatenate([up, up[-2:0:-1]])
    duration = int(rng.choice([2, 4]))
    n = -(-n_steps // duration)
    pitches = np.resize(cycle, n)
    starts = np.arange(n) * duration
    voices = [(pitches, starts, starts + duration)]
    if rng.random() < 0.5:
        voices.append((pitches - 12, starts, starts + duration))
    return tracks_from_notes(voices, n_steps)


def arpeggio(n_steps: int, rng: np.random.Generator):
    """A broken chord (1-3-5-8 and back) over and over, in eighths or sixteenths, over a held bass."""
    tonic, mode = _scale(rng)
    cycle = np.array([tonic, tonic + mode[2], tonic + mode[4], tonic + 12, tonic + mode[4], tonic + mode[2]])
    duration = int(rng.choice([1, 2]))
    n = -(-n_steps // duration)
    starts = np.arange(n) * duration
    voices = [(np.resize(cycle, n), starts, starts + duration)]
    if rng.random() < 0.5:
        voices.append((np.array([tonic - 12]), np.array([0]), np.array([n_steps])))
    return tracks_from_notes(voices, n_steps)


def chord_loop(n_steps: int, rng: np.random.Generator):
    """Four diatonic chords (I-vi-IV-V and the like) in block whole or half notes, looped."""
    tonic, mode = _scale(rng)
    progressions = ([0, 5, 3, 4], [0, 3, 4, 0], [0, 4, 5, 3], [5, 3, 0, 4])
    degrees = progressions[int(rng.integers(len(progressions)))]
    chords = [_chord(tonic, mode, d, 4, rng) for d in degrees]
    return tracks_from_notes(_block_chords(chords, int(rng.choice([8, 16])), n_steps), n_steps)


def cadence_loop(n_steps: int, rng: np.random.Generator):
    """Ten cadence chords (ii-V-I, IV-V-I, V-vi ...) in four-voice half or quarter notes, looped."""
    tonic, mode = _scale(rng)
    degrees = [1, 4, 0, 3, 4, 0, 4, 5, 3, 4][: int(rng.integers(6, 11))]
    chords = [_chord(tonic, mode, d, 4, rng) for d in degrees]
    return tracks_from_notes(_block_chords(chords, int(rng.choice([4, 8])), n_steps), n_steps)


def repeated_note(n_steps: int, rng: np.random.Generator):
    """One pitch struck again and again in even quarters or eighths."""
    tonic, _ = _scale(rng)
    duration = int(rng.choice([2, 4]))
    starts = np.arange(0, n_steps, duration)
    return tracks_from_notes([(np.full(len(starts), tonic), starts, starts + duration)], n_steps)


def two_pitches(n_steps: int, rng: np.random.Generator):
    """Two or three pitches in turn in even notes: a tune with almost nothing in it."""
    tonic, mode = _scale(rng)
    cycle = tonic + rng.choice(mode, size=int(rng.integers(2, 4)), replace=False)
    duration = int(rng.choice([2, 4, 8]))
    starts = np.arange(0, n_steps, duration)
    return tracks_from_notes([(np.resize(cycle, len(starts)), starts, starts + duration)], n_steps)


def sparse_notes(n_steps: int, rng: np.random.Generator):
    """A short note every 2-5 s: mostly silence."""
    tonic, mode = _scale(rng)
    starts = np.cumsum(rng.integers(16, 41, size=n_steps // 16 + 1))
    starts = starts[starts < n_steps - 1]
    pitches = tonic + rng.choice(mode, size=len(starts))
    return tracks_from_notes([(pitches, starts, starts + int(rng.integers(1, 3)))], n_steps)


def random_notes(n_steps: int, rng: np.random.Generator):
    """Four voices of random pitches (each in a choir voice's range), random durations, a few rests."""
    voices = []
    for low, high in ((60, 81), (53, 74), (48, 69), (36, 62)):
        starts, ends, pitches = [], [], []
        t = 0
        while t < n_steps:
            duration = int(rng.choice([1, 2, 2, 4, 4, 4, 6, 8]))
            if rng.random() > 0.08:
                starts.append(t)
                ends.append(t + duration)
                pitches.append(int(rng.integers(low, high + 1)))
            t += duration
        voices.append((np.array(pitches), np.array(starts), np.array(ends)))
    return tracks_from_notes(voices, n_steps)


def _parallel_voices(degrees: np.ndarray, durations: np.ndarray, n_steps: int, rng: np.random.Generator):
    """A line of scale ``degrees`` (top voice) and three voices moving with it in parallel thirds, sixths or octaves
    below (diatonic: the intervals change size with the scale, as an entrant's harmonizer does)."""
    tonic, mode = _scale(rng)
    below = [(2, 5, 7), (2, 7, 9), (5, 7, 14), (2, 4, 7), (7, 9, 14)][int(rng.integers(5))]
    starts = np.concatenate([[0], np.cumsum(durations)[:-1]])
    keep = starts < n_steps
    degrees, starts, ends = degrees[keep], starts[keep], np.minimum(starts[keep] + durations[keep], n_steps)
    top = 7 + degrees  # around the octave above the tonic

    def pitch(d):
        return tonic + mode[d % 7] + 12 * (d // 7)

    voices = [(pitch(top), starts, ends)] + [(pitch(top - b), starts, ends) for b in below]
    return tracks_from_notes(voices, n_steps)


def _durations(n: int, rng: np.random.Generator) -> np.ndarray:
    """Even quarters or eighths, or a chorale-like mix of eighths, quarters and halves."""
    if rng.random() < 0.5:
        return np.full(n, int(rng.choice([2, 4])))
    return rng.choice([2, 4, 4, 4, 8], size=n)


def parallel_scale(n_steps: int, rng: np.random.Generator):
    """A scale in four voices moving in parallel thirds, sixths and octaves: up and down, or wandering by step."""
    n = n_steps  # enough notes whatever the durations
    if rng.random() < 0.5:
        span = int(rng.integers(5, 10))
        cycle = np.concatenate([np.arange(span), np.arange(span, 0, -1)])
        degrees = np.resize(cycle, n) - span // 2
    else:
        degrees = np.clip(np.cumsum(rng.choice([-1, 1], size=n)), -5, 7)
    return _parallel_voices(degrees, _durations(n, rng), n_steps, rng)


def parallel_arpeggio(n_steps: int, rng: np.random.Generator):
    """A broken chord (or chords I-IV-V-I in turn) in four voices moving in parallel."""
    n = n_steps
    shape = np.array([0, 2, 4, 7, 4, 2])
    roots = np.repeat(np.resize([0, 3, 4, 0] if rng.random() < 0.5 else [0], n // 6 + 1), 6)[:n]
    degrees = np.resize(shape, n) + roots - 3
    return _parallel_voices(degrees, _durations(n, rng), n_steps, rng)


# ------------------------------------------------------------------------------------------ from real music
def rhythm_erased(tracks: np.ndarray, onsets: np.ndarray | None, rng: np.random.Generator):
    """Each voice's short notes merged into long ones: every note lasts until the next bar line (or 2 bars)."""
    span = STEPS_PER_BAR * int(rng.integers(1, 3))
    voices = []
    for i in range(tracks.shape[0]):
        pitches, starts, _ends = roll_to_notes(tracks[i], None if onsets is None else onsets[i])
        if len(pitches) == 0:
            continue
        cell = starts // span
        first = np.ones(len(cell), dtype=bool)
        first[1:] = cell[1:] != cell[:-1]  # the first note of each span, held through it
        new_starts = cell[first] * span
        voices.append((pitches[first], new_starts, new_starts + span))
    return tracks_from_notes(voices, tracks.shape[1])


def repeated_window(tracks: np.ndarray, onsets: np.ndarray | None, rng: np.random.Generator):
    """One real bar or two, looped for the whole piece."""
    length = STEPS_PER_BAR * int(rng.integers(1, 3))
    n_steps = tracks.shape[1]
    n_bars = max(1, (n_steps - length) // STEPS_PER_BAR + 1)
    start = int(rng.integers(n_bars)) * STEPS_PER_BAR
    onsets = onsets if onsets is not None else tracks
    reps = -(-n_steps // length)
    loop = np.concatenate([tracks[:, start : start + length]] * reps, axis=1)[:, :n_steps]
    loop_onsets = np.concatenate([onsets[:, start : start + length]] * reps, axis=1)[:, :n_steps]
    if loop.shape[1] < n_steps:  # a piece shorter than the window: silence after it
        pad = ((0, 0), (0, n_steps - loop.shape[1]), (0, 0))
        loop, loop_onsets = np.pad(loop, pad), np.pad(loop_onsets, pad)
    first_step = np.zeros_like(loop)
    first_step[:, ::length] = loop[:, ::length]  # a note held into the loop's start is struck again there
    return loop, (loop_onsets | first_step) & loop


SCRATCH_FAMILIES: dict[str, Family] = {
    "held_chord": held_chord,
    "long_notes": long_notes,
    "scale": scale_run,
    "arpeggio": arpeggio,
    "chord_loop": chord_loop,
    "cadence_loop": cadence_loop,
    "repeated_note": repeated_note,
    "two_pitches": two_pitches,
    "sparse_notes": sparse_notes,
    "random_notes": random_notes,
    "parallel_scale": parallel_scale,
    "parallel_arpeggio": parallel_arpeggio,
}
DERIVED_FAMILIES = {"rhythm_erased": rhythm_erased, "repeated_window": repeated_window}
FAMILY_TEXT = {
    "held_chord": "one chord held (or struck again every 8-30 s) for the whole piece",
    "long_notes": "one pitch held, or a few 4-15 s notes",
    "scale": "a scale up and down in even notes, alone or in octaves",
    "arpeggio": "a broken chord over and over",
    "chord_loop": "four block chords in whole or half notes, looped",
    "cadence_loop": "six to ten cadence chords in four voices, looped",
    "repeated_note": "one pitch in even quarters or eighths",
    "two_pitches": "two or three pitches in turn",
    "sparse_notes": "a short note every 2-5 s",
    "random_notes": "four voices of random pitches and durations",
    "parallel_scale": "a scale in four voices moving in parallel thirds, sixths and octaves",
    "parallel_arpeggio": "broken chords in four voices moving in parallel",
    "rhythm_erased": "a real piece with its short notes merged into bar-long ones",
    "repeated_window": "one or two real bars looped",
}
