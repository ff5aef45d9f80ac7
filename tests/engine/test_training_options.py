"""Users' training parameters (TRAIN_PARAMS, the Train page's) and the training loop's reports: every trainable model
exposes steps, learning rate, batch size, model size and seed with ranges and meanings; the loop reports the curves
as they come in and stops when a report raises (a Cancel); real short runs of each trainable model with parameters,
from scratch and fine-tuned from the shipped weights, give checkpoints the pipeline plays; ``manage.py train
--param`` is the same thing on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from django.core.management import call_command

from generation.engine import training
from generation.engine.errors import ParamError
from generation.engine.loading import load_checkpoint
from generation.engine.params import validate_train_params
from generation.engine.pipeline import generate
from generation.engine.registry import get_spec, trainable_names
from generation.engine.runs import train_model, train_options
from tests.engine.midi_factory import make_pm

pytestmark = pytest.mark.slow


def chorale_like(seed: int, bars: int = 12):
    """Four voices (soprano on top), quarter notes, in C major: something each model can learn from."""
    scale = [0, 2, 4, 5, 7, 9, 11]
    voices = []
    for offset, low in ((0, 67), (1, 60), (2, 52), (3, 43)):
        notes = []
        for beat in range(bars * 4):
            degree = (beat * (seed + 2) + offset * 3) % 7
            notes.append((low + scale[degree], beat, beat + 1))
        voices.append(notes)
    return make_pm(voices)


@pytest.fixture(scope="module")
def four_voice_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("four-voices")
    for i in range(8):
        chorale_like(i).write(str(folder / f"piece-{i}.mid"))
    return folder


def test_every_trainable_model_exposes_the_same_kinds_of_parameters():
    assert set(trainable_names()) == {"arcnn", "gan", "transformer"}
    for name in trainable_names():
        params = {p.name: p for p in get_spec(name).TRAIN_PARAMS}
        assert {"steps", "learning_rate", "batch_size", "model_size", "seed"} <= set(params)
        assert all(p.help for p in params.values())
        defaults = validate_train_params(get_spec(name).TRAIN_PARAMS, {}, model=name)
        assert defaults["steps"] >= 100
        assert 0 < defaults["learning_rate"] < 0.01


def test_model_size_only_from_scratch():
    with pytest.raises(ParamError, match="only when start is 'scratch'"):
        train_options("arcnn", {"model_size": 6})
    assert train_options("arcnn", {"model_size": 6, "start": "scratch"})["model_size"] == 6
    assert train_options("gan", {"model_size": 32})["model_size"] == 32  # the GAN always starts from scratch
    with pytest.raises(ParamError, match="between"):
        train_options("transformer", {"steps": 0})


def test_the_reproduce_command_carries_the_parameters():
    command = training.reproduce_command("arcnn", data="reels", steps=None,
                                         options={"steps": 20, "learning_rate": 0.0003, "model_size": None})
    assert command == "python manage.py train arcnn --data reels --param steps=20 --param learning_rate=0.0003"


def test_fit_reports_the_curves_and_a_raising_report_stops_it():
    model = torch.nn.Linear(2, 1)
    x, y = torch.randn(64, 2), torch.randn(64, 1)
    reports: list[tuple[int, dict]] = []
    config = training.TrainConfig(steps=30, eval_every=15, warmup_steps=2)
    training.fit(model, config=config, batch_loss=lambda step: torch.nn.functional.mse_loss(model(x), y),
                 validate=lambda: torch.nn.functional.mse_loss(model(x), y), progress=False,
                 on_metrics=lambda step, values: reports.append((step, values)))
    assert [s for s, v in reports if "train_loss" in v] == [10, 20, 30]
    assert [s for s, v in reports if "valid_loss" in v] == [15, 30]

    class StopError(Exception):
        pass

    def stop_at_20(step, values):
        if step >= 20:
            raise StopError

    with pytest.raises(StopError):
        training.fit(model, config=config, batch_loss=lambda step: torch.nn.functional.mse_loss(model(x), y),
                     progress=False, on_metrics=stop_at_20)


@pytest.mark.parametrize(("name", "params"), [
    ("arcnn", {"start": "scratch", "model_size": 4, "steps": 2, "batch_size": 2}),
    ("arcnn", {"start": "shipped", "steps": 2, "batch_size": 2}),
    ("gan", {"model_size": 16, "steps": 2, "batch_size": 2}),
    ("transformer", {"start": "scratch", "model_size": 32, "steps": 2, "batch_size": 2}),
    ("transformer", {"start": "shipped", "steps": 2, "batch_size": 2}),
])
def test_a_short_run_with_parameters_gives_a_model_the_pipeline_plays(name, params, four_voice_folder, tmp_path):
    reports: dict[str, list] = {}
    out = tmp_path / "out"
    metrics = train_model(name, data=four_voice_folder, out=out, params=params, progress=False,
                          on_metrics=lambda step, values: [reports.setdefault(k, []).append(step) for k in values])
    model, _meta = load_checkpoint(out, architecture=name)
    if params.get("start") == "shipped":  # fine-tuned: the shipped model's weights' shapes, its loss at step 0
        assert reports["valid_loss"][0] == 0
        shipped, _ = load_checkpoint(Path("generation/checkpoints") / name, architecture=name)
        assert {k: v.shape for k, v in model.state_dict().items()} == \
            {k: v.shape for k, v in shipped.state_dict().items()}
    if name == "gan":
        assert {"discriminator_loss", "generator_loss", "valid_loss", "alto in key rate",
                "train set: alto in key rate"} <= set(reports)
        assert reports["train set: alto in key rate"] == [0]
    else:
        assert reports["train_loss"]
        assert reports["valid_loss"][-1] == 2
    card = (out / "MODEL_CARD.md").read_text()
    assert f"--data {four_voice_folder}" in card
    assert "--param steps=2" in card
    assert "default checkpoint" not in card
    result = generate(name, chorale_like(99, bars=4), {"seed": 1}, model=model)
    assert result.midi.instruments
    assert sum(len(i.notes) for i in result.midi.instruments) > 0
    assert metrics


def test_manage_py_train_takes_parameters(four_voice_folder, tmp_path, capsys):
    out = tmp_path / "cli"
    call_command("train", "arcnn", "--data", str(four_voice_folder), "--param", "start=scratch", "--param",
                 "model_size=4", "--param", "batch_size=2", "--steps", "2", "--out", str(out), "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["metrics"]["steps"] == 2
    assert json.loads((out / "config.json").read_text())["config"]["base_channels"] == 4
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="only when start is 'scratch'"):
        call_command("train", "arcnn", "--data", str(four_voice_folder), "--param", "model_size=6", "--json")
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "param_conflict"
