"""Transformer training: packing without padding, augmentation on the train split only, a tiny run lowers the loss
and writes every file (weights that pass the platform's checks, config, loss curve, card with the test NLL)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from generation.engine import events
from generation.engine.checkpoint import read_checkpoint
from generation.engine.loading import load_checkpoint
from generation.engine.midi_io import write_midi
from generation.engine.models.transformer import spec
from generation.engine.models.transformer.spec import TransformerConfig
from generation.engine.models.transformer.train import PackedStream, TokenPiece, TrainConfig, train
from generation.engine.pipeline import generate
from tests.engine.midi_factory import make_pm

TINY = TransformerConfig(context=32, d_model=32, n_layers=2, n_heads=4, dropout=0.0)


def _pieces(n: int) -> list[TokenPiece]:
    out = []
    for k in range(n):
        steps = np.arange(16)
        melody = (60 + (steps * (k + 2)) % 12, steps * 2, steps * 2 + 2)
        bass = (np.array([48, 43, 45, 43]), np.arange(4) * 8, np.arange(4) * 8 + 8)
        out.append(TokenPiece(f"p{k}", [melody, bass], seconds_per_step=0.15))
    return out


def test_packed_batches_have_no_padding_and_use_every_token():
    cfg = TrainConfig(single_voice_fraction=0.5)
    stream = PackedStream(_pieces(3), cfg, context=31, rng=np.random.default_rng(0))
    first, second = stream.batch(4), stream.batch(4)
    assert first.shape == second.shape == (4, 32)
    assert not (first == events.PAD).any()
    assert not (second == events.PAD).any()
    assert (first == events.START).any()  # pieces follow each other, each from its <S>
    assert stream.tokens_drawn == 2 * 4 * 32
    assert first.min() >= 0
    assert first.max() < events.VOCAB_SIZE


@pytest.mark.slow
def test_a_tiny_run_lowers_the_loss_and_writes_every_file(tmp_path):
    data = tmp_path / "tunes"
    data.mkdir()
    for k in range(6):
        melody = [(60 + (i * (k + 2)) % 12, i / 2, i / 2 + 0.5) for i in range(32)]
        write_midi(make_pm([melody, [(48, 4 * i, 4 * i + 4) for i in range(4)]]), data / f"tune-{k}.mid")
    out = tmp_path / "out"
    torch.set_num_threads(1)
    cfg = TrainConfig(steps=40, batch_size=8, lr=3e-3, warmup_steps=5, eval_every=20)
    metrics = train(data=data, steps=40, out=out, progress=False, model_config=TINY, train_config=cfg)
    for name in ("model.safetensors", "config.json", "loss.png", "MODEL_CARD.md"):
        assert (out / name).stat().st_size > 0, name
    info, meta = read_checkpoint(out, spec=spec)
    assert info.config == TINY
    assert meta["metrics"]["test_nll"] == metrics["test_nll"]
    curve = metrics["valid_curve"]
    assert [s for s, _ in curve] == [20, 40]
    assert curve[-1][1] < np.log(events.VOCAB_SIZE) - 1.0  # well below the uniform guess's 5.74 nats
    assert metrics["tokens_seen"] == 40 * 8 * (TINY.context + 1)
    card = (out / "MODEL_CARD.md").read_text()
    assert card.startswith("# Transformer trained on tunes\n")
    assert f"python manage.py train transformer --data {data} --steps 40" in card
    assert "test NLL" in card
    assert "0.968" in card
    # the trained model continues a melody through the one generation path
    model = load_checkpoint(out)[0]
    source = make_pm([[(60, 0, 1), (62, 1, 2), (64, 2, 4)]])
    result = generate("transformer", source, {"seed": 0, "extension_seconds": 3}, model=model)
    assert result.midi.get_end_time() == pytest.approx(source.get_end_time() + 3, abs=0.01)
    assert json.loads((out / "config.json").read_text())["architecture"] == "transformer"
