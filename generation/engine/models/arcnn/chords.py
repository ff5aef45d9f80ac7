"""The AR-CNN sampler's chord rule, in numpy (no torch): at each beat, the chord a musician would hear there.

A beat's chord is chosen among the triads and seventh chords whose tones all lie in the allowed pitch classes (the
key, and any pitch class the input uses: a melody's F sharp in C major admits D major, the dominant's dominant). Its
score sums, over the chord's pitch classes, the evidence of that beat:
- the notes sounding there (the share of the beat's steps each pitch class sounds, the beat's first step counted
  DOWNBEAT_WEIGHT times more: the note struck on the beat is the chord's, a passing note between beats often not);
- the model's wish to add (its softmax over the empty cells the sampler may fill, summed per pitch class over the
  beat and normalized to 1 a beat, times `model_weight`);
minus `tone_cost` per chord tone (a seventh chord wins over its triad only when its seventh is heard or wanted).
The sampler then adds a note only where its pitch class belongs to the chord of the beat it starts in, and holds it
only while it does. A beat with no evidence at all (silence the model does not want to fill) allows every pitch
class.

A musician also knows which chords go under which melody note: `prior_weight` adds log P(chord | the melody's
scale degree at the beat, the mode), counted on the chorales' train split (chord_table.json, `build_chord_table`;
the chord of a beat there is the CHORDS entry that best covers Bach's four voices at it, in the key of
keys.estimate_key of the four voices). On the valid sopranos, the chord chosen from the melody alone this way has
72 % of its tones in Bach's chord at the beat against 65 % from the melody and the model's wish without it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from generation.engine.keys import MAJOR, MINOR, estimate_key, scale_pitch_classes
from generation.engine.representation import STEPS_PER_BEAT

# pitch classes from the root: major, minor, diminished triads; dominant, minor, half-diminished, diminished sevenths
CHORD_SHAPES = ((0, 4, 7), (0, 3, 7), (0, 3, 6), (0, 4, 7, 10), (0, 3, 7, 10), (0, 3, 6, 10), (0, 3, 6, 9))
CHORDS = np.array([[(pc - root) % 12 in shape for pc in range(12)] for shape in CHORD_SHAPES for root in range(12)])
DOWNBEAT_WEIGHT = 1.0  # the beat's first step counts this much more than each of its other steps
TABLE_PATH = Path(__file__).with_name("chord_table.json")
NO_MELODY = 12  # the melody degree of a beat where no note sounds


def pitch_class_sums(cells: np.ndarray) -> np.ndarray:
    """(B, T, P) -> (B, T, 12): each step's values summed per pitch class."""
    batch, steps, _ = cells.shape
    out = np.zeros((batch, steps, 12), dtype=np.float64)
    for pc in range(12):
        out[:, :, pc] = cells[:, :, pc::12].sum(axis=2)
    return out


def _relative(chord: int, tonic: int) -> int:
    """Index of CHORDS entry `chord` with its root counted from `tonic` (the table's key-free index)."""
    shape, root = divmod(chord, 12)
    return shape * 12 + (root - tonic) % 12


def best_chord(pitch_classes: np.ndarray) -> int:
    """Index of the CHORDS entry that best covers a (12,) bool set: most tones shared, then fewest missing from it,
    then the smaller chord."""
    inter = (CHORDS & pitch_classes).sum(axis=1)
    extra = (CHORDS & ~pitch_classes).sum(axis=1)
    return int(np.argmax(inter * 100 - extra * 10 - CHORDS.sum(axis=1)))


def melody_degrees(roll: np.ndarray, tonic: int) -> np.ndarray:
    """(T, P) roll -> (beats,) the scale degree (0..11 from the tonic) of the highest note sounding at each beat's
    first step, NO_MELODY where none does."""
    first = roll[::STEPS_PER_BEAT]
    top = np.where(first.any(axis=1), roll.shape[1] - 1 - np.argmax(first[:, ::-1], axis=1), -1)
    return np.where(top >= 0, (top - tonic) % 12, NO_MELODY)


def build_chord_table(pieces) -> dict:
    """Counts of each beat's chord (key-free CHORDS index) under each melody degree, per mode, over `pieces`
    (dataset.Piece, four voices, the soprano first): {"major": [[count] * len(CHORDS)] * 13, "minor": ...}."""
    counts = {MAJOR: np.zeros((NO_MELODY + 1, len(CHORDS)), np.int64),
              MINOR: np.zeros((NO_MELODY + 1, len(CHORDS)), np.int64)}
    for piece in pieces:
        tonic, mode = estimate_key(piece.rolls)
        degrees = melody_degrees(piece.rolls[0], tonic)
        for beat, degree in enumerate(degrees.tolist()):
            sounding = piece.rolls[:, beat * STEPS_PER_BEAT].any(axis=0)
            pitch_classes = np.bincount(np.flatnonzero(sounding) % 12, minlength=12) > 0
            if pitch_classes.sum() >= 2:  # a chord sounds
                counts[mode][degree, _relative(best_chord(pitch_classes), tonic)] += 1
    return {mode: table.tolist() for mode, table in counts.items()}


@functools.cache
def _log_table() -> dict[str, np.ndarray]:
    """log P(chord | melody degree) per mode from chord_table.json, add-one smoothed: {mode: (13, len(CHORDS))}."""
    counts = json.loads(TABLE_PATH.read_text())
    out = {}
    for mode, table in counts.items():
        smoothed = np.asarray(table, dtype=np.float64) + 1.0
        out[mode] = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))
    return out


def key_of_classes(classes: np.ndarray) -> tuple[int, str] | None:
    """(tonic, mode) whose scale (keys.scale_pitch_classes) is exactly the (12,) bool set, else None."""
    found = set(np.flatnonzero(classes).tolist())
    for mode in (MAJOR, MINOR):
        for tonic in range(12):
            if scale_pitch_classes(tonic, mode) == found:
                return tonic, mode
    return None


def chord_prior(roll: np.ndarray, key: tuple[int, str]) -> np.ndarray:
    """(T, P) roll, (tonic, mode) -> (beats, len(CHORDS)) log P(chord | the melody's degree at each beat)."""
    tonic, mode = key
    table = _log_table()[mode]  # (13, C), key-free chord index
    order = [_relative(chord, tonic) for chord in range(len(CHORDS))]
    return table[melody_degrees(roll, tonic)][:, order]


def beat_chords(roll: np.ndarray, wish: np.ndarray, classes: np.ndarray, *, model_weight: float,
                tone_cost: float, prior: np.ndarray | None = None, prior_weight: float = 0.0) -> np.ndarray:
    """The chord of each beat: (B, beats, 12) bool, its pitch classes (every class where a beat has no evidence).

    roll (B, T, P) bool, the notes sounding now (T a multiple of STEPS_PER_BEAT); wish (B, T, P) >= 0, the model's
    probability of adding each cell (0 where it may not); classes (B, 12) bool, the pitch classes a chord may use;
    prior (B, beats, C) log P(chord | melody) (chord_prior; None = none), weighted by prior_weight.
    """
    batch, steps, _ = roll.shape
    beats = steps // STEPS_PER_BEAT
    sounding = pitch_class_sums(roll).clip(max=1.0).reshape(batch, beats, STEPS_PER_BEAT, 12)
    heard = (sounding.sum(axis=2) + DOWNBEAT_WEIGHT * sounding[:, :, 0]) / (STEPS_PER_BEAT + DOWNBEAT_WEIGHT)
    wanted = pitch_class_sums(wish).reshape(batch, beats, STEPS_PER_BEAT, 12).sum(axis=2)
    wanted /= np.maximum(wanted.sum(axis=2, keepdims=True), 1e-30)
    evidence = heard + model_weight * wanted  # (B, beats, 12)
    chords = CHORDS.astype(np.float64)  # (C, 12)
    scores = evidence @ chords.T - tone_cost * chords.sum(axis=1)  # (B, beats, C)
    if prior is not None and prior_weight:
        scores = scores + prior_weight * prior
    fits = ~(CHORDS[None, :, :] & ~classes[:, None, :]).any(axis=2)  # (B, C): every tone allowed
    scores = np.where(fits[:, None, :], scores, -np.inf)
    best = scores.argmax(axis=2)  # (B, beats)
    chosen = CHORDS[best]  # (B, beats, 12)
    silent = (evidence.sum(axis=2) <= 0) | ~fits.any(axis=1)[:, None]
    return chosen | silent[:, :, None]


def chord_cells(chords: np.ndarray, steps: int, n_pitches: int) -> np.ndarray:
    """(B, beats, 12) chord pitch classes -> (B, steps, P) bool: each cell whose pitch class is in its beat's chord."""
    per_step = np.repeat(chords, STEPS_PER_BEAT, axis=1)[:, :steps]  # (B, steps, 12)
    return per_step[:, :, np.arange(n_pitches) % 12]


if __name__ == "__main__":  # rebuild chord_table.json from the chorales' train split
    from generation.engine.dataset import load_chorales, pieces_split

    TABLE_PATH.write_text(json.dumps(build_chord_table(pieces_split(load_chorales(), "train"))) + "\n")
