"""Training data: the 371 Bach chorales music21 ships, or a folder of the user's own MIDI files.

No torch, no Django. Chorales are parsed once (about 20 s) and cached as an ``.npz`` of note arrays under the
dataset cache folder; the file name carries ``DATA_VERSION``, so changing the extraction code (and bumping the
version) rebuilds it. Each piece is a ``(4, T, 128)`` boolean roll on the sixteenth-note grid (docs/design.md §3).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pretty_midi

from generation.engine.errors import DatasetError, EngineError
from generation.engine.midi_io import load_midi, steps_per_bar_of
from generation.engine.representation import STEPS_PER_BEAT, Rolls, midi_to_rolls, notes_to_roll, rolls_to_midi

logger = logging.getLogger(__name__)

DATA_VERSION = 1  # bump whenever the extraction below changes: cached files carry it in their name
N_TRACKS = 4
VOICES = ("Soprano", "Alto", "Tenor", "Bass")
MIDI_SUFFIXES = (".mid", ".midi")
REPO_ROOT = Path(__file__).resolve().parents[2]

NO_USABLE_MIDI_MESSAGE = (
    "The folder {path} holds no usable MIDI file ({n_files} .mid/.midi files found, {n_bad} refused)."
)
NOT_A_FOLDER_MESSAGE = "{path} is not a folder."
TRAIN_ONLY_MESSAGE = "Transposition augmentation is for the train split only; {name} is in the {split} split."

Split = Literal["train", "valid", "test"]


@dataclass
class Piece:
    name: str
    split: Split
    rolls: np.ndarray  # bool (4, T, 128): soprano/alto/tenor/bass; user folders: highest-first tracks, empty if fewer
    tempo_bpm: float
    time_signature: tuple[int, int]
    steps_per_bar: int
    onsets: np.ndarray | None = None  # bool (4, T, 128): note starts (keeps re-struck notes apart)
    number: int | None = None  # Riemenschneider number r (chorales), file index in corpus order (Palestrina)

    def to_rolls(self, programs: Sequence[int] = (0, 0, 0, 0), names: Sequence[str] = VOICES) -> Rolls:
        return Rolls(
            tracks=self.rolls, programs=list(programs), is_drum=[False] * N_TRACKS, names=list(names),
            tempo_bpm=self.tempo_bpm, time_signature=self.time_signature, steps_per_bar=self.steps_per_bar,
            onsets=self.onsets,
        )

    def to_midi(self, programs: Sequence[int] = (0, 0, 0, 0)) -> pretty_midi.PrettyMIDI:
        return rolls_to_midi(self.to_rolls(programs))


def split_of_number(r: int) -> Split:
    """docs/design.md section 3: test if r % 10 == 0, valid if r % 10 == 1, train otherwise."""
    if r % 10 == 0:
        return "test"
    if r % 10 == 1:
        return "valid"
    return "train"


def split_of_name(name: str) -> Split:
    """Stable split of a user file: the same rule on sha1(name) (independent of the folder's other files)."""
    return split_of_number(int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16) % 10)


def pieces_split(pieces: Iterable[Piece], split: Split) -> list[Piece]:
    return [p for p in pieces if p.split == split]


def windows(rolls_2d: np.ndarray, steps: int, hop: int) -> np.ndarray:
    """(T, 128) -> (N, steps, 128) windows starting every ``hop`` steps; a short roll is zero-padded to one window."""
    if rolls_2d.shape[0] < steps:
        pad = np.zeros((steps - rolls_2d.shape[0], *rolls_2d.shape[1:]), dtype=rolls_2d.dtype)
        rolls_2d = np.concatenate([rolls_2d, pad], axis=0)
    view = np.lib.stride_tricks.sliding_window_view(rolls_2d, steps, axis=0)[::hop]  # (N, 128, steps)
    return np.ascontiguousarray(np.moveaxis(view, -1, 1))


def transpose(roll: np.ndarray, semitones: int) -> np.ndarray:
    """Shift the pitch (last) axis by ``semitones``; notes pushed past 0 or 127 are dropped."""
    out = np.zeros_like(roll)
    if semitones == 0:
        out[...] = roll
    elif semitones > 0:
        out[..., semitones:] = roll[..., :-semitones]
    else:
        out[..., :semitones] = roll[..., -semitones:]
    return out


def augment_transpositions(pieces: Iterable[Piece], shifts: Iterable[int] = range(-5, 7)) -> list[Piece]:
    """Every train piece transposed by each shift (0 = the piece itself). Refuses valid/test pieces."""
    shifts = list(shifts)
    out = []
    for piece in pieces:
        if piece.split != "train":
            raise DatasetError("not_train", TRAIN_ONLY_MESSAGE.format(name=piece.name, split=piece.split))
        for s in shifts:
            onsets = None if piece.onsets is None else transpose(piece.onsets, s)
            out.append(replace(piece, name=f"{piece.name}{s:+d}", rolls=transpose(piece.rolls, s), onsets=onsets))
    return out


# ---------------------------------------------------------------------------------------------------- chorales
def default_cache_dir() -> Path:
    """CHARTBUSTERS_DATASET_DIR, else <repo>/var/datasets (shared by test runs, which use a temporary var dir),
    else $CHARTBUSTERS_VAR_DIR/datasets when the repository is read-only."""
    if os.environ.get("CHARTBUSTERS_DATASET_DIR"):
        return Path(os.environ["CHARTBUSTERS_DATASET_DIR"])
    repo_var = REPO_ROOT / "var"
    if os.access(repo_var if repo_var.exists() else REPO_ROOT, os.W_OK):
        return repo_var / "datasets"
    return Path(os.environ.get("CHARTBUSTERS_VAR_DIR", tempfile.gettempdir())) / "datasets"


def chorales_cache_path(cache_dir: Path | None = None) -> Path:
    return Path(cache_dir or default_cache_dir()) / f"chorales-v{DATA_VERSION}.npz"


_MEMORY_CACHE: dict[Path, list[Piece]] = {}


def load_chorales(cache_dir: Path | None = None) -> list[Piece]:
    """All usable chorales in Riemenschneider order (cached on disk and in this process; do not mutate)."""
    path = chorales_cache_path(cache_dir)
    if path in _MEMORY_CACHE:
        return _MEMORY_CACHE[path]
    if path.exists():
        pieces = _pieces_from_npz(path)
    else:
        from generation.engine.chorales import extract_chorales  # music21: slow import, only when building

        table = extract_chorales()
        _save_npz(path, table)
        pieces = _pieces_from_npz(path)
    _MEMORY_CACHE[path] = pieces
    return pieces


def palestrina_cache_path(cache_dir: Path | None = None) -> Path:
    return Path(cache_dir or default_cache_dir()) / f"palestrina-v{DATA_VERSION}.npz"


def load_palestrina(cache_dir: Path | None = None) -> list[Piece]:
    """Palestrina pieces reduced to four voices (palestrina.py: a subset of music21's corpus), note values halved
    (``halve_note_values``), split by the file's index in corpus order (index % 10, as the chorales' r); cached as
    load_chorales (the cache holds the notes as written; do not mutate)."""
    path = palestrina_cache_path(cache_dir)
    if path in _MEMORY_CACHE:
        return _MEMORY_CACHE[path]
    if not path.exists():
        from generation.engine.palestrina import extract_palestrina  # music21: slow import, only when building

        _save_npz(path, extract_palestrina())
    pieces = [halve_note_values(p) for p in _pieces_from_npz(path)]
    _MEMORY_CACHE[path] = pieces
    return pieces


def halve_note_values(piece: Piece) -> Piece:
    """Palestrina is written with the half note as the beat (4/2, breves and semibreves); modern editions halve the
    note values, and so does this: 4/2 -> 4/4, a half note -> a quarter, so that its beat is the chorales' beat and
    the models' meter flags mean the same thing. Steps are paired; a note starting on either step of a pair starts
    on the new step."""
    rolls = piece.rolls[:, ::2]
    onsets = None if piece.onsets is None else (piece.onsets[:, ::2] | piece.onsets[:, 1::2]) & rolls
    num, den = piece.time_signature
    ts = (num, den * 2)
    return replace(piece, rolls=rolls, onsets=onsets, time_signature=ts,
                   steps_per_bar=steps_per_bar_of(ts, STEPS_PER_BEAT))


def _save_npz(path: Path, table: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **table)
        os.replace(tmp, path)  # atomic: concurrent builders never see half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pieces_from_npz(path: Path) -> list[Piece]:
    with np.load(path, allow_pickle=False) as z:
        t = {k: z[k] for k in z.files}
    bounds = np.searchsorted(t["note_piece"], np.arange(len(t["names"]) + 1))
    pieces = []
    for i, name in enumerate(t["names"].tolist()):
        lo, hi = bounds[i], bounds[i + 1]
        n_steps = int(t["n_steps"][i])
        rolls = np.zeros((N_TRACKS, n_steps, 128), dtype=bool)
        onsets = np.zeros_like(rolls)
        for track in range(N_TRACKS):
            sel = slice(lo, hi)
            mask = t["note_track"][sel] == track
            rolls[track], onsets[track] = notes_to_roll(
                t["note_pitch"][sel][mask], t["note_start"][sel][mask], t["note_end"][sel][mask], n_steps
            )
        number = int(t["numbers"][i])
        ts = (int(t["ts_num"][i]), int(t["ts_den"][i]))
        pieces.append(Piece(name=name, split=split_of_number(number), rolls=rolls, tempo_bpm=float(t["tempo"][i]),
                            time_signature=ts, steps_per_bar=steps_per_bar_of(ts, STEPS_PER_BEAT), onsets=onsets,
                            number=number))
    return pieces


# ---------------------------------------------------------------------------------------------------- user folders
def piece_from_midi(pm: pretty_midi.PrettyMIDI, name: str, split: Split) -> Piece | None:
    """The highest non-drum track (by mean pitch) first, then the next three; None when there is no note."""
    rolls = midi_to_rolls(pm)
    candidates = [i for i in range(rolls.tracks.shape[0]) if not rolls.is_drum[i] and rolls.tracks[i].any()]
    if not candidates:
        return None
    mean_pitch = {i: float(np.nonzero(rolls.tracks[i])[1].mean()) for i in candidates}
    chosen = sorted(candidates, key=lambda i: -mean_pitch[i])[:N_TRACKS]
    tracks = np.zeros((N_TRACKS, rolls.n_steps, 128), dtype=bool)
    onsets = np.zeros_like(tracks)
    tracks[: len(chosen)] = rolls.tracks[chosen]
    onsets[: len(chosen)] = rolls.onsets[chosen]
    return Piece(name=name, split=split, rolls=tracks, tempo_bpm=rolls.tempo_bpm,
                 time_signature=rolls.time_signature, steps_per_bar=rolls.steps_per_bar, onsets=onsets)


def load_midi_folder(path: str | Path) -> list[Piece]:
    """Every valid .mid/.midi file under ``path`` (recursively, sorted), split by a stable hash of its name."""
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError("not_a_folder", NOT_A_FOLDER_MESSAGE.format(path=folder))
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
    pieces, n_bad = [], 0
    for file in files:
        name = file.relative_to(folder).as_posix()
        try:
            piece = piece_from_midi(load_midi(file), name, split_of_name(name))
        except EngineError as exc:
            logger.warning("Skipping %s: %s", name, exc.message)
            piece = None
        if piece is None:
            n_bad += 1
        else:
            pieces.append(piece)
    if not pieces:
        raise DatasetError("no_usable_midi",
                           NO_USABLE_MIDI_MESSAGE.format(path=folder, n_files=len(files), n_bad=n_bad))
    return pieces
