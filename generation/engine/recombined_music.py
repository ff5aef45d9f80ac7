"""Real music taken apart and put back together wrongly: what an entrant could build from chorales to game realness
(NumPy only, no torch). docs/design.md section 5 calls these recombinations; the realness model learns them as negatives
(built from the train split) and ``benchmarks/scoring_gaming.py`` scores them built from held-out pieces with other
seeds.

Every family returns ``(tracks, onsets)``, bool ``(n_tracks, n_steps, 128)`` on the sounded grid. ``DERIVED``
families rework one piece: ``fn(tracks, onsets, rng)`` at its length. ``CORPUS`` families draw on several:
``fn(corpus, n_steps, rng)`` where ``corpus`` is a list of ``(tracks, onsets, steps_per_bar)``.
"""

from __future__ import annotations

import itertools
import weakref
from collections import defaultdict

import numpy as np

from generation.engine.dataset import transpose
from generation.engine.representation import roll_to_notes
from generation.engine.trivial_music import tracks_from_notes

Source = tuple[np.ndarray, np.ndarray, int]  # tracks, onsets, steps per bar


def _notes(tracks: np.ndarray, onsets: np.ndarray | None):
    return [roll_to_notes(tracks[i], None if onsets is None else onsets[i]) for i in range(tracks.shape[0])]


# --------------------------------------------------------------------------------------------- one piece
def retrograde(tracks: np.ndarray, onsets: np.ndarray | None, rng: np.random.Generator):
    """The piece played backwards (every note's start and end mirrored)."""
    n = tracks.shape[1]
    voices = [(p, n - e, n - s) for p, s, e in _notes(tracks, onsets)]
    return tracks_from_notes(voices, n)


def inversion(tracks: np.ndarray, onsets: np.ndarray | None, rng: np.random.Generator):
    """The piece upside down: every pitch mirrored around the piece's middle pitch (the bass becomes the top)."""
    used = np.flatnonzero(tracks.any(axis=(0, 1)))
    if used.size == 0:
        return tracks.copy(), tracks.copy()
    axis = int(used[0] + used[-1]) + int(rng.integers(-2, 3))
    voices = [(np.clip(axis - p, 0, 127), s, e) for p, s, e in _notes(tracks, onsets)]
    return tracks_from_notes(voices, tracks.shape[1])


def voice_shifted(tracks: np.ndarray, onsets: np.ndarray | None, rng: np.random.Generator):
    """One or two voices moved earlier or later by an eighth to a bar (the others kept): real lines, wrong together.
    A one-track piece is split into its highest line and the rest first."""
    if tracks.shape[0] < 2:
        pooled = tracks[0]
        top = np.zeros_like(pooled)
        rows = np.arange(pooled.shape[0])
        high = np.where(pooled.any(axis=1), 127 - np.argmax(pooled[:, ::-1], axis=1), 0)
        top[rows, high] = pooled[rows, high]
        tracks = np.stack([top, pooled & ~top])
        onsets = None if onsets is None else np.stack([onsets[0] & top, onsets[0] & ~top])
    n = tracks.shape[1]
    voices = _notes(tracks, onsets)
    moved = rng.choice(len(voices), size=min(len(voices) - 1, int(rng.integers(1, 3))), replace=False)
    for v in moved:
        shift = int(rng.choice([-1, 1])) * int(rng.choice([2, 3, 4, 6, 8, 12]))
        p, s, e = voices[v]
        voices[v] = (p, s + shift, e + shift)
    voices = [(p[(s >= 0)], s[s >= 0], e[s >= 0]) for p, s, e in voices]
    return tracks_from_notes(voices, n)


DERIVED = {"retrograde": retrograde, "inversion": inversion, "voice_shifted": voice_shifted}


# ----------------------------------------------------------------------------------------------- corpus
def _tonic_shift(tracks: np.ndarray) -> int:
    """Semitones (-6..5) that move the piece's last bass note to a C: chorales end on their tonic."""
    steps = np.flatnonzero(tracks.any(axis=(0, 2)))
    if steps.size == 0:
        return 0
    last_bass = int(np.flatnonzero(tracks[:, steps[-1]].any(axis=0))[0])
    return int((-last_bass + 6) % 12 - 6)


def _shifted(tracks: np.ndarray, onsets: np.ndarray, semitones: int):
    return transpose(tracks, semitones), transpose(onsets, semitones)


def chord_states(tracks: np.ndarray, onsets: np.ndarray) -> list[tuple[tuple[int, ...], int, tuple[int, ...]]]:
    """The piece as a chord sequence: (sounding pitches, duration, pitches struck at its start) per segment, a new
    segment wherever any note starts or ends."""
    pooled, struck = tracks.any(axis=0), onsets.any(axis=0) & tracks.any(axis=0)
    change = np.ones(pooled.shape[0], dtype=bool)
    change[1:] = (pooled[1:] != pooled[:-1]).any(axis=1) | struck[1:].any(axis=1)
    bounds = [*list(np.flatnonzero(change)), pooled.shape[0]]
    states = []
    for a, b in itertools.pairwise(bounds):
        chord = tuple(int(p) for p in np.flatnonzero(pooled[a]))
        if chord:
            states.append((chord, int(b - a), tuple(int(p) for p in np.flatnonzero(struck[a]))))
    return states


_CHORDS: dict[int, tuple[weakref.ref, list]] = {}  # id of a source's tracks -> (that array, its chord states in C)


def _chords_in_c(tracks: np.ndarray, onsets: np.ndarray) -> list:
    """chord_states of the piece moved to C, computed once per source array while it lives."""
    cached = _CHORDS.get(id(tracks))
    if cached is not None and cached[0]() is tracks:
        return cached[1]
    if len(_CHORDS) > 4096:
        _CHORDS.clear()
    states = chord_states(*_shifted(tracks, onsets, _tonic_shift(tracks)))
    _CHORDS[id(tracks)] = (weakref.ref(tracks), states)
    return states


def markov_chords(corpus: list[Source], n_steps: int, rng: np.random.Generator, order: int | None = None):
    """A Markov chain of order 1-3 over the corpus's chords (every piece moved to C first), chords kept with their
    durations: real progressions, stitched where contexts match, in a random key."""
    order = int(rng.integers(1, 4)) if order is None else order
    sample = [corpus[int(i)] for i in rng.choice(len(corpus), size=min(len(corpus), 40), replace=False)]
    sequences = [_chords_in_c(tracks, onsets) for tracks, onsets, _bar in sample]
    table: dict[tuple, list] = defaultdict(list)
    for seq in sequences:
        for k in range(1, order + 1):
            for i in range(k, len(seq)):
                table[tuple(c for c, _d, _s in seq[i - k : i])].append(seq[i])
    seq = sequences[int(rng.integers(len(sequences)))]
    state = list(seq[:order])
    t = sum(d for _c, d, _s in state)
    while t < n_steps:
        options = []
        for k in range(order, 0, -1):  # back off to a shorter context at a dead end
            options = table.get(tuple(c for c, _d, _s in state[-k:]), [])
            if options:
                break
        if not options:
            options = list(sequences[int(rng.integers(len(sequences)))])[:1]
        nxt = options[int(rng.integers(len(options)))]
        state.append(nxt)
        t += nxt[1]
    roll = np.zeros((n_steps, 128), dtype=bool)
    struck = np.zeros_like(roll)
    t, previous = 0, ()
    for chord, duration, strikes in state:
        if t >= n_steps:
            break
        end = min(n_steps, t + duration)
        roll[t:end, list(chord)] = True
        restrike = [p for p in chord if p in strikes or p not in previous]
        struck[t, restrike] = True
        t, previous = end, chord
    shift = int(rng.integers(-5, 7))
    tracks, onsets = _shifted(roll[None], struck[None], shift)
    return tracks, onsets & tracks


def _segment(source: Source, length: int, rng: np.random.Generator, to_c: bool):
    tracks, onsets, _bar = source
    pooled, struck = tracks.any(axis=0, keepdims=True), (onsets & tracks).any(axis=0, keepdims=True)
    if to_c:
        pooled, struck = _shifted(pooled, struck, _tonic_shift(tracks))
    start = int(rng.integers(max(1, pooled.shape[1] - length + 1)))
    seg, seg_onsets = pooled[0, start : start + length], struck[0, start : start + length].copy()
    seg_onsets[0] |= seg[0]  # a note held into the cut is struck again there
    return seg, seg_onsets


def patchwork(corpus: list[Source], n_steps: int, rng: np.random.Generator):
    """1.5-bar pieces of different chorales end to end (moved to one key, or each left in its own)."""
    to_c = rng.random() < 0.7
    parts, parts_onsets, t = [], [], 0
    while t < n_steps:
        source = corpus[int(rng.integers(len(corpus)))]
        seg, seg_onsets = _segment(source, max(2, round(1.5 * source[2])), rng, to_c)
        parts.append(seg)
        parts_onsets.append(seg_onsets)
        t += seg.shape[0]
    roll, struck = np.concatenate(parts)[:n_steps], np.concatenate(parts_onsets)[:n_steps]
    tracks, onsets = _shifted(roll[None], struck[None], int(rng.integers(-5, 7)) if to_c else 0)
    return tracks, onsets & tracks


def _stream(corpus: list[Source], n_steps: int, rng: np.random.Generator):
    """Pieces of the corpus (each moved to C, four tracks) end to end until ``n_steps``: (4, n_steps, 128) x 2."""
    tracks, onsets, t = [], [], 0
    while t < n_steps:
        source = corpus[int(rng.integers(len(corpus)))]
        src, src_on = _shifted(source[0], source[1], _tonic_shift(source[0]))
        four, four_on = np.zeros((4, *src.shape[1:]), dtype=bool), np.zeros((4, *src.shape[1:]), dtype=bool)
        four[: min(4, len(src))], four_on[: min(4, len(src))] = src[:4], src_on[:4]
        tracks.append(four)
        onsets.append(four_on)
        t += src.shape[1]
    return np.concatenate(tracks, axis=1)[:, :n_steps], np.concatenate(onsets, axis=1)[:, :n_steps]


def interleaved(corpus: list[Source], n_steps: int, rng: np.random.Generator):
    """Two chorales at once, each moved to the same key: the upper voices of one over the lower voices of the other,
    or beats of one and the other in turn (each stream is chorales end to end, so it lasts the whole piece)."""
    (ta, oa), (tb, ob) = _stream(corpus, n_steps, rng), _stream(corpus, n_steps, rng)
    out = np.zeros((2, n_steps, 128), dtype=bool)
    out_onsets = np.zeros_like(out)
    if rng.random() < 0.5:
        out[0], out_onsets[0] = ta[:2].any(axis=0), oa[:2].any(axis=0)
        out[1], out_onsets[1] = tb[2:].any(axis=0), ob[2:].any(axis=0)
    else:
        beat = int(rng.choice([4, 8]))
        for t in range(0, n_steps, beat):
            src, src_on = (ta, oa) if (t // beat) % 2 == 0 else (tb, ob)
            out[0, t : t + beat] = src[:, t : t + beat].any(axis=0)
            out_onsets[0, t : t + beat] = src_on[:, t : t + beat].any(axis=0)
            out_onsets[0, t] |= out[0, t]
    out, out_onsets = _shifted(out, out_onsets, int(rng.integers(-5, 7)))
    return out, out_onsets & out


CORPUS = {"markov_chords": markov_chords, "patchwork": patchwork, "interleaved": interleaved}
FAMILY_TEXT = {
    "retrograde": "a real piece played backwards",
    "inversion": "a real piece upside down (pitches mirrored)",
    "voice_shifted": "a real piece with one or two voices moved by an eighth to a bar",
    "markov_chords": "a Markov chain of order 1-3 over chorale chords (with their durations)",
    "patchwork": "1.5-bar pieces of different chorales end to end",
    "interleaved": "two chorales at once (upper voices of one, lower of the other) or beats of each in turn",
}


def corpus_sources(pieces) -> list[Source]:
    """Pieces (anything with .rolls, .onsets, .steps_per_bar) as CORPUS sources."""
    return [(p.rolls, p.onsets if p.onsets is not None else p.rolls, int(p.steps_per_bar)) for p in pieces]
