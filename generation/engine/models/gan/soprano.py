"""A soprano for the no-melody mode: a small Markov chain over pitches and note lengths, fitted to a style's training
sopranos (numpy only; no network).

Fitting (`fit_chain`, run by `python -m generation.engine.models.gan.soprano`, which writes ``soprano_chains.json``
beside this file): each training soprano is moved to C major / A minor and near the model's register exactly as
the sampler moves a melody (`encoding.model_shift`), then three tables are counted per mode (major, minor): the first
pitch, the next pitch given the previous one (pitches ``LOWEST``..``HIGHEST``; others folded in by octaves), and the
note length in sixteenths (1..``MAX_STEPS``) given where the note starts in a 4/4 bar (its sixteenth, 0..15).

Sampling (`sample_soprano`), deterministic for a seed: lengths drawn for each position until ``bars`` bars of 4/4
less a final half note are filled (a length never crosses the end), each pitch from the previous one; the note before
the final one is drawn from P(x | previous) x P(tonic | x), so the line leads into the tonic; the final note is the
tonic nearest the previous pitch, a half note. The line is drawn in C major / A minor and moved into the key asked for
(by -6..+5 semitones); only pitches that land inside a soprano's range (``SUNG``) are drawn.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from generation.engine.models.gan.encoding import REST, key_of_histogram, model_shift, top_line

CHAINS_PATH = Path(__file__).with_name("soprano_chains.json")
MELODY_CENTER = 71  # spec.GANConfig.melody_center: the register the model reads melodies in
LOWEST, HIGHEST = 60, 83  # C4..B5: every normalized chorale soprano note, folded by octaves outside
MAX_STEPS = 16  # longest note drawn: a whole note
BAR_STEPS = 16  # 4/4 on the sixteenth grid
FINAL_STEPS = 8  # the final tonic: a half note
TONIC = {"major": 60, "minor": 57 + 12}  # C4 / A4 (pitch classes 0 / 9 inside LOWEST..HIGHEST)
SUNG = (60, 81)  # C4..A5: a soprano's range; after the move into the key asked for no note leaves it
SMOOTHING = 0.1  # add-k on every table: a pitch or length never seen stays possible, rarely


def _fold(p: int) -> int:
    while p < LOWEST:
        p += 12
    while p > HIGHEST:
        p -= 12
    return p


def _notes(pitch: np.ndarray, onset: np.ndarray) -> list[tuple[int, int, int]]:
    """(pitch, start, length) of each note of a line (REST = -1 ends a note)."""
    out, start = [], None
    for t in range(len(pitch) + 1):
        ends = t == len(pitch) or pitch[t] < 0 or onset[t] or (start is not None and pitch[t] != pitch[start])
        if ends and start is not None:
            out.append((int(pitch[start]), start, t - start))
            start = None
        if t < len(pitch) and pitch[t] >= 0 and start is None:
            start = t
    return out


def fit_chain(pieces) -> dict:
    """The three tables per mode (counts + SMOOTHING, as lists) from the sopranos (track 0) of ``pieces``."""
    n = HIGHEST - LOWEST + 1
    tables = {mode: {"start": np.full(n, SMOOTHING), "next": np.full((n, n), SMOOTHING),
                     "length": np.full((BAR_STEPS, MAX_STEPS), SMOOTHING)} for mode in ("major", "minor")}
    for piece in pieces:
        pitch, onset = top_line(piece.rolls[0], None if piece.onsets is None else piece.onsets[0])
        sounding = pitch[pitch >= 0]
        if not len(sounding):
            continue
        root, mode = key_of_histogram(np.bincount(sounding % 12, minlength=12).astype(np.float64))
        shift = model_shift(pitch, MELODY_CENTER, (root, mode))
        notes = [(_fold(p + shift) - LOWEST, s, length) for p, s, length in _notes(pitch, onset)]
        t = tables[mode]
        t["start"][notes[0][0]] += 1
        for (a, _s, _l), (b, _s2, _l2) in itertools.pairwise(notes):
            t["next"][a, b] += 1
        if piece.steps_per_bar % BAR_STEPS == 0:
            for _p, s, length in notes:
                t["length"][s % BAR_STEPS, min(length, MAX_STEPS) - 1] += 1
    return {mode: {k: np.round(v, 3).tolist() for k, v in t.items()} for mode, t in tables.items()}


def load_chains(path: Path = CHAINS_PATH) -> dict:
    """{style: {mode: tables}} as fitted (JSON; never a pickle)."""
    return json.loads(path.read_text())


def _draw(rng: np.random.Generator, weights: np.ndarray) -> int:
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def sample_soprano(chain: dict, key: tuple[int, str], bars: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """A soprano of ``bars`` bars of 4/4 in ``key`` (root pitch class, "major" | "minor"): pitch (T,), onset (T,)
    on the sixteenth grid, T = 16 x bars (see the module docstring)."""
    root, mode = key
    to_key = (root - (0 if mode == "major" else 9)) % 12
    to_key = to_key - 12 if to_key > 5 else to_key  # -6..+5: stay near the register the chain learned
    sung = np.arange(LOWEST, HIGHEST + 1) + to_key
    allowed = ((sung >= SUNG[0]) & (sung <= SUNG[1])).astype(np.float64)  # (states,)
    t = {k: np.asarray(v, dtype=np.float64) for k, v in chain[mode].items()}
    t["start"], t["next"] = t["start"] * allowed, t["next"] * allowed
    total = BAR_STEPS * bars
    body = total - FINAL_STEPS
    tonic = TONIC[mode] - LOWEST
    tonics = [i for i in (tonic - 12, tonic, tonic + 12) if 0 <= i < len(allowed) and allowed[i]]  # sung tonics
    pitch = np.full(total, REST, dtype=np.int64)
    onset = np.zeros(total, dtype=bool)
    pos, previous = 0, None
    while pos < body:
        lengths = t["length"][pos % BAR_STEPS][: body - pos]
        length = _draw(rng, lengths) + 1
        if previous is None:
            weights = t["start"]
        elif pos + length >= body:  # the note before the final tonic leads into it
            weights = t["next"][previous] * t["next"][:, tonics].sum(axis=1)
        else:
            weights = t["next"][previous]
        previous = _draw(rng, weights)
        pitch[pos:pos + length], onset[pos] = LOWEST + previous, True
        pos += length
    last = LOWEST + tonics[0]
    if previous is not None:  # the sung tonic nearest the note before it
        last = LOWEST + min(tonics, key=lambda i: abs(i - previous))
    pitch[body:], onset[body] = last, True
    return pitch + to_key * (pitch >= 0), onset


def fit_all() -> dict:
    """Both styles' chains from their train splits (the cached corpora)."""
    from generation.engine.dataset import load_chorales, load_palestrina, pieces_split

    return {"chorale": fit_chain(pieces_split(load_chorales(), "train")),
            "renaissance": fit_chain(pieces_split(load_palestrina(), "train"))}


if __name__ == "__main__":  # python -m generation.engine.models.gan.soprano
    CHAINS_PATH.write_text(json.dumps(fit_all(), separators=(",", ":")) + "\n")
