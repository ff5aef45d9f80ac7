"""Originality: the longest passage an entry shares with known music, transposition-invariant (no Django, no torch).

A piece is read as melody lines: per pitched track, the highest note at each onset on the sixteenth grid. A line is
a sequence of tokens, one per pair of consecutive notes: (pitch interval, onset delta) -- so a passage matches in any
transposition and tempo. Every run of ``NGRAM`` tokens is hashed into an index (a sorted uint64 array, searched with
numpy); a query's n-grams found there are seeds, checked token by token and extended forward (all seeds at once, in
numpy) to the longest shared run. Its length in bars is the entry's own: onset span plus the last note's duration,
divided by the entry's bar length.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pretty_midi

from generation.engine.dataset import Piece
from generation.engine.representation import roll_to_notes, seconds_to_steps

NGRAM = 6  # tokens per seed = 7 notes: shorter than any 2-bar passage of quarter notes, rare by chance
MAX_HITS_PER_GRAM = 400  # a seed found more often than this is a commonplace (e.g. a scale): skipped, bounds the cost
INDEX_VERSION = 1
_BASE = np.uint64(1_000_003)
_MASK63 = np.uint64((1 << 63) - 1)  # hashes fit a signed 64-bit database column
_SEPARATOR = -1  # between lines in an index: never equal to a token (tokens are >= 0) nor to a query mask


@dataclass
class Line:
    source: str  # piece name or "submission 12 (output 2)"
    track: str  # track or voice name
    pitch: np.ndarray  # (n,) int
    onset: np.ndarray  # (n,) int, sixteenth steps
    duration: np.ndarray  # (n,) int, steps
    steps_per_bar: int

    def to_json(self) -> dict:
        return {"source": self.source, "track": self.track, "steps_per_bar": self.steps_per_bar,
                "pitch": self.pitch.tolist(), "onset": self.onset.tolist(), "duration": self.duration.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> Line:
        return cls(data["source"], data["track"], np.array(data["pitch"], dtype=np.int64),
                   np.array(data["onset"], dtype=np.int64), np.array(data["duration"], dtype=np.int64),
                   int(data["steps_per_bar"]))


@dataclass
class Match:
    bars: float  # length of the shared passage, in the entry's bars
    notes: int
    source: str  # where it matches: piece name or submission
    source_track: str
    source_bar: int  # 1-based bar of the known piece where the passage starts
    entry_track: str
    entry_bar: int  # 1-based bar of the entry where the passage starts

    def to_dict(self) -> dict:
        return {**asdict(self), "bars": round(self.bars, 2)}


def _skyline(pitches: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, ...]:
    """Highest note at each onset, ordered by onset."""
    if len(pitches) == 0:
        return pitches, starts, ends - starts
    order = np.lexsort((-pitches, starts))
    pitches, starts, ends = pitches[order], starts[order], ends[order]
    first = np.ones(len(starts), dtype=bool)
    first[1:] = starts[1:] != starts[:-1]
    return pitches[first], starts[first], np.maximum(ends[first] - starts[first], 1)


def lines_from_midi(pm: pretty_midi.PrettyMIDI, source: str, steps_per_bar: int) -> list[Line]:
    lines = []
    for index, inst in enumerate(pm.instruments):
        if inst.is_drum or len(inst.notes) < 2:
            continue
        arr = np.array([(n.pitch, n.start, n.end) for n in inst.notes], dtype=np.float64)
        steps = np.rint(seconds_to_steps(pm, arr[:, 1:].ravel()).reshape(-1, 2)).astype(np.int64)
        pitch, onset, duration = _skyline(arr[:, 0].astype(np.int64), steps[:, 0], np.maximum(steps[:, 1],
                                                                                                steps[:, 0] + 1))
        lines.append(Line(source, inst.name or f"track {index + 1}", pitch, onset, duration, steps_per_bar))
    return lines


def lines_from_piece(piece: Piece, voices: tuple[str, ...] = ("soprano", "alto", "tenor", "bass")) -> list[Line]:
    lines = []
    for i in range(piece.rolls.shape[0]):
        pitches, starts, ends = roll_to_notes(piece.rolls[i], None if piece.onsets is None else piece.onsets[i])
        if len(pitches) >= 2:
            pitch, onset, duration = _skyline(pitches, starts, ends)
            name = voices[i] if i < len(voices) else f"track {i + 1}"
            lines.append(Line(piece.name, name, pitch, onset, duration, piece.steps_per_bar))
    return lines


def line_tokens(line: Line) -> np.ndarray:
    """(n - 1,) int64 tokens: pitch interval and onset delta of each pair of consecutive notes."""
    interval = np.clip(np.diff(line.pitch), -127, 127) + 128
    delta = np.clip(np.diff(line.onset), 0, 8191)
    return interval * 8192 + delta


def ngram_hashes(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every run of NGRAM tokens (uint64, 63 bits) and whether it may seed a match (no mask or separator,
    not a repeated single pitch, which is no melody)."""
    if len(tokens) < NGRAM:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool)
    grams = np.lib.stride_tricks.sliding_window_view(tokens, NGRAM)  # (n - NGRAM + 1, NGRAM)
    powers = _BASE ** np.arange(NGRAM - 1, -1, -1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        hashes = (grams.astype(np.uint64) * powers).sum(axis=1, dtype=np.uint64) & _MASK63
    usable = (grams >= 0).all(axis=1) & ((grams // 8192) != 128).any(axis=1)
    return hashes, usable


class LineIndex:
    """Lines of known music, their tokens end to end (separated) and a sorted table of their n-gram hashes."""

    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines
        tokens, line_of, start_of = [], [], []
        offset = 0
        for i, line in enumerate(lines):
            t = line_tokens(line)
            tokens += [t, np.array([_SEPARATOR])]
            line_of.append(np.full(len(t) + 1, i))
            start_of.append(offset)
            offset += len(t) + 1
        self.tokens = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int64)
        self.line_of = np.concatenate(line_of) if line_of else np.zeros(0, dtype=np.int64)
        self.line_start = np.array(start_of, dtype=np.int64)
        hashes, usable = ngram_hashes(self.tokens)
        positions = np.nonzero(usable)[0]
        order = np.argsort(hashes[positions], kind="stable")
        self.hash_sorted = hashes[positions][order]
        self.pos_sorted = positions[order]

    def __len__(self) -> int:
        return len(self.lines)

    def match(self, query: list[Line], masked: list[np.ndarray] | None = None) -> Match | None:
        """The longest passage of ``query`` found in this index (None when no seed matches).
        ``masked``: per query line, a bool per token that may not match (e.g. a challenge's given melody)."""
        best: Match | None = None
        for qi, line in enumerate(query):
            q = line_tokens(line)
            if masked is not None:
                q = np.where(masked[qi], -2, q)
            found = self._longest_run(q)
            if found is None:
                continue
            q_start, c_start, length = found
            steps = line.onset[q_start + length] - line.onset[q_start] + line.duration[q_start + length]
            bars = float(steps) / line.steps_per_bar
            if best is None or bars > best.bars:
                ref = self.lines[int(self.line_of[c_start])]
                ref_note = c_start - self.line_start[int(self.line_of[c_start])]
                best = Match(bars, length + 1, ref.source, ref.track, int(ref.onset[ref_note] // ref.steps_per_bar) + 1,
                             line.track, int(line.onset[q_start] // line.steps_per_bar) + 1)
        return best

    def _longest_run(self, q: np.ndarray) -> tuple[int, int, int] | None:
        """(query token start, index token start, run length in tokens) of the longest exact shared run."""
        hashes, usable = ngram_hashes(q)
        q_pos = np.nonzero(usable)[0]
        if len(q_pos) == 0 or len(self.hash_sorted) == 0:
            return None
        lo = np.searchsorted(self.hash_sorted, hashes[q_pos], side="left")
        hi = np.searchsorted(self.hash_sorted, hashes[q_pos], side="right")
        counts = hi - lo
        keep = (counts > 0) & (counts <= MAX_HITS_PER_GRAM)
        if not keep.any():
            return None
        qs = np.repeat(q_pos[keep], counts[keep])
        cs = self.pos_sorted[np.concatenate([np.arange(a, b) for a, b in zip(lo[keep], hi[keep], strict=True)])]
        k = np.arange(NGRAM)
        exact = (q[qs[:, None] + k] == self.tokens[cs[:, None] + k]).all(axis=1)  # hash collisions out
        qs, cs = qs[exact], cs[exact]
        if len(qs) == 0:
            return None
        length = np.full(len(qs), NGRAM)
        active = np.ones(len(qs), dtype=bool)
        while active.any():  # extend all seeds forward together; separators and masks stop a run
            qn, cn = qs + length, cs + length
            ok = active & (qn < len(q)) & (cn < len(self.tokens))
            ok[ok] = q[qn[ok]] == self.tokens[cn[ok]]
            length += ok
            active = ok
        best = int(np.argmax(length))
        return int(qs[best]), int(cs[best]), int(length[best])

    # ------------------------------------------------------------------------------------------- persistence
    def save(self, path: Path) -> None:
        """Written to a temporary file, then renamed: concurrent workers never read half an index."""
        path.parent.mkdir(parents=True, exist_ok=True)
        flat = {k: np.concatenate([getattr(line, k) for line in self.lines]) for k in ("pitch", "onset", "duration")}
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, lengths=np.array([len(line.pitch) for line in self.lines]), **flat,
                         sources=np.array([line.source for line in self.lines]),
                         tracks=np.array([line.track for line in self.lines]),
                         steps_per_bar=np.array([line.steps_per_bar for line in self.lines]))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> LineIndex:
        with np.load(path, allow_pickle=False) as z:
            bounds = np.concatenate([[0], np.cumsum(z["lengths"])])
            lines = [Line(str(z["sources"][i]), str(z["tracks"][i]), z["pitch"][a:b], z["onset"][a:b],
                          z["duration"][a:b], int(z["steps_per_bar"][i]))
                     for i, (a, b) in enumerate(itertools.pairwise(bounds))]
        return cls(lines)


def mask_given_material(query: list[Line], given: LineIndex) -> list[np.ndarray]:
    """Per query line, the tokens inside any run of NGRAM tokens that also occurs in ``given`` (material every
    entrant received, such as a Melody Harvest input melody): such passages are not copies."""
    masks = []
    for line in query:
        q = line_tokens(line)
        mask = np.zeros(len(q), dtype=bool)
        hashes, usable = ngram_hashes(q)
        if len(given.hash_sorted) and usable.any():
            idx = np.searchsorted(given.hash_sorted, hashes)
            hit = usable & (idx < len(given.hash_sorted))
            hit[hit] = given.hash_sorted[idx[hit]] == hashes[hit]
            for start in np.nonzero(hit)[0]:
                mask[start : start + NGRAM] = True
        masks.append(mask)
    return masks
