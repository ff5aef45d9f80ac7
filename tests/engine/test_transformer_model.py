"""Transformer model: shapes, the key/value cache gives the same logits as a full pass, config checks, tokenizing."""

import numpy as np
import pytest
import torch

from generation.engine import events
from generation.engine.errors import CheckpointError
from generation.engine.models.transformer.model import Transformer, build_model
from generation.engine.models.transformer.spec import (
    TransformerConfig,
    config_from_dict,
    config_to_dict,
    n_parameters,
)
from generation.engine.models.transformer.train import TokenPiece, eval_windows, nll_per_token, piece_tokens

TINY = TransformerConfig(context=32, d_model=32, n_layers=2, n_heads=4, dropout=0.0)


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return Transformer(TINY).eval()


def test_shapes_and_parameters(tiny_model):
    tokens = torch.randint(0, events.VOCAB_SIZE, (3, 20))
    assert tiny_model(tokens).shape == (3, 20, events.VOCAB_SIZE)
    cache = tiny_model.new_cache(batch=3)
    tiny_model(tokens, cache=cache)
    assert cache.length == 20
    assert cache.keys.shape == (TINY.n_layers, 3, TINY.n_heads, TINY.context, TINY.d_model // TINY.n_heads)
    assert n_parameters(TINY) == sum(p.numel() for p in tiny_model.parameters())
    loss = tiny_model.loss(torch.randint(0, events.VOCAB_SIZE, (2, 17)))
    assert loss.ndim == 0
    assert abs(loss.item() - np.log(events.VOCAB_SIZE)) < 0.5  # untrained: near uniform


def test_cached_logits_equal_the_full_pass(tiny_model):
    torch.manual_seed(1)
    tokens = torch.randint(0, events.VOCAB_SIZE, (2, 30))
    full = tiny_model(tokens)
    # a prompt of 10, then one token at a time
    cache = tiny_model.new_cache(batch=2)
    steps = [tiny_model(tokens[:, :10], cache=cache)]
    steps += [tiny_model(tokens[:, t:t + 1], cache=cache) for t in range(10, 30)]
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-4)
    # several new tokens at once after a cache (the mask covers cached + new)
    cache = tiny_model.new_cache(batch=2)
    tiny_model(tokens[:, :12], cache=cache)
    assert torch.allclose(tiny_model(tokens[:, 12:30], cache=cache), full[:, 12:30], atol=1e-4)
    with pytest.raises(ValueError, match="overflow"):
        tiny_model(tokens, cache=cache)


def test_the_full_cache_is_a_sliding_window(tiny_model):
    """Past `context` tokens the ring keeps the last `context` keys; for a one-layer model (keys depend on their
    token alone) that is exactly the full pass over the last `context` tokens."""
    torch.manual_seed(2)
    one_layer = Transformer(TransformerConfig(context=8, d_model=32, n_layers=1, n_heads=4, dropout=0.0)).eval()
    tokens = torch.randint(0, events.VOCAB_SIZE, (1, 30))
    cache = one_layer.new_cache()
    one_layer(tokens[:, :8], cache=cache)
    for t in range(8, 30):
        stepped = one_layer(tokens[:, t:t + 1], cache=cache)[0, -1]
        window = one_layer(tokens[:, t - 7:t + 1], start=t - 7)[0, -1]
        assert torch.allclose(stepped, window, atol=1e-4), t
    # rotary attention depends on distances only: the same window from position 0 scores the same
    assert torch.allclose(one_layer(tokens[:, :8]), one_layer(tokens[:, :8], start=500), atol=1e-4)


def test_config_checks():
    assert config_from_dict(config_to_dict(TINY)) == TINY
    assert isinstance(build_model({"d_model": 32, "n_heads": 4, "n_layers": 1}), Transformer)
    for bad in ({"d_model": 30, "n_heads": 4}, {"d_model": 12, "n_heads": 4}, {"vocab_size": 311},
                {"context": 10**6}, {"dropout": 2.0}, {"heads": 2}):
        with pytest.raises(CheckpointError):
            config_from_dict(bad)


def test_piece_tokens_augment_and_decode_back():
    notes = (np.array([60, 64, 67]), np.array([0, 0, 4]), np.array([4, 4, 8]))  # steps
    piece = TokenPiece("p", [notes, (np.array([48]), np.array([0]), np.array([8]))], seconds_per_step=0.15)
    merged = piece_tokens(piece)
    assert merged[0] == events.START
    decoded = events.decode(merged).instruments[0].notes
    assert sorted((n.pitch, round(n.start, 2), round(n.end, 2)) for n in decoded) == [
        (48, 0.0, 1.2), (60, 0.0, 0.6), (64, 0.0, 0.6), (67, 0.6, 1.2)]
    up = events.decode(piece_tokens(piece, voice=0, shift=3, stretch=1.05)).instruments[0].notes
    assert sorted(n.pitch for n in up) == [63, 67, 70]
    assert max(n.end for n in up) == pytest.approx(1.26, abs=0.01)


def test_eval_windows_score_every_token_once(tiny_model):
    streams = [list(range(2, 2 + n)) for n in (5, 32, 33, 80)]
    inputs, targets = eval_windows(streams, context=32, stride=16)
    assert inputs.shape[1] == targets.shape[1] == 32
    assert int((targets != -100).sum()) == sum(n - 1 for n in (5, 32, 33, 80))
    assert np.isfinite(nll_per_token(tiny_model, (inputs, targets), "cpu"))
