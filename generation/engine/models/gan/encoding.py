"""The GAN's view of music, in numpy (no torch): each voice as one line (a pitch or a rest per step, and onsets),
meter flags, the one-hot tracks the networks read, and the per-track measures training plots and benchmarks report.

A line is ``pitch`` (T,) int (``REST`` = -1 where the voice is silent) and ``onset`` (T,) bool (a note starts).
The generator writes a part as *events*, one class a step out of n_pitches + 2: ``p - lowest_pitch`` (a note of pitch
p starts), ``n_pitches`` (HOLD: the sounding note goes on) or ``n_pitches + 1`` (a rest), so a held note is one
decision, not a pitch chosen again every sixteenth.
"""

from __future__ import annotations

import numpy as np

from generation.engine.keys import MAJOR, MINOR, key_from_weights
from generation.engine.representation import STEPS_PER_BEAT, notes_to_roll, roll_to_notes

REST = -1
TRACK_MEASURES = ("in_key_rate", "pitches_used", "polyphony", "empty_bar_rate")


# ------------------------------------------------------------------------------------------------------ lines
def top_line(roll: np.ndarray, onsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, 128) roll (+ onsets) -> the highest sounding pitch per step and where a note of that line starts."""
    roll = np.asarray(roll, dtype=bool)
    sounding = roll.any(axis=1)
    pitch = np.where(sounding, 127 - np.argmax(roll[:, ::-1], axis=1), REST)
    previous = np.concatenate([[REST], pitch[:-1]])
    onset = sounding & (pitch != previous)
    if onsets is not None:
        struck = np.asarray(onsets, dtype=bool)[np.arange(len(pitch)), np.maximum(pitch, 0)]
        onset |= sounding & struck
    return pitch.astype(np.int64), onset


def line_to_roll(pitch: np.ndarray, onset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A line -> (roll, onsets), both bool (T, 128); a note starts where the pitch changes or an onset is set."""
    pitch, onset = np.asarray(pitch), np.asarray(onset, dtype=bool)
    sounding = pitch >= 0
    previous = np.concatenate([[REST], pitch[:-1]])
    starts = np.nonzero(sounding & ((pitch != previous) | onset))[0]
    ends = np.append(starts[1:], len(pitch))
    # a note ends at the next start or at the first rest after it
    rest_steps = np.append(np.nonzero(~sounding)[0], len(pitch))
    first_rest = rest_steps[np.searchsorted(rest_steps, starts)]
    ends = np.minimum(ends, first_rest)
    return notes_to_roll(pitch[starts], starts, ends, len(pitch))


def fold_into_range(pitch: np.ndarray, low: int, high: int) -> np.ndarray:
    """Pitches outside low..high (inclusive) moved by whole octaves to the nearest octave inside; rests kept."""
    pitch = np.asarray(pitch).copy()
    below, above = (pitch >= 0) & (pitch < low), pitch > high
    pitch[below] += 12 * np.ceil((low - pitch[below]) / 12).astype(np.int64)
    pitch[above] -= 12 * np.ceil((pitch[above] - high) / 12).astype(np.int64)
    return pitch


def model_shift(pitch: np.ndarray, center: int, key: tuple[int, str] | None = None) -> int:
    """Semitones that move a melody line into the model's key and register: its key (``key`` when the file states
    one, else estimated: Krumhansl-Schmuckler on the line, durations weighted) to C major or A minor, then by whole
    octaves so its median pitch is nearest ``center``. Training pieces and the sampler's melodies are moved alike,
    so the model sees one key."""
    sounding = pitch[pitch >= 0]
    if not len(sounding):
        return 0
    root, mode = key or key_of_histogram(np.bincount(sounding % 12, minlength=12).astype(np.float64))
    to_c = ((0 if mode == "major" else 9) - root) % 12  # 0..11 semitones up to C major / A minor
    median = float(np.median(sounding))
    return min((to_c + 12 * k for k in range(-11, 12)), key=lambda s: (abs(median + s - center), abs(s)))


def key_of_signature(key_number: int) -> tuple[int, str]:
    """A MIDI file's key signature (pretty_midi's key_number: 0-11 major, 12-23 minor) as (root, mode)."""
    return key_number % 12, MAJOR if key_number < 12 else MINOR


def melody_for_model(pitch: np.ndarray, config, key: tuple[int, str] | None = None) -> tuple[np.ndarray, int]:
    """A melody line moved by ``model_shift`` (to C major / A minor, median near ``config.melody_center``), then
    folded into the model's range (``lowest_pitch``, ``n_pitches``): (the line the model reads, the shift)."""
    shift = model_shift(pitch, config.melody_center, key)
    moved = np.where(pitch >= 0, pitch + shift, REST)
    return fold_into_range(moved, config.lowest_pitch, config.lowest_pitch + config.n_pitches - 1), shift


def meter_flags(n_steps: int, steps_per_bar: int) -> np.ndarray:
    """(T, 2) float32: beat starts (every quarter note) and bar starts (every ``steps_per_bar`` steps)."""
    step = np.arange(n_steps)
    return np.stack([step % STEPS_PER_BEAT == 0, step % max(1, steps_per_bar) == 0], axis=1).astype(np.float32)


def one_hot(pitch: np.ndarray, onset: np.ndarray, lowest_pitch: int, n_pitches: int) -> np.ndarray:
    """Lines (..., T) -> tracks (..., T, n_pitches + 2) float32: pitch one-hot, rest, onset. Pitches must be in
    range (``fold_into_range`` first)."""
    pitch = np.asarray(pitch)
    index = np.where(pitch >= 0, pitch - lowest_pitch, n_pitches)
    if ((index < 0) | (index > n_pitches)).any():
        raise ValueError("pitch outside the model's range")
    out = np.zeros((*pitch.shape, n_pitches + 2), dtype=np.float32)
    np.put_along_axis(out, index[..., None], 1.0, axis=-1)
    out[..., -1] = np.asarray(onset, dtype=np.float32) * (pitch >= 0)
    return out


def part_events(pitch: np.ndarray, onset: np.ndarray, lowest_pitch: int, n_pitches: int) -> np.ndarray:
    """Lines (..., T) -> event classes (..., T) int64: onset of a pitch (its index), HOLD (n_pitches) or rest
    (n_pitches + 1). A sounding step without an onset after a rest (or at the start) counts as an onset. Pitches must
    be in range (``fold_into_range`` first)."""
    pitch, onset = np.asarray(pitch), np.asarray(onset, dtype=bool)
    previous = np.concatenate([np.full((*pitch.shape[:-1], 1), REST), pitch[..., :-1]], axis=-1)
    starts = (pitch >= 0) & (onset | (pitch != previous))
    index = pitch - lowest_pitch
    if ((pitch >= 0) & ((index < 0) | (index >= n_pitches))).any():
        raise ValueError("pitch outside the model's range")
    return np.where(pitch < 0, n_pitches + 1, np.where(starts, index, n_pitches)).astype(np.int64)


def events_to_lines(events: np.ndarray, lowest_pitch: int, n_pitches: int) -> tuple[np.ndarray, np.ndarray]:
    """Event classes (..., T) -> lines (pitch, onset); a HOLD with nothing sounding before it is a rest."""
    events = np.asarray(events)
    pitch = np.full(events.shape, REST, dtype=np.int64)
    onset = events < n_pitches
    current = np.full(events.shape[:-1], REST, dtype=np.int64)
    for t in range(events.shape[-1]):
        e = events[..., t]
        current = np.where(e < n_pitches, e + lowest_pitch, np.where(e == n_pitches, current, REST))
        pitch[..., t] = current
    return pitch, onset


# ------------------------------------------------------------------------------------------------------ measures
# The key is the engine's one rule (generation.engine.keys, over the duration-weighted pitch classes); the measures'
# scale is natural minor, as muspy's pitch_in_scale_rate counts it.
_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor, as muspy's pitch_in_scale_rate


def estimate_key(roll: np.ndarray) -> tuple[int, str]:
    """(root pitch class, "major" | "minor") of a (T, 128) roll (sounding steps weighted by duration)."""
    histogram = np.asarray(roll, dtype=np.float64).sum(axis=0).reshape(-1)
    return key_of_histogram(np.bincount(np.arange(128) % 12, weights=histogram[:128], minlength=12))


def key_of_histogram(histogram: np.ndarray) -> tuple[int, str]:
    """(root, mode) of a 12-bin pitch-class histogram: the engine's one key rule (generation.engine.keys)."""
    return key_from_weights(histogram)


def scale_pitch_classes(root: int, mode: str) -> np.ndarray:
    """bool (12,): the pitch classes of the key's scale."""
    mask = np.zeros(12, dtype=bool)
    mask[[(root + d) % 12 for d in (_MAJOR_SCALE if mode == "major" else _MINOR_SCALE)]] = True
    return mask


def track_measures(roll: np.ndarray, onsets: np.ndarray | None, key: tuple[int, str],
                   steps_per_bar: int, n_steps: int | None = None) -> dict[str, float]:
    """The four per-track measures of issue 11 for one (T, 128) track (NaN where undefined: an empty track):
    in_key_rate (share of notes in ``key``'s scale), pitches_used (distinct pitches), polyphony (mean pitches
    sounding over steps where any sounds), empty_bar_rate (share of the piece's bars where the track is silent)."""
    roll = np.asarray(roll, dtype=bool)
    n_steps = roll.shape[0] if n_steps is None else n_steps
    pitches, _starts, _ends = roll_to_notes(roll, onsets)
    counts = roll.sum(axis=1)
    n_bars = max(1, -(-n_steps // steps_per_bar))
    padded = np.zeros(n_bars * steps_per_bar, dtype=bool)
    padded[: min(n_steps, len(counts))] = counts[:n_steps] > 0
    return {
        "in_key_rate": float(scale_pitch_classes(*key)[pitches % 12].mean()) if len(pitches) else float("nan"),
        "pitches_used": float(len(np.unique(pitches))),
        "polyphony": float(counts[counts > 0].mean()) if (counts > 0).any() else float("nan"),
        "empty_bar_rate": float(1.0 - padded.reshape(n_bars, steps_per_bar).any(axis=1).mean()),
    }


def mean_measures(rows: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each measure over pieces, NaNs skipped."""
    return {name: float(np.nanmean([row[name] for row in rows])) if rows else float("nan")
            for name in TRACK_MEASURES}


def relative_difference(generated: float, real: float) -> float:
    """|generated - real| / |real|; where the real value is 0, the absolute difference."""
    return abs(generated - real) / abs(real) if real else abs(generated - real)

