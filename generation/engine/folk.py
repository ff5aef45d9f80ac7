"""Folk melodies from the Essen collection that music21 ships: a second style for scoring, originality and benchmarks.

No torch, no Django. The tunes of ``FOLK_FILES`` (music21's ``essenFolksong`` abc files, about 3,600 tunes) are read
with music21 once (about 4 minutes), cached as note arrays in quarter notes with their time signature
(``essen-folk-v{FOLK_VERSION}.npz`` in the dataset cache folder) and split by a hash of their name with the chorales'
rule (test if the hash % 10 == 0, validation if 1, train otherwise): the test split is held out everywhere (the
originality check's commonplace table, the folk realness model of the benchmarks).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi

from generation.engine.dataset import default_cache_dir, split_of_name

FOLK_FILES = ("altdeu10", "ballad10", "ballad20", "boehme10", "dva0", "erk10", "fink0", "han1", "kinder0")
FOLK_VERSION = 1
DEFAULT_TEMPO = 120.0  # the Essen tunes carry no tempo: music21 writes them at 120 bpm too


@dataclass
class Tune:
    name: str  # "essen/han1#12": file and tune number
    time_signature: tuple[int, int]
    pitch: np.ndarray  # (n,) MIDI pitches
    onset: np.ndarray  # (n,) quarter notes from the start
    duration: np.ndarray  # (n,) quarter notes

    @property
    def split(self) -> str:
        return split_of_name(self.name)

    def to_midi(self, tempo: float = DEFAULT_TEMPO, program: int = 0) -> pretty_midi.PrettyMIDI:
        pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
        pm.time_signature_changes.append(pretty_midi.TimeSignature(*self.time_signature, 0.0))
        inst = pretty_midi.Instrument(program=program, name="melody")
        beat = 60.0 / tempo
        inst.notes = [pretty_midi.Note(80, int(p), o * beat, (o + d) * beat)
                      for p, o, d in zip(self.pitch, self.onset, self.duration, strict=True)]
        pm.instruments.append(inst)
        return pm


def folk_file(name: str) -> list[Tune]:
    """The tunes of one Essen folk song file of music21's corpus (``essenFolksong/<name>``; 5-25 s to parse)."""
    from music21 import corpus  # slow import, only when building

    tunes = []
    for i, score in enumerate(corpus.parse(f"essenFolksong/{name}").scores):
        ts = score.flatten().getTimeSignatures()
        notes = [n for n in score.stripTies().flatten().notes if n.isNote and float(n.quarterLength) > 0]
        if len(notes) >= 3:
            number = score.metadata.number if score.metadata is not None and score.metadata.number else i + 1
            arr = np.array([(n.pitch.midi, float(n.offset), float(n.quarterLength)) for n in notes])
            tunes.append(Tune(f"essen/{name}#{number}", (ts[0].numerator, ts[0].denominator) if ts else (4, 4),
                              arr[:, 0].astype(np.int16), arr[:, 1], arr[:, 2]))
    return tunes


def load_folk(cache_dir: Path | None = None) -> list[Tune]:
    """Every tune of FOLK_FILES, parsed with music21 once and then read from the cache."""
    path = Path(cache_dir or default_cache_dir()) / f"essen-folk-v{FOLK_VERSION}.npz"
    if not path.exists():
        tunes = [t for name in FOLK_FILES for t in folk_file(name)]
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, names=np.array([t.name for t in tunes]), ts_num=[t.time_signature[0] for t in tunes],
                     ts_den=[t.time_signature[1] for t in tunes], lengths=[len(t.pitch) for t in tunes],
                     pitch=np.concatenate([t.pitch for t in tunes]), onset=np.concatenate([t.onset for t in tunes]),
                     duration=np.concatenate([t.duration for t in tunes]))
        os.replace(tmp, path)  # atomic: concurrent builders never see half a file
    with np.load(path, allow_pickle=False) as z:
        t = {key: z[key] for key in z.files}
    bounds = np.concatenate([[0], np.cumsum(t["lengths"])])
    return [Tune(name, (int(t["ts_num"][i]), int(t["ts_den"][i])), t["pitch"][bounds[i]: bounds[i + 1]],
                 t["onset"][bounds[i]: bounds[i + 1]], t["duration"][bounds[i]: bounds[i + 1]])
            for i, name in enumerate(t["names"].tolist())]
