"""The discriminator: layout, features, the shipped checkpoint's separation of real and corrupted music, training."""

from __future__ import annotations

import json

import numpy as np
import pytest

from generation.engine.dataset import load_chorales, pieces_split
from generation.engine.errors import CheckpointError
from generation.engine.loading import CHECKPOINTS_DIR
from generation.engine.models.discriminator.data import FAMILIES, piece_features
from generation.engine.models.discriminator.spec import DiscriminatorConfig, config_from_dict, tensor_specs
from generation.engine.recombined_music import CORPUS, DERIVED
from generation.engine.trivial_music import DERIVED_FAMILIES, SCRATCH_FAMILIES


def test_tensor_specs_match_the_model():
    from generation.engine.models.discriminator.model import build_model

    for config in (DiscriminatorConfig(), DiscriminatorConfig(channels=8, pitch_kernel=7)):
        state = build_model(config).state_dict()
        found = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in state.items()}
        assert found == tensor_specs(config)


@pytest.mark.parametrize("raw", [{"channels": 1000}, {"pitch_kernel": 12}, {"window_steps": "64"}, {"bogus": 1}])
def test_bad_configs_are_refused(raw):
    with pytest.raises(CheckpointError):
        config_from_dict(raw)


def test_features_do_not_depend_on_the_track_layout():
    piece = pieces_split(load_chorales(), "test")[0]
    merged_tracks = piece.rolls.any(axis=0, keepdims=True)
    merged_onsets = piece.onsets.any(axis=0, keepdims=True)
    assert np.array_equal(piece_features(piece.rolls, piece.onsets), piece_features(merged_tracks, merged_onsets))


def test_shipped_model_card_reports_each_family():
    meta = json.loads((CHECKPOINTS_DIR / "discriminator" / "config.json").read_text())
    families = {*FAMILIES, *SCRATCH_FAMILIES, *DERIVED_FAMILIES, *DERIVED, *CORPUS}
    assert families <= set(meta["metrics"]["auc"])
    assert not set(meta["metrics"]["auc"]) & {"gan", "arcnn", "transformer"}  # no model's output is a negative
    card = (CHECKPOINTS_DIR / "discriminator" / "MODEL_CARD.md").read_text()
    assert all(family in card for family in families)
    assert "ROC AUC" in card


@pytest.mark.slow
def test_real_chorales_score_above_their_corruptions():
    """On a small sample of test chorales: real above every family on average, and each family's AUC above chance."""

    from evaluation.realness import load_model
    from generation.engine.models.discriminator.model import realness
    from generation.engine.models.discriminator.train import family_corruptors, roc_auc

    model = load_model()
    rng = np.random.default_rng(0)
    sample = pieces_split(load_chorales(), "test")[:10]
    real = np.array([realness(model, p.rolls, p.onsets) for p in sample])
    for family, corrupt in family_corruptors().items():
        fake = np.array([realness(model, *corrupt(p, rng)) for p in sample])
        assert real.mean() > fake.mean(), family
        assert roc_auc(real, fake) > 0.5, family


TINY_ARCNN = {"base_channels": 4, "levels": 2, "max_channels": 8, "convs_per_level": 1, "window_steps": 64}


@pytest.mark.slow
def test_training_writes_a_loadable_checkpoint(tmp_path):
    from generation.engine.loading import load_checkpoint
    from generation.engine.models.discriminator.train import train

    metrics = train(steps=3, out=tmp_path, progress=False, max_eval_pieces=3,
                    model_config=DiscriminatorConfig(channels=4, pitch_kernel=5))
    assert {p.name for p in tmp_path.iterdir()} >= {"model.safetensors", "config.json", "MODEL_CARD.md", "loss.png"}
    meta = json.loads((tmp_path / "config.json").read_text())
    assert meta["architecture"] == "discriminator"
    assert meta["metrics"] == json.loads(json.dumps(metrics))
    assert set(FAMILIES) <= set(meta["metrics"]["auc"])
    assert meta["metrics"]["temperature"] > 0
    model, _meta = load_checkpoint(tmp_path, architecture="discriminator")
    assert model.config.channels == 4


@pytest.mark.slow
def test_a_generator_family_runs_the_model_on_the_melody_through_the_pipeline():
    """A generated family is a generator's output on the real excerpt's melody (its highest voice), made by the one
    generation path and read back on the sounded grid at the excerpt's length."""
    import torch

    from generation.engine.loading import build_model
    from generation.engine.negatives import generator_family

    torch.manual_seed(0)
    corrupt = generator_family("arcnn", build_model("arcnn", TINY_ARCNN).eval())
    piece = pieces_split(load_chorales(), "test")[0]
    tracks, onsets = corrupt(piece, np.random.default_rng(0))
    assert tracks.shape[1:] == piece.rolls.shape[1:]
    assert not (onsets & ~tracks).any()
    pooled = tracks.any(axis=0)
    assert not np.array_equal(pooled, piece.rolls.any(axis=0))  # not the chorale: its melody, edited
    assert (pooled & piece.rolls[0]).sum() > 0  # the melody is where it was


@pytest.mark.slow
def test_a_continuation_family_prompts_with_the_first_half_and_keeps_the_second_half_generated():
    """A model that continues is prompted with the melody's first half and writes the rest: the family's second half
    is the model's, not the real melody (which would teach the discriminator that real music is fake)."""
    import torch

    from generation.engine.loading import build_model
    from generation.engine.negatives import generator_family

    torch.manual_seed(0)
    model = build_model("transformer", {"d_model": 32, "n_layers": 1, "n_heads": 2, "context": 64}).eval()
    piece = pieces_split(load_chorales(), "test")[0]
    n_steps = piece.rolls.shape[1]
    tracks, onsets = generator_family("transformer", model)(piece, np.random.default_rng(0))
    assert tracks.shape[1:] == piece.rolls.shape[1:]
    assert not (onsets & ~tracks).any()
    pooled, real = tracks.any(axis=0), piece.rolls[0]
    half = n_steps // 2
    first = (pooled[: half - 8] & real[: half - 8]).sum() / max(1, real[: half - 8].sum())
    second = (pooled[half + 8 :] & real[half + 8 :]).sum() / max(1, real[half + 8 :].sum())
    assert first > 0.9  # the prompt: the real melody
    assert second < 0.5  # the continuation: the model's own
    assert pooled[half + 8 :].any()


@pytest.mark.slow
def test_remeasure_updates_the_card_and_keeps_the_weights(tmp_path):
    """Re-measuring (no training) adds the figures of the generated families passed in; the weights stay."""
    import torch

    from generation.engine.loading import build_model
    from generation.engine.models.discriminator.measure import remeasure
    from generation.engine.models.discriminator.train import train
    from generation.engine.negatives import generator_family

    train(steps=3, out=tmp_path, progress=False, max_eval_pieces=2,
          model_config=DiscriminatorConfig(channels=4, pitch_kernel=5))
    weights = (tmp_path / "model.safetensors").read_bytes()
    assert "arcnn" not in json.loads((tmp_path / "config.json").read_text())["metrics"]["auc"]
    torch.manual_seed(0)
    generated = {"arcnn": generator_family("arcnn", build_model("arcnn", TINY_ARCNN).eval())}
    made_by = {"arcnn": "a tiny untrained AR-CNN (test)"}
    test = pieces_split(load_chorales(), "test")[:2]
    metrics = remeasure(tmp_path, test=test, generated=generated, generated_from=made_by)
    assert (tmp_path / "model.safetensors").read_bytes() == weights
    meta = json.loads((tmp_path / "config.json").read_text())
    assert meta["metrics"] == json.loads(json.dumps(metrics))
    assert set(meta["metrics"]["auc"]) == {*FAMILIES, *SCRATCH_FAMILIES, *DERIVED_FAMILIES, *DERIVED, *CORPUS, "arcnn"}
    assert 0.0 <= meta["metrics"]["auc"]["arcnn"] <= 1.0
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "a tiny untrained AR-CNN (test) (training saw none of it)" in card
    assert "python -m generation.engine.negatives --remeasure" in card


def test_transposed_windows_equal_the_features_of_transposed_music():
    """Realness reads each window in 8 transpositions by shifting the feature planes once computed: the same as
    computing the features of the transposed music (voices are split by pitch order, which transposing keeps)."""
    from generation.engine.dataset import transpose
    from generation.engine.models.discriminator.data import TRANSPOSITIONS, feature_windows, piece_windows

    piece = pieces_split(load_chorales(), "test")[0]
    fast = piece_windows(piece.rolls, piece.onsets, 64, 32)
    slow = np.concatenate([feature_windows(piece_features(transpose(piece.rolls, s), transpose(piece.onsets, s)),
                                           64, 32) for s in TRANSPOSITIONS])  # fmt: skip
    assert np.array_equal(fast, slow)
