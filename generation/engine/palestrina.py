"""Read Palestrina's polyphony that music21 ships into note arrays, reduced to the four voices nearest SATB (used
once, by dataset.load_palestrina, to build its cache).

music21 ships 1,318 Palestrina movements (humdrum, 4 to 8 voices, mostly 4/2). Parsing all of them takes ~20 min on
a loaded CPU, so only the first ``PALESTRINA_FILES`` files in corpus order are read, and of those the ones with 4 to
6 voices (double choirs are skipped). Reduction: the highest voice by mean pitch is the melody (soprano), the lowest
the bass, and of the voices between them the one whose mean pitch is nearest ``ALTO_CENTER`` is the alto and the
next nearest ``TENOR_CENTER`` the tenor. Notes, ties and pickups as chorales.py reads them (one place).
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm import tqdm

from generation.engine.chorales import STEPS_PER_QUARTER, _part_notes, _time_signature
from generation.engine.midi_io import steps_per_bar_of

logger = logging.getLogger(__name__)

PALESTRINA_FILES = 360  # files read (corpus order): ~0.2-1 s each on this CPU, so the cache builds in minutes
MIN_VOICES, MAX_VOICES = 4, 6  # 7-8 voices are double choirs: two SATB groups, no single four-voice texture
ALTO_CENTER = 64  # MIDI E4: middle of the chorale altos (A3-D5)
TENOR_CENTER = 57  # MIDI A3: middle of the chorale tenors (E3-A4)
PALESTRINA_TEMPO_BPM = 120.0  # a half-note tactus of ~60: quarter = 120


def reduce_to_satb(parts_notes: list[list[tuple[int, int, int]]]) -> list[int] | None:
    """Indices (soprano, alto, tenor, bass) of four parts chosen by register, or None with fewer than 4 sounding."""
    sounding = [i for i, notes in enumerate(parts_notes) if notes]
    if len(sounding) < 4:
        return None
    mean = {i: float(np.mean([p for p, _s, _e in parts_notes[i]])) for i in sounding}
    order = sorted(sounding, key=lambda i: -mean[i])
    soprano, bass, middle = order[0], order[-1], order[1:-1]
    alto = min(middle, key=lambda i: abs(mean[i] - ALTO_CENTER))
    rest = [i for i in middle if i != alto]
    tenor = min(rest, key=lambda i: abs(mean[i] - TENOR_CENTER))
    if mean[tenor] > mean[alto]:  # keep the order by register
        alto, tenor = tenor, alto
    return [soprano, alto, tenor, bass]


def extract_palestrina(n_files: int = PALESTRINA_FILES) -> dict[str, np.ndarray]:
    """The first ``n_files`` Palestrina files with 4-6 voices, reduced to four; arrays as chorales.extract_chorales
    (``numbers`` = the file's index in corpus order, which gives the split: index % 10)."""
    from music21 import corpus

    filenames = list(corpus.getComposer("palestrina"))[:n_files]
    meta = {k: [] for k in ("names", "numbers", "n_steps", "tempo", "ts_num", "ts_den")}
    rows: list[tuple[int, int, int, int, int]] = []
    skipped = 0
    for index, filename in enumerate(tqdm(filenames, desc="palestrina", unit="piece", leave=False, disable=None)):
        try:
            score = corpus.parse(filename)
        except Exception as exc:
            logger.warning("Skipping %s: %s", filename, exc)
            skipped += 1
            continue
        parts = list(score.parts)
        if not MIN_VOICES <= len(parts) <= MAX_VOICES:
            skipped += 1
            continue
        first_measure = parts[0].getElementsByClass("Measure")
        shift = float(first_measure[0].paddingLeft) if first_measure else 0.0
        notes = [_part_notes(part, shift) for part in parts]
        chosen = reduce_to_satb(notes)
        if chosen is None:
            skipped += 1
            continue
        ts = _time_signature(score)
        piece_index = len(meta["names"])
        end = 0
        for track, part_index in enumerate(chosen):
            for pitch, start, stop in notes[part_index]:
                rows.append((piece_index, track, pitch, start, stop))
                end = max(end, stop)
        bar = steps_per_bar_of(ts, STEPS_PER_QUARTER)
        meta["names"].append(f"p{index:04d}-{str(filename).rsplit('/', 1)[-1]}")
        meta["numbers"].append(index)
        meta["n_steps"].append(-(-end // bar) * bar)
        meta["tempo"].append(PALESTRINA_TEMPO_BPM)
        meta["ts_num"].append(ts[0])
        meta["ts_den"].append(ts[1])
    logger.info("Palestrina: %d pieces kept, %d skipped of %d files", len(meta["names"]), skipped, len(filenames))
    notes_arr = np.array(rows, dtype=np.int32).reshape(-1, 5)
    return {
        "names": np.array(meta["names"], dtype=str),
        "numbers": np.array(meta["numbers"], dtype=np.int32),
        "n_steps": np.array(meta["n_steps"], dtype=np.int32),
        "tempo": np.array(meta["tempo"], dtype=np.float64),
        "ts_num": np.array(meta["ts_num"], dtype=np.int32),
        "ts_den": np.array(meta["ts_den"], dtype=np.int32),
        "skipped_numbers": np.zeros(0, dtype=np.int32),
        "note_piece": notes_arr[:, 0], "note_track": notes_arr[:, 1], "note_pitch": notes_arr[:, 2],
        "note_start": notes_arr[:, 3], "note_end": notes_arr[:, 4],
    }
