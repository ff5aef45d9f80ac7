"""Folk melodies from the Essen collection that music21 ships: a second style for scoring benchmarks and tests.

No torch, no Django. The tunes of a few of music21's ``essenFolksong`` abc files are converted with music21 (its
own MIDI writer: the tempo it writes is what the tune sounds like), cached as note arrays in seconds
(``essen-v{FOLK_VERSION}.npz`` in the dataset cache folder; building takes about a minute) and split by a hash of
their name with the chorales' rule (test if the hash % 10 == 0, validation if 1, train otherwise).
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi

from generation.engine.dataset import Split, default_cache_dir, split_of_name

logger = logging.getLogger(__name__)

FOLK_VERSION = 1
FOLK_FILES = ("altdeu10", "ballad10", "ballad20")  # 560 German tunes and ballads: ~45 s to parse once


@dataclass
class FolkTune:
    name: str  # "altdeu10#12": file and tune number
    split: Split
    pitches: np.ndarray  # (n,) int
    starts: np.ndarray  # (n,) float seconds
    ends: np.ndarray  # (n,) float seconds

    def to_midi(self, program: int = 0) -> pretty_midi.PrettyMIDI:
        pm = pretty_midi.PrettyMIDI()
        inst = pretty_midi.Instrument(program=program, name="melody")
        inst.notes = [pretty_midi.Note(velocity=80, pitch=int(p), start=float(s), end=float(e))
                      for p, s, e in zip(self.pitches, self.starts, self.ends, strict=True)]
        pm.instruments.append(inst)
        return pm


def _extract(files: tuple[str, ...]) -> dict[str, np.ndarray]:
    from music21 import corpus
    from music21.midi import translate

    names, note_tune, pitch, start, end = [], [], [], [], []
    for file in files:
        opus = corpus.parse(f"essenFolksong/{file}")
        for i, score in enumerate(opus.scores):
            try:
                data = translate.music21ObjectToMidiFile(score).writestr()
                pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
            except Exception as exc:
                logger.warning("Skipping %s #%d: %s", file, i, exc)
                continue
            notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
            if len(notes) < 2:
                continue
            number = score.metadata.number if score.metadata and score.metadata.number else i + 1
            names.append(f"{file}#{number}")
            for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
                note_tune.append(len(names) - 1)
                pitch.append(n.pitch)
                start.append(n.start)
                end.append(n.end)
    return {"names": np.array(names), "note_tune": np.array(note_tune), "pitch": np.array(pitch),
            "start": np.array(start), "end": np.array(end)}


def load_folk(cache_dir: Path | None = None) -> list[FolkTune]:
    """Every tune of FOLK_FILES (parsed once, then read from the cache)."""
    path = Path(cache_dir or default_cache_dir()) / f"essen-v{FOLK_VERSION}.npz"
    if not path.exists():
        table = _extract(FOLK_FILES)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **table)
        os.replace(tmp, path)
    with np.load(path, allow_pickle=False) as z:
        t = {k: z[k] for k in z.files}
    bounds = np.searchsorted(t["note_tune"], np.arange(len(t["names"]) + 1))
    return [FolkTune(name, split_of_name(name), t["pitch"][a:b], t["start"][a:b], t["end"][a:b])
            for name, a, b in zip(t["names"].tolist(), bounds[:-1], bounds[1:], strict=True)]
