"""Read the Bach chorales that music21 ships into note arrays (used once, by dataset.load_chorales, to build its cache).

Notes are read straight from music21 (offsets in quarter lengths, 4 steps per quarter), ties merged; repeats are
played once (never expanded, so repeat barlines music21 cannot expand do no harm). A pickup bar is padded at the
front so that bar lines fall on multiples of steps_per_bar.
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm import tqdm

from generation.engine.midi_io import steps_per_bar_of

logger = logging.getLogger(__name__)

VOICE_PREFIXES = ("soprano", "alto", "tenor", "bass")
STEPS_PER_QUARTER = 4
CHORALE_TEMPO_BPM = 120.0


def _voice_parts(score) -> list | None:
    """The soprano/alto/tenor/bass parts by name, else by position when there are exactly 4 unnamed parts.

    Of the 371 chorales, 348 have exactly Soprano/Alto/Tenor/Bass, 20 add instrumental parts (ignored) and 3 have four
    unnamed parts (humdrum spines, in score order S, A, T, B)."""
    parts = list(score.parts)
    names = [(p.partName or "").strip().lower() for p in parts]
    chosen = []
    for voice in VOICE_PREFIXES:  # an exact name first ("Bass"), else a prefix ("Bass Continuo")
        match = next((p for p, n in zip(parts, names, strict=True) if n == voice), None)
        match = match or next((p for p, n in zip(parts, names, strict=True) if n.startswith(voice)), None)
        chosen.append(match)
    if all(p is not None for p in chosen):
        return chosen
    if len(parts) == 4 and not any(names):  # unnamed (humdrum spines): the parts come in score order S, A, T, B
        return parts
    return None


def _part_notes(part, shift_ql: float) -> list[tuple[int, int, int]]:
    """(pitch, start, end) in steps; a tied continuation extends the note it continues (music21's stripTies does the
    same but deep-copies the whole part, 3x slower)."""
    notes: list[list[int]] = []
    open_by_pitch: dict[int, list[int]] = {}
    for element in part.flatten().notes:
        ql = float(element.quarterLength)
        if ql <= 0:  # grace notes
            continue
        start = round((float(element.offset) + shift_ql) * STEPS_PER_QUARTER)
        end = max(start + 1, round((float(element.offset) + ql + shift_ql) * STEPS_PER_QUARTER))
        members = element.notes if element.isChord else [element]
        for member in members:
            midi = int(member.pitch.midi)
            tie = member.tie if member.tie is not None else (element.tie if element.isChord else None)
            previous = open_by_pitch.get(midi)
            if tie is not None and tie.type in ("stop", "continue") and previous is not None and previous[2] == start:
                previous[2] = end
                continue
            note = [midi, start, end]
            notes.append(note)
            open_by_pitch[midi] = note
    return [(p, s, e) for p, s, e in notes]


def _time_signature(score) -> tuple[int, int]:
    found = score.recurse().getElementsByClass("TimeSignature")
    return (int(found[0].numerator), int(found[0].denominator)) if found else (4, 4)


def extract_chorales() -> dict[str, np.ndarray]:
    """Every usable chorale: per-piece metadata arrays, and one row per note (piece, track, pitch, start, end)."""
    from music21 import corpus
    from music21.corpus import chorales

    iterator = chorales.Iterator(returnType="filename")
    numbers = list(iterator.numberList) if getattr(iterator, "numberList", None) else None
    filenames = list(iterator)
    if not numbers or len(numbers) != len(filenames):
        numbers = list(range(1, len(filenames) + 1))
    meta = {k: [] for k in ("names", "numbers", "n_steps", "tempo", "ts_num", "ts_den")}
    rows: list[tuple[int, int, int, int, int]] = []
    skipped = []
    todo = list(zip(numbers, filenames, strict=True))
    for r, filename in tqdm(todo, desc="chorales", unit="piece", leave=False, disable=None):
        score = corpus.parse(filename)
        parts = _voice_parts(score)
        if parts is None:
            skipped.append((r, filename, [p.partName for p in score.parts]))
            continue
        ts = _time_signature(score)
        first_measure = parts[0].getElementsByClass("Measure")
        shift = float(first_measure[0].paddingLeft) if first_measure else 0.0
        piece_index = len(meta["names"])
        end = 0
        for track, part in enumerate(parts):
            for pitch, start, stop in _part_notes(part, shift):
                rows.append((piece_index, track, pitch, start, stop))
                end = max(end, stop)
        bar = steps_per_bar_of(ts, STEPS_PER_QUARTER)
        meta["names"].append(f"r{r:03d}-{filename.replace('/', '_')}")
        meta["numbers"].append(r)
        meta["n_steps"].append(-(-end // bar) * bar)  # whole bars
        meta["tempo"].append(CHORALE_TEMPO_BPM)
        meta["ts_num"].append(ts[0])
        meta["ts_den"].append(ts[1])
    if skipped:
        logger.warning("Skipped %d chorales without soprano/alto/tenor/bass parts: %s", len(skipped), skipped)
    notes = np.array(rows, dtype=np.int32).reshape(-1, 5)
    return {
        "names": np.array(meta["names"], dtype=str),
        "numbers": np.array(meta["numbers"], dtype=np.int32),
        "n_steps": np.array(meta["n_steps"], dtype=np.int32),
        "tempo": np.array(meta["tempo"], dtype=np.float64),
        "ts_num": np.array(meta["ts_num"], dtype=np.int32),
        "ts_den": np.array(meta["ts_den"], dtype=np.int32),
        "skipped_numbers": np.array([s[0] for s in skipped], dtype=np.int32),
        "note_piece": notes[:, 0], "note_track": notes[:, 1], "note_pitch": notes[:, 2],
        "note_start": notes[:, 3], "note_end": notes[:, 4],
    }
