"""The set-up every trainer shares (generation.engine.training): a user's options as the same recipe fields in every
model, the step budget, the device check, the output folder, the seeds, and the corpus with its split fallbacks."""

from __future__ import annotations

from itertools import count, islice

import numpy as np
import pytest
import torch

from generation.engine import training
from generation.engine.dataset import split_of_name
from generation.engine.errors import EngineError
from generation.engine.midi_io import midi_to_bytes
from generation.engine.models.arcnn import train as arcnn_train
from generation.engine.models.gan import train as gan_train
from generation.engine.models.transformer import train as transformer_train
from tests.engine.midi_factory import make_pm


def names_in(split: str, n: int) -> list[str]:
    """``n`` file names that load_midi_folder puts in ``split`` (a stable hash of the name)."""
    return list(islice((name for name in (f"piece{i}.mid" for i in count()) if split_of_name(name) == split), n))


def midi_folder(tmp_path, names: list[str]):
    folder = tmp_path / "my-midi"
    folder.mkdir()
    for i, name in enumerate(names):
        (folder / name).write_bytes(midi_to_bytes(make_pm([[(60 + (i + k) % 7, k, k + 1) for k in range(16)]])))
    return folder


def names(pieces) -> list[str]:
    return [p.name for p in pieces]


def test_a_folder_of_train_pieces_validates_and_tests_on_them(tmp_path):
    corpus = training.load_corpus(midi_folder(tmp_path, names_in("train", 3)))
    assert corpus.folder == "my-midi"
    assert len(corpus.train) == 3
    assert names(corpus.valid) == names(corpus.test) == names(corpus.train)


def test_a_folder_without_train_pieces_trains_on_its_valid_ones(tmp_path):
    valid, test = names_in("valid", 2), names_in("test", 1)
    corpus = training.load_corpus(midi_folder(tmp_path, valid + test))
    assert sorted(names(corpus.train)) == sorted(names(corpus.valid)) == sorted(valid)
    assert names(corpus.test) == test


def test_start_makes_the_folder_and_seeds_torch_and_numpy_from_the_recipe(tmp_path):
    data = midi_folder(tmp_path, names_in("train", 1))
    config = training.TrainConfig(seed=7)
    first = training.start(config=config, out=tmp_path / "run" / "out", data=data)
    draws = first.rng.random(3), torch.rand(3)
    second = training.start(config=config, out=tmp_path / "again", data=data)
    assert first.out == tmp_path / "run" / "out"
    assert first.out.is_dir()
    np.testing.assert_array_equal(draws[0], second.rng.random(3))
    assert torch.equal(draws[1], torch.rand(3))


def test_a_cuda_device_without_a_gpu_is_refused_before_anything_is_made(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(EngineError) as info:
        training.start(config=training.TrainConfig(), out=tmp_path / "out", data=None, device="cuda")
    assert info.value.code == "no_cuda"
    assert not (tmp_path / "out").exists()


def test_a_users_options_set_the_same_fields_in_every_models_recipe():
    options = {"steps": "40", "learning_rate": "0.002", "batch_size": 8, "seed": 3}
    expected = {"steps": 40, "lr": 0.002, "batch_size": 8, "seed": 3}
    assert training.options_recipe(options) == expected
    recipes = [arcnn_train.recipe_for_options(options, fine_tune=False)[1],
               arcnn_train.recipe_for_options(options, fine_tune=True)[1],
               gan_train.recipe_for_options(options)[1], transformer_train.recipe_for_options(options)[1]]
    for recipe in recipes:
        assert {field: getattr(recipe, field) for field in expected} == expected


def test_the_step_budget_is_at_least_one_step_and_none_keeps_the_recipes():
    assert training.with_steps(training.TrainConfig(steps=9), None).steps == 9
    assert training.with_steps(training.TrainConfig(steps=9), 0).steps == 1
    assert training.with_steps(gan_train.TrainConfig(), "12").steps == 12
