import shutil

import numpy as np
import pytest

from generation.engine import chorales, dataset
from generation.engine.dataset import (
    DATA_VERSION,
    augment_transpositions,
    load_chorales,
    load_midi_folder,
    pieces_split,
    split_of_name,
    split_of_number,
    transpose,
    windows,
)
from generation.engine.errors import DatasetError
from generation.engine.midi_io import midi_to_bytes
from tests.engine.midi_factory import make_pm


@pytest.mark.parametrize(
    ("r", "split"),
    [(1, "valid"), (2, "train"), (9, "train"), (10, "test"), (11, "valid"), (370, "test"), (371, "valid")],
)
def test_split_rule(r, split):
    assert split_of_number(r) == split


@pytest.fixture(scope="module")
def all_chorales():
    return load_chorales()  # built once into var/datasets (about 20 s), then read from the cache


def test_chorales_counts_per_split_and_shapes(all_chorales):
    assert len(all_chorales) == 371
    assert [p.number for p in all_chorales] == list(range(1, 372))
    counts = {s: len(pieces_split(all_chorales, s)) for s in ("train", "valid", "test")}
    assert counts == {"train": 296, "valid": 38, "test": 37}
    for piece in all_chorales:
        assert piece.split == split_of_number(piece.number)
        assert piece.rolls.dtype == bool
        assert piece.rolls.shape[0] == 4
        assert piece.rolls.shape[2] == 128
        assert piece.rolls.shape[1] % piece.steps_per_bar == 0
        assert piece.onsets.shape == piece.rolls.shape
        assert all(piece.rolls[t].any() for t in range(4))
    mean_pitch = [np.mean([np.nonzero(p.rolls[t])[1].mean() for p in all_chorales]) for t in range(4)]
    assert mean_pitch == sorted(mean_pitch, reverse=True)  # soprano > alto > tenor > bass


def test_a_chorale_converts_to_midi_with_four_voices(all_chorales):
    piece = all_chorales[0]
    pm = piece.to_midi()
    assert [i.name for i in pm.instruments] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert sum(len(i.notes) for i in pm.instruments) == int(piece.onsets.sum())


@pytest.mark.slow  # the version bump re-reads all 371 chorales with music21 (about 20 s)
def test_cache_is_reused_and_a_version_bump_rebuilds(all_chorales, tmp_path, monkeypatch):
    calls = []
    real_extract = chorales.extract_chorales
    monkeypatch.setattr(chorales, "extract_chorales", lambda: calls.append(1) or real_extract())
    shutil.copy(dataset.chorales_cache_path(), tmp_path / f"chorales-v{DATA_VERSION}.npz")
    cached = load_chorales(tmp_path)  # its time: benchmarks/engine_io.py
    assert calls == []
    assert [p.name for p in cached] == [p.name for p in all_chorales]
    assert load_chorales(tmp_path) is cached  # in-process cache

    monkeypatch.setattr(dataset, "DATA_VERSION", DATA_VERSION + 1)
    rebuilt = load_chorales(tmp_path)
    assert calls == [1]
    assert (tmp_path / f"chorales-v{DATA_VERSION + 1}.npz").exists()
    assert all(np.array_equal(a.rolls, b.rolls) for a, b in zip(rebuilt, all_chorales, strict=True))


def test_user_folder_tracks_highest_first_and_split_by_name(tmp_path):
    bass = [(36, 0, 2), (38, 2, 4)]
    melody = [(72, 0, 1), (74, 1, 2), (76, 2, 4)]
    middle = [(60, 0, 4)]
    drums = [(42, 0, 0.5)]
    (tmp_path / "sub").mkdir()
    files = {
        "song_a.mid": make_pm([bass, drums, melody, middle], drum_tracks=[1], tempo=96.0),
        "song_b.MID": make_pm([middle], time_signature=(6, 8)),
        "sub/song_c.midi": make_pm([melody, bass]),
    }
    for name, pm in files.items():
        (tmp_path / name).write_bytes(midi_to_bytes(pm))
    (tmp_path / "broken.mid").write_bytes(b"MThd not really")
    (tmp_path / "notes.txt").write_text("ignored")

    pieces = {p.name: p for p in load_midi_folder(tmp_path)}
    assert sorted(pieces) == sorted(files)
    a = pieces["song_a.mid"]
    assert a.rolls.shape == (4, 16, 128)
    assert [int(np.nonzero(a.rolls[t])[1].max()) for t in range(3)] == [76, 60, 38]  # melody, middle, bass
    assert not a.rolls[3].any()  # the drum track is never a voice
    assert a.tempo_bpm == pytest.approx(96.0)
    assert pieces["song_b.MID"].steps_per_bar == 12
    for name, piece in pieces.items():
        assert piece.split == split_of_name(name)
    assert split_of_name("song_a.mid") == split_of_name("song_a.mid")


def test_user_folder_without_usable_midi_is_refused(tmp_path):
    (tmp_path / "bad.mid").write_bytes(b"nope")
    with pytest.raises(DatasetError) as info:
        load_midi_folder(tmp_path)
    assert info.value.code == "no_usable_midi"
    with pytest.raises(DatasetError) as info:
        load_midi_folder(tmp_path / "missing")
    assert info.value.code == "not_a_folder"


def test_split_of_name_spreads_files_over_all_splits():
    splits = [split_of_name(f"file{i}.mid") for i in range(1000)]
    assert 60 < splits.count("test") < 140
    assert 60 < splits.count("valid") < 140


def test_windows_and_transpose():
    roll = np.zeros((40, 128), dtype=bool)
    roll[np.arange(40), 60 + np.arange(40) % 12] = True
    w = windows(roll, 16, 8)
    assert w.shape == (4, 16, 128)
    assert np.array_equal(w[1], roll[8:24])
    short = windows(roll[:10], 16, 8)
    assert short.shape == (1, 16, 128)
    assert not short[0, 10:].any()
    up = transpose(roll, 3)
    assert np.array_equal(np.nonzero(up)[1], np.nonzero(roll)[1] + 3)
    edge = np.zeros((1, 128), dtype=bool)
    edge[0, 126] = True
    assert not transpose(edge, 2).any()
    assert np.array_equal(transpose(transpose(roll, -5), 5), roll)


def test_augmentation_is_for_the_train_split_only(all_chorales):
    train = pieces_split(all_chorales, "train")[:2]
    augmented = augment_transpositions(train, shifts=[-2, 0, 3])
    assert len(augmented) == 6
    assert np.array_equal(augmented[1].rolls, train[0].rolls)
    assert np.array_equal(augmented[2].rolls, transpose(train[0].rolls, 3))
    with pytest.raises(DatasetError):
        augment_transpositions(pieces_split(all_chorales, "test")[:1])
