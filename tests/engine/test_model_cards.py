"""Model cards say what was trained: a custom model's card is titled with its data folder, and its reproduce command
carries the data folder and the --steps that were given (issue: `--steps 20` was written as `--steps 8`)."""

from __future__ import annotations

import pytest

from generation.engine.midi_io import write_midi
from generation.engine.models.arcnn.spec import ARCNNConfig
from generation.engine.training import card_title, reproduce_command
from tests.engine.midi_factory import make_pm

TINY = ARCNNConfig(base_channels=4, levels=2, max_channels=8, window_steps=32)


def test_titles_and_commands():
    assert card_title("AR-CNN", data=None, default=True) == "AR-CNN default checkpoint"
    assert card_title("AR-CNN", data="/home/me/reels", default=False) == "AR-CNN trained on reels"
    assert reproduce_command("arcnn", data=None, steps=None) == "python manage.py train arcnn"
    assert reproduce_command("arcnn", data="reels", steps=20) == "python manage.py train arcnn --data reels --steps 20"


@pytest.mark.slow
def test_a_custom_arcnn_card_names_its_folder_and_the_steps_given(tmp_path):
    from generation.engine.models.arcnn.train import train

    data = tmp_path / "my-reels"
    data.mkdir()
    for k in range(4):
        melody = [(60 + (i * (k + 2)) % 12, i, i + 1) for i in range(32)]
        write_midi(make_pm([melody, [(48, 4 * i, 4 * i + 4) for i in range(8)]]), data / f"reel-{k}.mid")
    out = tmp_path / "out"
    metrics = train(data=data, steps=20, out=out, progress=False, model_config=TINY)
    card = (out / "MODEL_CARD.md").read_text()
    assert card.startswith("# AR-CNN trained on my-reels\n")
    assert "default checkpoint" not in card
    assert f"python manage.py train arcnn --data {data} --steps 20" in card
    assert metrics["pretrain_steps"] + metrics["steps"] == 20
    assert "20 in all" in card
    assert (out / "loss.png").stat().st_size > 0
