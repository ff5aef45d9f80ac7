"""What a musician checks in a four-voice accompaniment, in numpy (no torch): the measures of issue 20 that
benchmarks/gan_quality.py prints for the model, for Bach and for the baselines, and the tests use.

A piece is four lines on the sixteenth grid (encoding's lines: pitch (4, T) with REST = -1, onset (4, T) bool), the
melody first and then alto, tenor, bass. Beats are the quarter-note steps (every STEPS_PER_BEAT). Every measure is
returned as counts (numerator, denominator) so that a table can pool them over pieces or read them per piece.
"""

from __future__ import annotations

import numpy as np

from generation.engine.models.gan.encoding import REST
from generation.engine.representation import STEPS_PER_BEAT

CONSONANT = frozenset({0, 3, 4, 5, 7, 8, 9})  # interval classes (melody - part) % 12: unison/octave, thirds,
#                                                fourth, fifth, sixths (a fourth under the melody is a chord's, as
#                                                the fifth over a 6/4's bass is in Bach)
SECOND_OR_SEVENTH = frozenset({1, 2, 10, 11})
# pitch-class sets (root 0) a beat may sound: triads (major, minor, diminished, augmented) and seventh chords
# (dominant, minor, major, half-diminished, diminished); every transposition; a subset counts (a doubled or omitted
# tone is still the chord)
_CHORDS = ((0, 4, 7), (0, 3, 7), (0, 3, 6), (0, 4, 8), (0, 4, 7, 10), (0, 3, 7, 10), (0, 4, 7, 11), (0, 3, 6, 10),
           (0, 3, 6, 9))
CHORD_MASKS = np.array(sorted({sum(1 << ((root + d) % 12) for d in chord) for root in range(12) for chord in _CHORDS}))
MAJOR_KEY = (0, 2, 4, 5, 7, 9, 11)
MINOR_KEY = (0, 2, 3, 5, 7, 8, 10, 9, 11)  # natural minor with the raised sixth and seventh (melodic/harmonic minor)
MEASURES = ("consonant_beats", "second_seventh_beats", "chord_beats", "bach_chord_notes", "note_beats",
            "crossing_beats", "bass_leaps", "in_range", "parallels_per_100", "in_key")


def key_pitch_classes(root: int, mode: str) -> np.ndarray:
    """bool (12,): the pitch classes that belong to the key (minor: natural, raised sixth and seventh)."""
    mask = np.zeros(12, dtype=bool)
    mask[[(root + d) % 12 for d in (MAJOR_KEY if mode == "major" else MINOR_KEY)]] = True
    return mask


def notes_of(pitch: np.ndarray, onset: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One line -> (pitches, start steps, lengths in steps) of its notes."""
    pitch, onset = np.asarray(pitch), np.asarray(onset, dtype=bool)
    previous = np.concatenate([[REST], pitch[:-1]])
    starts = np.flatnonzero((pitch >= 0) & (onset | (pitch != previous)))
    ends = np.append(starts[1:], len(pitch))
    rests = np.append(np.flatnonzero(pitch < 0), len(pitch))
    ends = np.minimum(ends, rests[np.searchsorted(rests, starts)])
    return pitch[starts], starts, ends - starts


def _pitch_class_mask(pitches: np.ndarray) -> int:
    return int(np.bitwise_or.reduce(1 << (pitches % 12))) if len(pitches) else 0


def piece_counts(lines: np.ndarray, onsets: np.ndarray, *, key: tuple[int, str], ranges: list[tuple[int, int]],
                 real: np.ndarray | None = None) -> dict[str, tuple[float, float]]:
    """(numerator, denominator) of every measure for one piece: lines (4, T) melody + alto, tenor, bass, onsets
    (4, T); ranges: the (low, high) of alto, tenor and bass; real: the real four lines (4, T) for the Bach-chord
    measure (its denominator is 0 without them)."""
    lines = np.asarray(lines)
    parts = lines[1:]
    beats = np.arange(0, lines.shape[1], STEPS_PER_BEAT)
    at = lines[:, beats]  # (4, n_beats)
    sounding = at >= 0
    heard = sounding[0] & (sounding[1:].sum(axis=0) >= 1)  # melody and a part
    intervals = (at[0][None] - at[1:]) % 12  # (3, n_beats)
    consonant = np.isin(intervals, list(CONSONANT)) | ~sounding[1:]
    clash = np.isin(intervals, list(SECOND_OR_SEVENTH)) & sounding[1:]
    full = sounding[0] & (sounding[1:].sum(axis=0) >= 2)
    chord = np.array([np.any((_pitch_class_mask(at[sounding[:, b], b]) & ~CHORD_MASKS) == 0)
                      for b in range(len(beats))], dtype=bool)
    c: dict[str, tuple[float, float]] = {
        "consonant_beats": (float((consonant.all(axis=0) & heard).sum()), float(heard.sum())),
        "second_seventh_beats": (float((clash.any(axis=0) & heard).sum()), float(heard.sum())),
        "chord_beats": (float((chord & full).sum()), float(full.sum())),
    }
    crossing = np.zeros(len(beats), dtype=bool)
    pairs = np.zeros(len(beats), dtype=bool)
    for k in range(3):
        both = sounding[k] & sounding[k + 1]
        crossing |= both & (at[k + 1] > at[k])
        pairs |= both
    c["crossing_beats"] = (float(crossing.sum()), float(pairs.sum()))

    in_key, in_range, lengths, n_notes, agree, n_agree = 0, 0, 0, 0, 0, 0
    scale = key_pitch_classes(*key)
    for v in range(3):
        pitches, starts, length = notes_of(parts[v], onsets[1 + v])
        in_key += int(scale[pitches % 12].sum())
        low, high = ranges[v]
        in_range += int(((pitches >= low) & (pitches <= high)).sum())
        lengths += int(length.sum())
        n_notes += len(pitches)
        if real is not None:
            for p, s in zip(pitches.tolist(), starts.tolist(), strict=True):
                chord_here = real[:, s][real[:, s] >= 0]
                if len(chord_here):
                    n_agree += 1
                    agree += int(p % 12 in set((chord_here % 12).tolist()))
        if v == 2:
            moves = np.abs(np.diff(pitches))
            c["bass_leaps"] = (float((moves > 12).sum()), float(len(moves)))
    c["in_key"] = (float(in_key), float(n_notes))
    c["in_range"] = (float(in_range), float(n_notes))
    c["note_beats"] = (lengths / STEPS_PER_BEAT, float(n_notes))
    c["bach_chord_notes"] = (float(agree), float(n_agree))
    parallels, moves = 0, 0
    for i in range(4):
        for j in range(i + 1, 4):
            p, m = parallel_moves(lines[i], lines[j])
            parallels, moves = parallels + p, moves + m
    c["parallels_per_100"] = (100.0 * parallels, float(moves))
    return c


def parallel_moves(upper: np.ndarray, lower: np.ndarray) -> tuple[int, int]:
    """(parallel fifths/octaves, moves) between two lines: a move is a change of the pair's pitches in which both
    voices change; parallel when both go the same way from a perfect fifth or octave (unison) to the same one."""
    both = (upper >= 0) & (lower >= 0)
    pairs = np.stack([upper[both], lower[both]], axis=1)
    if len(pairs) < 2:
        return 0, 0
    change = np.any(pairs[1:] != pairs[:-1], axis=1)
    seq = np.concatenate([pairs[:1], pairs[1:][change]])
    a, b = seq[:-1], seq[1:]
    du, dl = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    moving = (du != 0) & (dl != 0)
    ia, ib = (a[:, 0] - a[:, 1]) % 12, (b[:, 0] - b[:, 1]) % 12
    parallel = moving & (np.sign(du) == np.sign(dl)) & (ia == ib) & ((ia == 0) | (ia == 7))
    return int(parallel.sum()), int(moving.sum())


def note_set(lines: np.ndarray, onsets: np.ndarray) -> set[tuple[int, int, int]]:
    """The parts' notes as (voice, start step, pitch)."""
    out = set()
    for v in range(1, 4):
        pitches, starts, _ = notes_of(lines[v], onsets[v])
        out |= {(v, s, p) for p, s in zip(pitches.tolist(), starts.tolist(), strict=True)}
    return out


def notes_differing(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    """(part notes of either that the other lacks, the larger note count): how much two accompaniments differ."""
    first, second = note_set(*a), note_set(*b)
    size = max(len(first), len(second))
    return float(size - len(first & second)), float(size)


def ratio(pair: tuple[float, float]) -> float:
    return pair[0] / pair[1] if pair[1] else float("nan")


def pooled(rows: list[dict[str, tuple[float, float]]]) -> dict[str, float]:
    """Each measure pooled over pieces (sum of numerators / sum of denominators)."""
    return {m: ratio((sum(r[m][0] for r in rows), sum(r[m][1] for r in rows))) for m in rows[0]} if rows else {}
