"""Discriminator inputs and the corruption families it learns to tell from real music. NumPy only (no torch).

Features are track-layout independent, so a one-track piano piece and a four-track chorale are read alike: all
pitched tracks are pooled into one roll, which is split back into four voices by rank at every step (highest =
soprano, lowest = bass, second and third highest = alto and tenor). Planes, each (T, 128):
0-3 soprano/alto/tenor/bass, 4 the pooled roll, 5 the pooled onsets (re-struck notes stay visible).
"""

from __future__ import annotations

import numpy as np

from generation.engine.dataset import transpose
from generation.engine.representation import notes_to_roll, roll_to_notes
from generation.engine.trivial_music import tracks_from_notes

# Corruption families with docs/design.md section 8's AUC target; the trivial families are in trivial_music.
FAMILIES = ("random_notes", "shuffled_pitches", "shuffled_bars", "untrained_generator")
VOICE_RANGES = ((60, 81), (53, 74), (48, 69), (36, 62))  # S, A, T, B: the chorales' usual ranges (MIDI pitches)


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


# A legacy model (n_pitches 128: absolute pitch, stride 2 on the pitch axis) is only nearly invariant to
# transpositions by multiples of 8 semitones; scoring averages its windows over one such period of transpositions.
TRANSPOSITIONS = tuple(range(-4, 4))
LEGACY_PITCHES = 128


def piece_windows(tracks: np.ndarray, onsets: np.ndarray | None, steps: int, hop: int,
                  transpositions: tuple[int, ...] = TRANSPOSITIONS, n_pitches: int = LEGACY_PITCHES) -> np.ndarray:
    """The feature windows a model of ``n_pitches`` reads: (N, 6, steps, n_pitches) windows anchored at their
    lowest sounding pitch (transposition-invariant by construction: ``anchored``), or for a legacy model
    (n_pitches 128) (N * len(transpositions), 6, steps, 128) absolute windows, once per transposition."""
    features = piece_features(tracks, onsets)  # voices are split by pitch order, which transposing keeps
    if n_pitches < LEGACY_PITCHES:
        return anchored(feature_windows(features, steps, hop), n_pitches)
    return np.concatenate([feature_windows(transpose(features, s), steps, hop) for s in transpositions])


def anchored(windows: np.ndarray, n_pitches: int) -> np.ndarray:
    """(N, C, W, 128) -> (N, C, W, n_pitches): each window's pitch axis read from its lowest sounding pitch up
    (row 0 = that pitch), so a window and any transposition of it give the same input. Notes more than
    ``n_pitches - 1`` semitones above the lowest are folded into the top row (still heard, never dropped)."""
    n, c, w, p = windows.shape
    out = np.zeros((n, c, w, n_pitches), dtype=windows.dtype)
    sounding = windows[:, 4].any(axis=1)  # (N, 128): pitches sounding anywhere in the window (pooled plane)
    for i in range(n):
        used = np.flatnonzero(sounding[i])
        low = int(used[0]) if used.size else 0
        high = min(p, low + n_pitches)
        out[i, :, :, : high - low] = windows[i, :, :, low:high]
        if low + n_pitches < p:
            out[i, :, :, -1] = np.maximum(out[i, :, :, -1], windows[i, :, :, low + n_pitches - 1 :].max(axis=-1))
    return out


def feature_windows(features: np.ndarray, steps: int, hop: int) -> np.ndarray:
    """(C, T, 128) -> (N, C, steps, 128): windows every ``hop`` steps, the last one flush with the end; a piece
    shorter than one window is zero-padded (silence)."""
    c, t, p = features.shape
    if t < steps:
        padded = np.zeros((c, steps, p), dtype=features.dtype)
        padded[:, :t] = features
        return padded[None]
    return np.stack([features[:, s : s + steps] for s in window_starts(t, steps, hop)])


def window_starts(n_steps: int, steps: int, hop: int) -> list[int]:
    """Where feature_windows' windows start: every ``hop`` steps, the last one flush with the end (one at 0 when the
    piece is shorter than a window)."""
    if n_steps <= steps:
        return [0]
    starts = list(range(0, n_steps - steps + 1, hop))
    if starts[-1] != n_steps - steps:
        starts.append(n_steps - steps)
    return starts


# ------------------------------------------------------------------------------------------------ corruptions
def shuffled_pitches(tracks: np.ndarray, onsets: np.ndarray | None, rng: np.random.Generator):
    """Each voice keeps its rhythm; its notes' pitches are permuted at random."""
    notes = []
    for i in range(tracks.shape[0]):
        pitches, starts, ends = roll_to_notes(tracks[i], None if onsets is None else onsets[i])
        notes.append((rng.permutation(pitches), starts, ends))
    return tracks_from_notes(notes, tracks.shape[1])


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


def performed(tracks: np.ndarray, onsets: np.ndarray | None, n_steps: int, *, factor: float = 1.0,
              articulation: float = 1.0, spread: float = 0.0, jitter_steps: float = 0.0,
              rng: np.random.Generator | None = None):
    """The music as a performer might play it, re-read on the grid and cut to ``n_steps``: ``factor`` times as long
    (tempo), each note sounding ``articulation`` of its value (+- ``spread``, per note: staccato at 0.4), each onset
    moved by up to +- ``jitter_steps`` (humanized timing). A sounded note lasts at least one step."""
    rng = rng or np.random.default_rng(0)
    out = np.zeros((tracks.shape[0], n_steps, tracks.shape[2]), dtype=bool)
    out_onsets = np.zeros_like(out)
    for i in range(tracks.shape[0]):
        pitches, starts, ends = roll_to_notes(tracks[i], None if onsets is None else onsets[i])
        n = len(pitches)
        begin = starts * factor + (rng.uniform(-jitter_steps, jitter_steps, n) if jitter_steps else 0.0)
        share = articulation + (rng.uniform(-spread, spread, n) if spread else 0.0)
        length = (ends - starts) * factor * np.clip(share, 0.05, 1.0)
        new_starts = np.maximum(np.rint(begin), 0).astype(np.int64)
        new_ends = np.maximum(np.rint(begin + length).astype(np.int64), new_starts + 1)
        out[i], out_onsets[i] = notes_to_roll(pitches, new_starts, new_ends, n_steps)
    return out, out_onsets
