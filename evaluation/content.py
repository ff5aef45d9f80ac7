"""Minimum content and repetition: is there enough music to judge, and how much of it repeats itself? (design.md §5)

Read on the sounded grid (8 steps a second, representation.sounded_rolls), so notation does not matter. A piece
shorter, sparser or more repetitive than the thresholds below is scored 0 with the reason shown; below that, the
repetition factor lowers the style and the realness of a piece that loops (a loop of 4 chords is not 8 bars of
music, however real its chords sound), and so its automatic score.

Repetition is the largest share of the piece's note onsets (pitch and time) that repeat the onsets ``lag`` steps
earlier, over every lag from 1 s to the whole piece: 1.0 for a loop, about 0.5 for a piece whose first half is played
twice. It is computed for all lags at once from the onsets' autocorrelation (an FFT along time).

Thresholds were measured (benchmarks/scoring_gaming.py prints the distributions): the 371 chorales and the 3,167
Essen folk tunes of generation.engine.folk have at least 3.75 s, 12 notes and 2 pitches; their repetition is 0.20
(chorales) and 0.25 (folk) at the median, 0.42 (chorales: a repeated Stollen) and 0.62 (folk: the 99th percentile)
at most but for 1 % of the folk tunes (one strain sung four times: up to 0.85), while loops of real or trivial
material measure 0.73-0.97.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pretty_midi

from generation.engine.representation import SOUNDED_STEPS_PER_SECOND, sounded_rolls

MIN_SECONDS = 3.0  # a bar and a half of 4/4 at 120 bpm: less is a fragment (the shortest real tune lasts 3.75 s)
MIN_NOTES = 10  # the shortest real pieces measured have 12 notes
MIN_PITCHES = 2  # one pitch is a drone, not a tune (one real folk tune uses only 2)
MAX_REPETITION = 0.9  # above this the piece is one loop: nothing to judge beyond its first pass (real: 0.85 at most)
REPETITION_FREE = 0.6  # up to this (above 98.9 % of the real pieces measured), repetition costs nothing
MIN_LAG_SECONDS = 1.0  # shorter lags are rhythm (repeated notes), not repeated passages

TOO_SHORT = "The piece sounds for {value:.1f} s; at least {limit:.0f} s of music is needed to judge it."
TOO_FEW_NOTES = "The piece has {value} notes; at least {limit} are needed to judge it."
TOO_FEW_PITCHES = "The piece uses {value} different pitches; at least {limit} are needed to judge it."
TOO_REPETITIVE = ("{value:.0%} of the piece repeats its own earlier material (one passage looped); at most "
                  "{limit:.0%} can be judged.")


@dataclass
class ContentCheck:
    ok: bool
    reason: str
    seconds: float
    notes: int
    pitches: int
    repetition: float
    repetition_factor: float  # multiplies the style score

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def repetition(onsets: np.ndarray) -> float:
    """Largest share of onsets equal to the onsets ``lag`` steps earlier, over lags >= MIN_LAG_SECONDS.
    ``onsets``: bool (T, 128), the pooled note starts."""
    n = int(onsets.sum())
    t = onsets.shape[0]
    min_lag = int(MIN_LAG_SECONDS * SOUNDED_STEPS_PER_SECOND)
    if n == 0 or t <= min_lag:
        return 0.0
    x = onsets.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(2 * t)))
    spectrum = np.fft.rfft(x, n=size, axis=0)
    corr = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=0)[:t].sum(axis=1)  # (T,) matches per lag
    return float(np.clip(np.rint(corr[min_lag:]).max() / n, 0.0, 1.0))


def repetition_factor(value: float) -> float:
    """1 up to REPETITION_FREE, then down linearly to 0 at MAX_REPETITION (where the piece is refused)."""
    if value <= REPETITION_FREE:
        return 1.0
    return float(max(0.0, 1.0 - (value - REPETITION_FREE) / (MAX_REPETITION - REPETITION_FREE)))


def content_check(pm: pretty_midi.PrettyMIDI, rolls: tuple[np.ndarray, np.ndarray] | None = None) -> ContentCheck:
    """Measure the piece and say whether it can be judged (the first failed limit is the reason). ``rolls``: the
    piece's sounded_rolls when the caller has them already."""
    tracks, onsets = rolls if rolls is not None else sounded_rolls(pm)
    pooled_onsets = onsets.any(axis=0) if len(onsets) else np.zeros((0, 128), dtype=bool)
    pitched = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
    seconds = float(tracks.shape[1]) / SOUNDED_STEPS_PER_SECOND
    pitches = len({n.pitch for n in pitched})
    rep = repetition(pooled_onsets)
    checks = [
        (seconds < MIN_SECONDS, TOO_SHORT.format(value=seconds, limit=MIN_SECONDS)),
        (len(pitched) < MIN_NOTES, TOO_FEW_NOTES.format(value=len(pitched), limit=MIN_NOTES)),
        (pitches < MIN_PITCHES, TOO_FEW_PITCHES.format(value=pitches, limit=MIN_PITCHES)),
        (rep > MAX_REPETITION, TOO_REPETITIVE.format(value=rep, limit=MAX_REPETITION)),
    ]
    reason = next((message for failed, message in checks if failed), "")
    return ContentCheck(ok=not reason, reason=reason, seconds=seconds, notes=len(pitched), pitches=pitches,
                        repetition=rep, repetition_factor=repetition_factor(rep))
