"""Originality (docs/design.md §5): the passages an entry shares with known music -- the chorales (training data),
the challenge's reference set and earlier entries of the challenge -- and the share of its notes they cover.

Method. A piece is read as melody lines: per pitched track, the highest note at each onset (unless a higher note is
still held there), and for a track that plays chords also the lowest. A line of n notes gives n - 2 tokens; token k
describes notes k, k+1, k+2 by the pitch interval k+1 -> k+2 and the log2 ratio of the inter-onset intervals
(k -> k+1, k+1 -> k+2), quantized to a quarter of an octave. Intervals make it invariant to transposition, ratios to
uniform scaling of note values and tempo (a chorale in doubled note values, at any tempo marking, gives the same
tokens); octave moves of a voice and moving voices to other tracks change nothing either.

Every run of ``NGRAM`` tokens is hashed. An n-gram is *commonplace* when it is trivial (steps or repeated notes in an
even rhythm: a scale) or when it occurs in at least ``DF_COMMON`` different pieces of a corpus of chorales and Essen
folk songs (``evaluation/data/originality-common.npz``, rebuilt by ``python -m evaluation.originality``): cadence
formulas, arpeggios and stock figures are found there. Commonplace n-grams neither seed nor extend a match. Known
music is indexed by its other n-grams (a sorted uint64 array, searched with numpy); an entry's n-grams found there
are verified token by token, and the hits on one alignment (same source, same offset) whose n-grams overlap or touch
are chained into a passage -- all at once, in numpy.

A passage is measured in the entry's own bars (onset of its first note to the end of its last, through the tempo
map) and in notes. It counts as copied above the challenge's threshold in bars *and* with at least ``MIN_NOTES``
notes. ``copied_share`` is the share of the entry's notes (every pitched note, chords included) whose onset lies
inside a copied passage of its track, or on another track in the passage's span when the source sounds those notes
there too (``LineIndex.vertical``: the same pitch classes, transposed as the line is, at the same times, for at
least VERTICAL_SHARE of them -- the other voices of a copied passage; a patchwork takes every voice of each piece it
borrows); the automatic score of a flagged entry is multiplied by ``copy_penalty`` = 1 - copied_share.

``originality_check`` only reads. ``originality_register`` stores an entry's lines (``OriginalityFingerprint``) and
its n-gram hashes (``OriginalityGram``, indexed by challenge and hash, so one query finds the few earlier entries that
share any n-gram); the scoring service calls it as its own step. "Earlier" means a lower submission id; the same
entrant's own entries are no copies. A Melody Harvest challenge's input melodies are given to every entrant: tokens
inside any n-gram found in them never match.

The chorale index is cached as an ``.npz`` next to the dataset cache (built on first use, about a second) and kept in
memory once per process (a few MB); a challenge's reference and input files are indexed in memory by their digest.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pretty_midi
from django.db import transaction

from generation.engine.dataset import Piece, default_cache_dir
from generation.engine.folk import Tune, load_folk
from generation.engine.representation import ONSET_TOLERANCE_S, roll_to_notes

logger = logging.getLogger(__name__)

NGRAM = 6  # tokens per n-gram = 8 notes, 2 bars of quarter notes: the shortest passage worth hashing
RATIO_STEPS = 4  # IOI-ratio bins per octave: 1, 3/2 (with 4/3), 2, 3, 4 in distinct bins, each ±9 % wide
MAX_RATIO_CODE = 31  # ratios beyond 2^(31/4) (a whole note after a 32nd) are clipped
MIN_NOTES = 12  # a copied passage has at least this many notes: on the labelled set of benchmarks/originality_copies.py
#                 (296 copies, 425 originals) 8 notes flag 34 originals, 10 flag 2, 12 flag 1; 7 more of the 37 4-bar
#                 copies are missed at 12 than at 8, every longer copy is found
DF_COMMON = 4  # an n-gram in this many different pieces is commonplace: at 2, melodies Bach harmonized twice become
#                commonplace and whole copies are missed (18 copies fewer than at 4); 4 keeps a margin over 3
#                (docs/scoring.md)
PATCH_SHARE = 0.25  # short shared passages (each under the threshold) covering this share of the notes ...
PATCH_MIN_NOTES = 36  # ... and at least this many notes (3 x MIN_NOTES) ...
PATCH_MIN_PASSAGES = 4  # ... in at least this many places: a patchwork. On benchmarks/originality_copies.py (chosen
#                         there, so not held out): 34 of 37 1.5-bar patchworks, 3 of 385 real originals; at 0.3 33
#                         and 2, at 0.2 34 and 8, with 24 notes 35 and 5
VERTICAL_SHARE = 0.8  # of the other voices' notes in a passage's span that the source must sound there too ...
VERTICAL_MIN_NOTES = 4  # ... and at least this many, for them to count as copied with it (LineIndex.vertical)
CHECK_VERSION = 2  # how copied notes are counted; 2: a passage's other voices, confirmed against the source, too
TOKEN_VERSION = 3  # 2: inter-onset intervals quantized to the line's grid before their ratio is taken; 3: the
#                   grid from the mean of the typical intervals
DEFAULT_THRESHOLD_BARS = 2.0
MAX_HITS_PER_GRAM = 200  # bounds the cost of a query; an n-gram this frequent in one index is no evidence
INDEX_VERSION = 3  # 3: lines read from the sounded notes, pooled and quantized (Judge III)
COMMON_PATH = Path(__file__).resolve().parent / "data" / "originality-common.npz"

_INTERVAL_OFFSET = 128
_RATIO_CODES = 2 * MAX_RATIO_CODE + 1
_BASE = np.uint64(1_000_003)
_MASK63 = np.uint64((1 << 63) - 1)  # hashes fit a signed 64-bit database column
_SEPARATOR = -1  # after every line in an index: never equal to a token (tokens are >= 0)
_MASKED = -2  # a query token that may not match (given material)
_MEMORY: dict[str, object] = {}
_HELD_CELLS = 1 << 21  # notes x onsets compared at once (2 MB of booleans)


# ------------------------------------------------------------------------------------------------------ lines
@dataclass
class Line:
    """One melody line; ``time`` is in any unit (seconds, steps, quarter notes): only its ratios are used."""

    source: str  # piece name or "submission 12"
    track: str  # track or voice name
    pitch: np.ndarray  # (n,) int
    time: np.ndarray  # (n,) float, onsets, increasing
    bar: np.ndarray  # (n,) float, onset in the piece's sounded bars of 4 beats (0 = its start)
    bar_end: np.ndarray  # (n,) float, end of each note in those bars

    def to_json(self) -> dict:
        return {"source": self.source, "track": self.track, "pitch": self.pitch.tolist(),
                "time": np.round(self.time, 4).tolist(), "bar": np.round(self.bar, 4).tolist(),
                "bar_end": np.round(self.bar_end, 4).tolist()}

    @classmethod
    def from_json(cls, data: dict) -> Line:
        return cls(data["source"], data["track"], np.array(data["pitch"]), np.array(data["time"], dtype=np.float64),
                   np.array(data["bar"], dtype=np.float64), np.array(data["bar_end"], dtype=np.float64))


def _outer_lines(pitch: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[np.ndarray]:
    """Indices (into the arguments) of the top line -- the highest note starting at each onset, unless a higher
    note is still sounding there (a held soprano while the alto moves) -- and, when the notes form chords, of the
    bottom line too. Onsets are compared exactly: cluster them first (``cluster_onsets``)."""
    order = np.lexsort((pitch, start))
    p, s, e = pitch[order], start[order], end[order]
    new = np.diff(s) > 0
    last = np.concatenate([new, [True]])  # highest pitch of each group (sorted by pitch within a group)
    first = np.concatenate([[True], new])
    onset = s[first]
    # a note is held over an onset when it sounds on for at least half the time to the next onset (a legato or
    # humanized overlap of a few tens of milliseconds is not holding)
    held_until = onset + np.append(np.diff(onset), np.inf) / 2
    if first.all() and not (np.maximum.accumulate(e)[:-1] > held_until[1:]).any():
        return [order]  # one note at a time: a single line
    held_hi = np.full(len(onset), -1)
    held_lo = np.full(len(onset), 128)
    step = max(1, _HELD_CELLS // max(len(p), 1))
    for k in range(0, len(onset), step):  # notes x onsets, a block of onsets at a time: which notes are held there?
        at, until = onset[k : k + step], held_until[k : k + step]
        held = (s[:, None] < at[None, :]) & (e[:, None] > until[None, :])
        held_hi[k : k + step] = np.where(held, p[:, None], -1).max(axis=0)
        held_lo[k : k + step] = np.where(held, p[:, None], 128).min(axis=0)
    return [order[last][p[last] >= held_hi], order[first][p[first] <= held_lo]]


def cluster_onsets(start: np.ndarray) -> np.ndarray:
    """Each onset moved to the first onset of its cluster: onsets less than ``ONSET_TOLERANCE_S`` after the previous
    one sound as one attack (a rolled or humanized chord, chord notes jittered together)."""
    if len(start) == 0:
        return start
    order = np.argsort(start, kind="stable")
    s = start[order]
    group = np.concatenate([[0], np.cumsum(np.diff(s) > ONSET_TOLERANCE_S)])
    firsts = s[np.concatenate([[True], np.diff(group) > 0])]
    out = np.empty_like(start)
    out[order] = firsts[group]
    return out


def typical_ioi(iois: np.ndarray) -> float:
    """The inter-onset interval that half of the time is spent in (the time-weighted median): the beat a listener
    counts, read from sounded onsets only. A piece's grid is half of it."""
    iois = np.sort(iois[iois > 0])
    if len(iois) == 0:
        return 1.0
    cum = np.cumsum(iois)
    median = iois[np.searchsorted(cum, cum[-1] / 2)]
    near = iois[(iois > 0.7 * median) & (iois < 1.4 * median)]  # the intervals of that kind averaged: a performed
    return float(near.mean())  # (jittered) line gives its grid to a few per cent, not one jittered sample


@dataclass
class Sounded:
    """A piece's sounded notes, every track pooled: what the originality check reads (no time signature, tempo
    marking or track layout). ``start`` is clustered (``cluster_onsets``); ``track`` indexes ``track_names``."""

    pitch: np.ndarray  # (n,) int
    start: np.ndarray  # (n,) float, seconds (or any unit)
    end: np.ndarray  # (n,) float
    track: np.ndarray  # (n,) int
    track_names: list[str]

    @classmethod
    def of_midi(cls, pm: pretty_midi.PrettyMIDI, prefix: str = "") -> Sounded:
        rows, names = [], []
        for index, inst in enumerate(pm.instruments):
            if inst.is_drum or not inst.notes:
                continue
            rows += [(n.pitch, n.start, n.end, len(names)) for n in inst.notes]
            names.append(prefix + (inst.name or f"track {index + 1}"))
        return cls.of_rows(rows, names)

    @classmethod
    def of_rows(cls, rows: list[tuple], names: list[str]) -> Sounded:
        arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
        start = cluster_onsets(arr[:, 1])
        return cls(arr[:, 0].astype(np.int64), start, np.maximum(arr[:, 2], start + 1e-6), arr[:, 3].astype(np.int64),
                   names)

    def transformed(self, transform: str) -> Sounded:
        """Retrograde (time reversed: a note's end becomes its onset) and inversion (pitch mirrored); checking the
        transformed entry finds the retrograde or inverted copy, since each transform is its own inverse."""
        pitch, start, end = self.pitch, self.start, self.end
        if "retrograde" in transform:
            total = float(end.max()) if len(end) else 0.0
            start, end = cluster_onsets(total - end), total - start
        if "inversion" in transform:
            pitch = 127 - pitch
        return Sounded(pitch, start, end, self.track, self.track_names)

    def lines(self, source: str) -> tuple[list[Line], list[np.ndarray], list[np.ndarray]]:
        """Lines of every track and, with several tracks, the highest and lowest line of all tracks pooled (voices
        split or alternated across tracks come together again); per line the indices of its notes and the tracks
        it stands for. Bars are the piece's sounded bars: 4 of its typical inter-onset intervals."""
        candidates: list[tuple[str, np.ndarray, np.ndarray]] = []
        for t, name in enumerate(self.track_names):
            idx = np.nonzero(self.track == t)[0]
            for i, sel in enumerate(_outer_lines(self.pitch[idx], self.start[idx], self.end[idx])):
                candidates.append((name + (" (lowest notes)" if i else ""), idx[sel], np.array([t])))
        if len(self.track_names) > 1:
            got = _outer_lines(self.pitch, self.start, self.end)
            for i, sel in enumerate(got):
                candidates.append(("all tracks (" + ("lowest" if i else "highest") + " notes)", sel,
                                   np.unique(self.track[sel])))
        candidates = [c for c in candidates if len(c[1]) >= 3]
        iois = [np.diff(self.start[sel]) for _, sel, _ in candidates]
        bar = 4.0 * typical_ioi(np.concatenate(iois)) if iois else 1.0
        lines = [Line(source, name, self.pitch[sel], self.start[sel], self.start[sel] / bar, self.end[sel] / bar)
                 for name, sel, _ in candidates]
        return lines, [sel for _, sel, _ in candidates], [tracks for _, _, tracks in candidates]


def lines_from_midi(pm: pretty_midi.PrettyMIDI, source: str, prefix: str = "") -> list[Line]:
    return Sounded.of_midi(pm, prefix).lines(source)[0]


def lines_from_piece(piece: Piece, voices: tuple[str, ...] = ("soprano", "alto", "tenor", "bass")) -> list[Line]:
    """A dataset piece's lines, read like an entry's (time in steps: only ratios count)."""
    rows, names = [], []
    for i in range(piece.rolls.shape[0]):
        pitches, starts, ends = roll_to_notes(piece.rolls[i], None if piece.onsets is None else piece.onsets[i])
        rows += [(p, s, e, i) for p, s, e in zip(pitches, starts, ends, strict=True)]
        names.append(voices[i] if i < len(voices) else f"track {i + 1}")
    if not rows:
        return []
    lines = Sounded.of_rows(rows, names).lines(piece.name)[0]
    return [line for line in lines if not line.track.startswith("all tracks")]  # the voices are the tracks


# ----------------------------------------------------------------------------------------------- tokens, n-grams
def line_tokens(pitch: np.ndarray, time: np.ndarray) -> np.ndarray:
    """(n - 2,) int64 tokens of a line: token k = pitch interval k+1 -> k+2 and the log2 ratio of the inter-onset
    intervals k -> k+1 and k+1 -> k+2, each interval first quantized to the line's grid (half its typical
    inter-onset interval): onsets jittered by less than a quarter beat, or swung, give the same tokens."""
    if len(pitch) < 3:
        return np.zeros(0, dtype=np.int64)
    interval = np.clip(np.diff(pitch.astype(np.int64))[1:], -127, 127) + _INTERVAL_OFFSET
    ioi = np.diff(time.astype(np.float64))
    grid = typical_ioi(ioi) / 2
    steps = np.maximum(np.rint(ioi / grid), 1.0)
    ratio = np.clip(np.rint(np.log2(steps[1:] / steps[:-1]) * RATIO_STEPS), -MAX_RATIO_CODE, MAX_RATIO_CODE)
    return interval * _RATIO_CODES + (ratio.astype(np.int64) + MAX_RATIO_CODE)


def ngram_hashes(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per run of NGRAM tokens: its hash (uint64, 63 bits), whether it is usable (no separator nor masked token)
    and whether it is trivial (steps or repeated notes in an even rhythm)."""
    if len(tokens) < NGRAM:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    grams = np.lib.stride_tricks.sliding_window_view(tokens, NGRAM)  # (n - NGRAM + 1, NGRAM), a view
    powers = _BASE ** np.arange(NGRAM - 1, -1, -1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        hashes = (grams.astype(np.uint64) * powers).sum(axis=1, dtype=np.uint64) & _MASK63
    usable = (grams >= 0).all(axis=1)
    steps = np.abs(grams // _RATIO_CODES - _INTERVAL_OFFSET) <= 2
    even = grams % _RATIO_CODES == MAX_RATIO_CODE
    return hashes, usable, (steps & even).all(axis=1)


def common_table() -> np.ndarray:
    """Sorted hashes of the n-grams found in at least DF_COMMON pieces of the corpus (empty when not built)."""
    if "common" not in _MEMORY:
        table = np.zeros(0, dtype=np.uint64)
        if COMMON_PATH.exists():
            with np.load(COMMON_PATH, allow_pickle=False) as z:
                version = int(z["token_version"]) if "token_version" in z.files else 1
                if [int(z["ngram"]), int(z["ratio_steps"]), int(z["df_common"]), version] == [
                        NGRAM, RATIO_STEPS, DF_COMMON, TOKEN_VERSION]:
                    table = z["hashes"]
                else:
                    logger.warning("%s was built with other settings; rebuild it: python -m evaluation.originality",
                                   COMMON_PATH)
        _MEMORY["common"] = table
    return _MEMORY["common"]


def _in_sorted(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    if len(table) == 0:
        return np.zeros(len(values), dtype=bool)
    idx = np.minimum(np.searchsorted(table, values), len(table) - 1)
    return table[idx] == values


def seed_grams(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every n-gram of ``tokens`` and whether each may seed or extend a match: usable and not
    commonplace."""
    hashes, usable, trivial = ngram_hashes(tokens)
    return hashes, usable & ~trivial & ~_in_sorted(common_table(), hashes)


# ------------------------------------------------------------------------------------------------------ the entry
TRANSFORMS = ("", "retrograde", "inversion", "retrograde inversion")


@dataclass
class Entry:
    """An entry's lines (as it is and, with ``transforms``, retrograde and inverted), their tokens, and for the
    copied share which notes each line stands for: ``line_notes`` (indices into the entry's notes),
    ``line_transform`` and ``onsets[transform]`` (every note's onset in that transform)."""

    lines: list[Line]
    line_notes: list[np.ndarray]
    line_transform: list[str]
    onsets: dict[str, np.ndarray]
    track: np.ndarray  # (n_notes,) int: every note's track
    pitch: np.ndarray  # (n_notes,) int: every note's pitch (as entered)
    tokens: list[np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = [line_tokens(line.pitch, line.time) for line in self.lines]

    @classmethod
    def of(cls, pms: list[pretty_midi.PrettyMIDI], source: str = "entry",
           transforms: tuple[str, ...] = TRANSFORMS) -> Entry:
        """With several outputs each track name says which output it is; each output is pooled on its own."""
        sounded = [Sounded.of_midi(pm, prefix=f"output {i + 1}: " if len(pms) > 1 else "") for i, pm in enumerate(pms)]
        lines, notes, kinds = [], [], []
        onsets: dict[str, list] = {t: [] for t in transforms}
        track_all, pitch_all = [], []
        cache: dict[tuple[str, int], tuple] = {}
        for transform in transforms:
            offset, track_offset = 0, 0
            base = transform.replace("inversion", "").strip()  # inverted lines are the lines inverted (top <-> bottom)
            for s in sounded:
                if (base, id(s)) not in cache:
                    got = s.transformed(base) if base else s
                    cache[base, id(s)] = (got.lines(source), got.start)
                (found, found_notes, _), start = cache[base, id(s)]
                if "inversion" in transform:
                    found = [Line(ln.source, ln.track, 127 - ln.pitch, ln.time, ln.bar, ln.bar_end) for ln in found]
                else:
                    found = [Line(ln.source, ln.track, ln.pitch, ln.time, ln.bar, ln.bar_end) for ln in found]
                for line in found:
                    line.track += f" ({transform})" if transform else ""
                lines += found
                notes += [n + offset for n in found_notes]
                kinds += [transform] * len(found)
                onsets[transform].append(start)
                if transform == transforms[0]:
                    track_all.append(s.track + track_offset)
                    pitch_all.append(s.pitch)
                offset += len(s.pitch)
                track_offset += len(s.track_names)
        cat = {t: np.concatenate(v) if v else np.zeros(0) for t, v in onsets.items()}
        track = np.concatenate(track_all) if track_all else np.zeros(0, dtype=np.int64)
        pitch = np.concatenate(pitch_all) if pitch_all else np.zeros(0, dtype=np.int64)
        return cls(lines, notes, kinds, cat, track, pitch)

    def seed_hashes(self) -> list[int]:
        out: set[int] = set()
        for tokens in self.tokens:
            hashes, seed = seed_grams(tokens)
            out.update(hashes[seed].tolist())
        return sorted(out)

    def copied_mask(self, passages: list[Passage]) -> np.ndarray:
        """(n_notes,) bool: the notes whose onset lies inside a passage, on the tracks that gave at least a quarter
        of the passage's notes (one track for a track's line; those the voice moved through for a pooled line), and
        the other tracks' notes there that the source sounds too (``LineIndex.vertical``, asked only where some
        note of the span is not yet counted)."""
        copied = np.zeros(len(self.track), dtype=bool)
        spans = []
        for p in passages:
            notes = self.line_notes[p.line][p.first : p.last + 1]
            onsets = self.onsets[self.line_transform[p.line]]
            span = (onsets >= onsets[notes].min()) & (onsets <= onsets[notes].max())
            tracks, counts = np.unique(self.track[notes], return_counts=True)
            copied |= span & np.isin(self.track, tracks[counts * 4 >= len(notes)])
            spans.append(span)
        for p, span in zip(passages, spans, strict=True):
            if p.index is not None and not copied[span].all():
                copied[p.index.vertical(self, p)] = True
        return copied

    @property
    def n_notes(self) -> int:
        return len(self.track)


@dataclass
class Passage:
    bars: float  # length in the entry's sounded bars (4 of its typical inter-onset intervals)
    notes: int
    source: str  # where it matches: piece name or submission
    source_track: str
    source_bar: int  # 1-based bar of the known piece where the passage starts
    entry_track: str
    entry_bar: int  # 1-based bar of the entry where the passage starts
    kind: str = ""  # training, reference or entry
    line: int = field(default=0, repr=False)  # the entry's line and its first and last note in the passage
    first: int = field(default=0, repr=False)
    last: int = field(default=0, repr=False)
    transform: str = ""  # "", retrograde, inversion or retrograde inversion: how the entry relates to the source
    source_pos: int = field(default=0, repr=False)  # the index position of the source's first matched note
    # the index it was found in: the copied share asks it which notes of the other tracks sound as the source does
    index: LineIndex | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        hidden = ("line", "first", "last", "source_pos", "index")  # (asdict would deep-copy the index)
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in hidden}
        return {**data, "bars": round(self.bars, 2)}


# ------------------------------------------------------------------------------------------------------ the index
class LineIndex:
    """Lines of known music end to end in flat arrays, one slot per note: line i's notes at [start_i, start_i + n_i),
    its n_i - 2 tokens at the same offsets followed by two separators (token k belongs to note k), and a sorted
    table of the hashes of the n-grams that may seed a match (all usable ones with ``keep_common``)."""

    def __init__(self, sources: list[str], tracks: list[str], lengths: np.ndarray, pitch: np.ndarray,
                 time: np.ndarray, bar: np.ndarray, keep_common: bool = False) -> None:
        self.sources, self.tracks = sources, tracks
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.line_start = np.cumsum(self.lengths) - self.lengths
        self.pitch, self.time, self.bar = pitch, time, bar
        tokens = np.full(len(pitch), _SEPARATOR, dtype=np.int64)  # the last two slots of every line: separators
        for start, n in zip(self.line_start.tolist(), self.lengths.tolist(), strict=True):
            if n >= 3:
                tokens[start : start + n - 2] = line_tokens(pitch[start : start + n], time[start : start + n])
        self.tokens = tokens
        if keep_common:
            hashes, seed, _ = ngram_hashes(tokens)
        else:
            hashes, seed = seed_grams(tokens)
        positions = np.nonzero(seed)[0]
        order = np.argsort(hashes[positions], kind="stable")
        self.hash_sorted = hashes[positions][order]
        self.pos_sorted = positions[order].astype(np.int64)

    @classmethod
    def from_lines(cls, lines: list[Line], keep_common: bool = False) -> LineIndex:
        def flat(key, dtype):
            return np.concatenate([getattr(line, key) for line in lines]).astype(dtype) if lines else np.zeros(0, dtype)

        return cls([line.source for line in lines], [line.track for line in lines],
                   np.array([len(line.pitch) for line in lines]), flat("pitch", np.int16), flat("time", np.float64),
                   flat("bar", np.float32), keep_common)

    def __len__(self) -> int:
        return len(self.lengths)

    def line_of(self, position: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.line_start, position, side="right") - 1

    def _hits(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query position, index position) of every verified shared n-gram that may seed a match."""
        hashes, seed = seed_grams(q)
        q_pos = np.nonzero(seed)[0]
        empty = np.zeros(0, dtype=np.int64)
        if len(q_pos) == 0 or len(self.hash_sorted) == 0:
            return empty, empty
        lo = np.searchsorted(self.hash_sorted, hashes[q_pos], side="left")
        counts = np.searchsorted(self.hash_sorted, hashes[q_pos], side="right") - lo
        keep = (counts > 0) & (counts <= MAX_HITS_PER_GRAM)
        lo, counts, q_pos = lo[keep], counts[keep], q_pos[keep]
        if len(q_pos) == 0:
            return empty, empty
        qs = np.repeat(q_pos, counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        cs = self.pos_sorted[np.repeat(lo, counts) + offsets]
        k = np.arange(NGRAM)
        exact = (q[qs[:, None] + k] == self.tokens[cs[:, None] + k]).all(axis=1)  # hash collisions out
        return qs[exact], cs[exact]

    def passages(self, entry: Entry, masks: list[np.ndarray] | None = None, kind: str = "") -> list[Passage]:
        """Every passage an entry's line shares with this index: verified hits on one alignment whose n-grams
        overlap or touch, chained (commonplace n-grams in between break the chain)."""
        found = []
        for li, (line, q) in enumerate(zip(entry.lines, entry.tokens, strict=True)):
            if masks is not None:
                q = np.where(masks[li], _MASKED, q)
            qs, cs = self._hits(q)
            if len(qs) == 0:
                continue
            diag = cs - qs
            order = np.lexsort((qs, diag))
            qs, diag = qs[order], diag[order]
            new = np.concatenate([[True], (diag[1:] != diag[:-1]) | (np.diff(qs) > NGRAM)])
            starts = np.nonzero(new)[0]
            ends = np.append(starts[1:], len(qs)) - 1
            first, last = qs[starts], qs[ends] + NGRAM + 1  # notes: token k covers notes k..k+2
            src = first + diag[starts]
            src_line = self.line_of(src)
            bars = line.bar_end[last] - line.bar[first]
            for j in range(len(starts)):
                s = int(src_line[j])
                found.append(Passage(float(bars[j]), int(last[j] - first[j] + 1), self.sources[s], self.tracks[s],
                                     int(self.bar[src[j]]) + 1, line.track, int(line.bar[first[j]]) + 1, kind, li,
                                     int(first[j]), int(last[j]),
                                     entry.line_transform[li], int(src[j]), self))
        return found

    def _source_notes(self, source: str) -> tuple[np.ndarray, np.ndarray]:
        """(time, pitch class) of every note of every line of ``source``, sorted by time (cached)."""
        if not hasattr(self, "_by_source"):
            self._by_source: dict[str, list[int]] = {}
            for i, name in enumerate(self.sources):
                self._by_source.setdefault(name, []).append(i)
            self._source_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if source not in self._source_cache:
            spans = [np.arange(self.line_start[i], self.line_start[i] + self.lengths[i])
                     for i in self._by_source.get(source, [])]
            idx = np.concatenate(spans) if spans else np.zeros(0, dtype=np.int64)
            idx = idx[np.argsort(self.time[idx], kind="stable")]
            self._source_cache[source] = (self.time[idx].astype(np.float64), self.pitch[idx].astype(np.int64) % 12)
        return self._source_cache[source]

    def vertical(self, entry: Entry, passage: Passage) -> np.ndarray:
        """The entry's notes on the passage's other tracks, in its span, that the source also sounds there (the
        same pitch class, transposed as the line is, at the same time within a quarter of the passage's typical
        inter-onset interval) -- when at least VERTICAL_SHARE of those notes (and VERTICAL_MIN_NOTES) do: the
        other voices of a copied passage are copied too (a patchwork copies every voice of each piece it takes)."""
        none = np.zeros(0, dtype=np.int64)
        if passage.transform or passage.last - passage.first < 2:
            return none
        notes = entry.line_notes[passage.line][passage.first : passage.last + 1]
        onsets = entry.onsets[""]
        e_time = onsets[notes]
        n = len(notes)
        s_time = self.time[passage.source_pos : passage.source_pos + n].astype(np.float64)
        if len(s_time) != n or e_time[-1] <= e_time[0]:
            return none
        scale = (s_time[-1] - s_time[0]) / (e_time[-1] - e_time[0])
        shift = int(self.pitch[passage.source_pos]) - int(entry.pitch[notes[0]])
        lo, hi = e_time.min(), e_time.max()
        own = np.unique(entry.track[notes])
        others = np.nonzero((onsets >= lo) & (onsets <= hi) & ~np.isin(entry.track, own))[0]
        if len(others) < VERTICAL_MIN_NOTES:
            return none
        times, classes = self._source_notes(passage.source)
        tolerance = 0.25 * float(np.median(np.diff(s_time))) if n > 1 else 0.0
        mapped = s_time[0] + (onsets[others] - e_time[0]) * scale
        lo_i, hi_i = np.searchsorted(times, [mapped.min() - tolerance - 1e-9, mapped.max() + tolerance + 1e-9])
        times, classes = times[lo_i:hi_i], classes[lo_i:hi_i]  # the source's notes in the passage's span
        wanted = (entry.pitch[others] + shift) % 12
        near = np.abs(mapped[:, None] - times[None, :]) <= tolerance + 1e-9
        sounds = (near & (wanted[:, None] == classes[None, :])).any(axis=1)
        if sounds.sum() < max(VERTICAL_MIN_NOTES, VERTICAL_SHARE * len(others)):
            return none
        return others[sounds]

    def given_masks(self, entry: Entry) -> list[np.ndarray]:
        """Per entry line, the tokens inside any n-gram that also occurs here (material every entrant received, such
        as a Melody Harvest input melody): such passages are not copies. Build this index with ``keep_common``."""
        masks = []
        for q in entry.tokens:
            hashes, usable, _ = ngram_hashes(q)
            hit = usable & _in_sorted(self.hash_sorted, hashes)  # (len(q) - NGRAM + 1,) n-gram starts, or none
            mask = np.zeros(len(q), dtype=bool)
            for k in range(NGRAM):  # every token of a hit n-gram
                mask[k : k + len(hit)] |= hit
            masks.append(mask)
        return masks

    # ------------------------------------------------------------------------------------------- persistence
    def save(self, path: Path) -> None:
        """Written to a temporary file, then renamed: concurrent workers never read half an index."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, lengths=self.lengths, pitch=self.pitch, time=self.time, bar=self.bar,
                         sources=np.array(self.sources), tracks=np.array(self.tracks))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> LineIndex:
        """Each array is read once (indexing an open ``NpzFile`` reads the whole array again on every access)."""
        with np.load(path, allow_pickle=False) as z:
            data = {key: z[key] for key in z.files}
        return cls(data["sources"].tolist(), data["tracks"].tolist(), data["lengths"], data["pitch"], data["time"],
                   data["bar"])


# ------------------------------------------------------------------------------------------------- known music
def training_index() -> LineIndex:
    """Every chorale (train, valid and test split), cached on disk and in memory."""
    from generation.engine.dataset import DATA_VERSION, load_chorales

    path = default_cache_dir() / f"originality-chorales-v{DATA_VERSION}.{INDEX_VERSION}.npz"
    key = str(path)
    if key not in _MEMORY:
        if path.exists():
            _MEMORY[key] = LineIndex.load(path)
        else:
            index = LineIndex.from_lines([line for piece in load_chorales() for line in lines_from_piece(piece)])
            index.save(path)
            _MEMORY[key] = index
    return _MEMORY[key]


def _files_index(kind: str, files, keep_common: bool = False) -> LineIndex:
    """Lines of a challenge's stored MIDI files (reference files or input melodies), cached by their digest."""
    from generation.engine.errors import EngineError
    from generation.engine.midi_io import load_midi

    files = sorted(files, key=lambda f: f.pk)
    digest = hashlib.sha256("".join(f"{f.pk}\0{f.name}\0{f.midi.name}\n" for f in files).encode()).hexdigest()
    key = f"{kind}:{digest}"
    if key not in _MEMORY:
        lines = []
        for f in files:
            try:
                with f.midi.open("rb") as src:
                    pm = load_midi(src.read())
            except (EngineError, OSError):
                continue
            lines += lines_from_midi(pm, f.name)
        _MEMORY[key] = LineIndex.from_lines(lines, keep_common)
    return _MEMORY[key]


def earlier_entries_index(challenge, entry: Entry, exclude_submission_id: int | None) -> LineIndex:
    """Earlier entries of the challenge by other entrants that share at least one n-gram with ``entry``."""
    from evaluation.models import OriginalityFingerprint, OriginalityGram
    from submissions.models import Submission

    hashes = entry.seed_hashes()
    if not hashes:
        return LineIndex.from_lines([])
    grams = OriginalityGram.objects.filter(challenge=challenge, hash__in=hashes)
    fingerprints = OriginalityFingerprint.objects.filter(pk__in=grams.values("fingerprint_id"))
    if exclude_submission_id is not None:
        fingerprints = fingerprints.filter(submission_id__lt=exclude_submission_id)
        entrant_id = Submission.objects.filter(pk=exclude_submission_id).values_list("entrant_id", flat=True).first()
        if entrant_id is not None:
            fingerprints = fingerprints.exclude(entrant_id=entrant_id)
    return LineIndex.from_lines([Line.from_json(d) for lines in fingerprints.values_list("lines", flat=True)
                                 for d in lines])


# ------------------------------------------------------------------------------------------------- public API
def patchwork(entry: Entry, passages: list[Passage]) -> list[Passage]:
    """The passages of a patchwork -- short pieces of one or many sources, each under the threshold, that together
    cover at least PATCH_SHARE of the entry's notes and PATCH_MIN_NOTES notes in at least PATCH_MIN_PASSAGES
    places -- or none. Only passages as they are count here: a retrograde or inverted copy must be a long passage
    (on held-out folk tunes, short retrograde and inverted matches made 5 of 8 false patchworks)."""
    mine, seen = [], set()
    for p in sorted((p for p in passages if p.transform == ""), key=lambda p: (p.entry_bar, p.line, p.first)):
        place = (p.source, p.source_track, p.source_bar)
        if place not in seen:  # a motif the entry repeats, matching the same place again, counts once
            seen.add(place)
            mine.append(p)
    copied = int(entry.copied_mask(mine).sum())
    if len({(p.line, p.first) for p in mine}) >= PATCH_MIN_PASSAGES and copied >= max(
            PATCH_MIN_NOTES, PATCH_SHARE * entry.n_notes):
        return mine
    return []



def originality_check(pms: list[pretty_midi.PrettyMIDI], *, challenge=None,
                      exclude_submission_id: int | None = None) -> dict:
    """Read only. ``{"longest": passage | None, "threshold_bars", "min_notes", "flagged", "copied_notes",
    "total_notes", "copied_share", "copy_penalty", "checked": [...]}``; a passage is a dict with bars, notes, source,
    source_track, source_bar, entry_track, entry_bar and kind (training / reference / entry). ``longest`` is the
    longest copied passage when there is one, else the longest shared one."""
    entry = Entry.of(pms)
    masks = None
    checked = ["training data (all Bach chorales)"]
    indexes: list[tuple[str, LineIndex]] = [("training", training_index())]
    if challenge is not None:
        given = list(challenge.input_melodies.all())
        if given:
            masks = _files_index("given", given, keep_common=True).given_masks(entry)
        references = list(challenge.reference_files.all())
        if references:
            indexes.append(("reference", _files_index("reference", references)))
            checked.append(f"reference set ({len(references)} files)")
        indexes.append(("entry", earlier_entries_index(challenge, entry, exclude_submission_id)))
        checked.append("earlier entries of the challenge")
    threshold = float(challenge.originality_threshold_bars) if challenge is not None else DEFAULT_THRESHOLD_BARS
    passages = [p for kind, index in indexes for p in index.passages(entry, masks, kind)]
    long = [p for p in passages if p.bars > threshold and p.notes >= MIN_NOTES]
    copied = long or patchwork(entry, passages)
    longest = max(copied or passages, key=lambda p: (p.bars, p.notes), default=None)
    copied_notes, total = int(entry.copied_mask(copied).sum()), entry.n_notes
    share = copied_notes / total if total else 0.0
    return {"longest": None if longest is None else longest.to_dict(), "threshold_bars": threshold,
            "min_notes": MIN_NOTES, "flagged": bool(copied), "patchwork": bool(copied) and not long,
            "sources": sorted({p.source for p in copied}), "copied_notes": copied_notes, "total_notes": total,
            "copied_share": round(share, 4), "copy_penalty": round(1.0 - share, 4) if copied else 1.0,
            "checked": checked}


@transaction.atomic
def originality_register(*, submission_id: int, pms: list[pretty_midi.PrettyMIDI]) -> int:
    """Store the entry's melody lines and n-gram hashes so that later entries are checked against it (replacing
    what a previous run stored). Returns the number of hashes stored."""
    from evaluation.models import OriginalityFingerprint, OriginalityGram
    from submissions.models import Submission

    submission = Submission.objects.get(pk=submission_id)
    entry = Entry.of(pms, source=f"submission {submission_id}", transforms=("",))  # later entries check R and I
    OriginalityFingerprint.objects.filter(submission_id=submission_id).delete()
    fingerprint = OriginalityFingerprint.objects.create(
        submission=submission, challenge_id=submission.challenge_id, entrant_id=submission.entrant_id,
        lines=[line.to_json() for line in entry.lines],
    )
    hashes = entry.seed_hashes()
    OriginalityGram.objects.bulk_create(
        [OriginalityGram(fingerprint=fingerprint, challenge_id=submission.challenge_id, hash=h) for h in hashes],
        batch_size=1000,
    )
    return len(hashes)


# ------------------------------------------------------------------------------------- the folk corpus, the table
def tune_line(tune: Tune) -> Line:
    """A folk tune's melody as a line, read like an entry's."""
    rows = [(p, s, s + d, 0) for p, s, d in zip(tune.pitch, tune.onset, tune.duration, strict=True)]
    return Sounded.of_rows(rows, ["melody"]).lines(tune.name)[0][0]


def document_frequency(pieces: list[list[Line]]) -> tuple[np.ndarray, np.ndarray]:
    """(hash, number of pieces it occurs in) of every usable n-gram of ``pieces`` (each a list of lines)."""
    per_piece = []
    for lines in pieces:
        hashes = [h[u] for h, u, _ in (ngram_hashes(line_tokens(ln.pitch, ln.time)) for ln in lines)]
        per_piece.append(np.unique(np.concatenate(hashes)) if hashes else np.zeros(0, dtype=np.uint64))
    return np.unique(np.concatenate(per_piece), return_counts=True)


def build_common_table(path: Path = COMMON_PATH) -> int:
    """Hashes of the n-grams found in at least DF_COMMON pieces: all chorales and the folk tunes outside the test
    split (those are kept apart as original music for the tests and the benchmark). Returns their number."""
    from generation.engine.dataset import load_chorales

    pieces = [lines_from_piece(p) for p in load_chorales()]
    pieces += [[tune_line(t)] for t in load_folk() if t.split != "test"]
    hashes, df = document_frequency(pieces)
    common = np.sort(hashes[df >= DF_COMMON])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, hashes=common, ngram=NGRAM, ratio_steps=RATIO_STEPS, df_common=DF_COMMON,
                        token_version=TOKEN_VERSION,
                        n_pieces=len(pieces))
    _MEMORY.pop("common", None)
    return len(common)


if __name__ == "__main__":  # python -m evaluation.originality: rebuild the commonplace table
    sys.stderr.write(f"{build_common_table()} commonplace n-grams written to {COMMON_PATH}\n")
