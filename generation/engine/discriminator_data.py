"""Discriminator inputs and the corruption families it learns to tell from real music. NumPy only (no torch).

Features are track-layout independent, so a one-track piano piece and a four-track chorale are read alike: all
pitched tracks are pooled into one roll, which is split back into four voices by rank at every step (highest =
soprano, lowest = bass, second and third highest = alto and tenor). Planes, each (T, 128):
0-3 soprano/alto/tenor/bass, 4 the pooled roll, 5 the pooled onsets (re-struck notes stay visible).
"""

from __future__ import annotations

import numpy as np

from generation.engine.representation import notes_to_roll, roll_to_notes

FAMILIES = ("random_notes", "shuffled_pitches", "shuffled_bars", "untrained_generator")
VOICE_RANGES = ((60, 81), (53, 74), (48, 69), (36, 62))  # S, A, T, B: the chorales' usual ranges (MIDI pitches)
RANDOM_DURATIONS = np.array([1, 2, 2, 4, 4, 4, 6, 8])  # steps; favours quarter notes like the chorales


def run_onsets(roll: np.ndarray) -> np.ndarray:
    """Onsets of a (.., T, 128) roll that has none recorded: the first step of every run."""
    previous = np.zeros_like(roll)
    previous[..., 1:, :] = roll[..., :-1, :]
    return roll & ~previous


def piece_features(tracks: np.ndarray, onsets: np.ndarray | None = None) -> np.ndarray:
    """(n_tracks, T, 128) bool pitched tracks (+ onsets) -> (6, T, 128) float32 planes (see module docstring)."""
    tracks = np.asarray(tracks, dtype=bool)
    onsets = run_onsets(tracks) if onsets is None else (np.asarray(onsets, dtype=bool) & tracks)
    pooled = tracks.any(axis=0)  # (T, 128)
    count = pooled.sum(axis=1, keepdims=True)  # (T, 1) notes sounding at each step
    rank_top = np.cumsum(pooled[:, ::-1], axis=1)[:, ::-1]  # 1 = highest sounding pitch
    rank_bottom = np.cumsum(pooled, axis=1)  # 1 = lowest sounding pitch
    out = np.zeros((6, *pooled.shape), dtype=np.float32)
    out[0] = pooled & (rank_top == 1)
    out[1] = pooled & (rank_top == 2) & (count >= 3)
    out[2] = pooled & (rank_top == 3) & (count >= 4)
    out[3] = pooled & (rank_bottom == 1) & (count >= 2)
    out[4] = pooled
    out[5] = onsets.any(axis=0)
    return out


def feature_windows(features: np.ndarray, steps: int, hop: int) -> np.ndarray:
    """(C, T, 128) -> (N, C, steps, 128): windows every ``hop`` steps, the last one flush with the end; a piece
    shorter than one window is zero-padded (silence)."""
    c, t, p = features.shape
    if t < steps:
        padded = np.zeros((c, steps, p), dtype=features.dtype)
        padded[:, :t] = features
        return padded[None]
    starts = list(range(0, t - steps + 1, hop))
    if starts[-1] != t - steps:
        starts.append(t - steps)
    return np.stack([features[:, s : s + steps] for s in starts])


# ------------------------------------------------------------------------------------------------ corruptions
def _tracks_from_notes(notes: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_steps: int):
    tracks = np.zeros((len(notes), n_steps, 128), dtype=bool)
    onsets = np.zeros_like(tracks)
    for i, (pitches, starts, ends) in enumerate(notes):
        tracks[i], onsets[i] = notes_to_roll(pitches, starts, ends, n_steps)
    return tracks, onsets


def random_notes(n_steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Four voices of random pitches (each in its voice's range) and random durations, with a few rests."""
    notes = []
    for low, high in VOICE_RANGES:
        starts, ends, pitches = [], [], []
        t = 0
        while t < n_steps:
            duration = int(rng.choice(RANDOM_DURATIONS))
            if rng.random() > 0.08:  # a rest now and then
                starts.append(t)
                ends.append(t + duration)
                pitches.append(int(rng.integers(low, high + 1)))
            t += duration
        notes.append((np.array(pitches, dtype=np.int64), np.array(starts, dtype=np.int64), np.array(ends)))
    return _tracks_from_notes(notes, n_steps)


def shuffled_pitches(tracks: np.ndarray, onsets: np.ndarray | None, rng: np.random.Generator):
    """Each voice keeps its rhythm; its notes' pitches are permuted at random."""
    notes = []
    for i in range(tracks.shape[0]):
        pitches, starts, ends = roll_to_notes(tracks[i], None if onsets is None else onsets[i])
        notes.append((rng.permutation(pitches), starts, ends))
    return _tracks_from_notes(notes, tracks.shape[1])


def shuffled_bars(tracks: np.ndarray, onsets: np.ndarray | None, steps_per_bar: int, rng: np.random.Generator):
    """The bars (all voices together) in a random order that is not the original one."""
    onsets = run_onsets(tracks) if onsets is None else onsets
    n_bars = -(-tracks.shape[1] // steps_per_bar)
    pad = n_bars * steps_per_bar - tracks.shape[1]
    shape = (tracks.shape[0], n_bars, steps_per_bar, tracks.shape[2])
    bars = np.pad(tracks, ((0, 0), (0, pad), (0, 0))).reshape(shape)
    bar_onsets = np.pad(onsets, ((0, 0), (0, pad), (0, 0))).reshape(shape)
    order = rng.permutation(n_bars)
    if n_bars > 1:
        while np.array_equal(order, np.arange(n_bars)):
            order = rng.permutation(n_bars)
    out = bars[:, order].reshape(tracks.shape[0], -1, tracks.shape[2])[:, : tracks.shape[1]]
    out_onsets = bar_onsets[:, order].reshape(tracks.shape[0], -1, tracks.shape[2])[:, : tracks.shape[1]]
    # a note held across a bar line now continues into an unrelated bar: restrike it there
    out_onsets = out_onsets | run_onsets(out)
    return out, out_onsets & out
