"""A tiny architecture registered by tests (a few hundred parameters): exercises the registry, checkpoints and the
generate/train commands without depending on the real models. Torch is imported only inside functions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from generation.engine.dataset import load_midi_folder
from generation.engine.errors import CheckpointError
from generation.engine.registry import Architecture
from generation.engine.representation import midi_to_rolls, replace_tracks, rolls_to_midi

NAME = "tiny"


@dataclass(frozen=True)
class TinyConfig:
    width: int = 4  # hidden units: tiny on purpose


CONFIG_BOUNDS = {"width": (1, 64)}


def config_from_dict(raw: dict) -> TinyConfig:
    unknown = sorted(set(raw) - {f.name for f in fields(TinyConfig)})
    if unknown:
        raise CheckpointError("bad_config", f"tiny config has unknown field(s): {', '.join(unknown)}")
    values = {**asdict(TinyConfig()), **raw}
    for name, (low, high) in CONFIG_BOUNDS.items():
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise CheckpointError("bad_config", f"tiny config field {name} must be in {low}..{high}, found {value!r}")
    return TinyConfig(**values)


def tensor_specs(config: TinyConfig) -> dict[str, tuple[tuple[int, ...], str]]:
    return {
        "proj.weight": ((config.width, 128), "float32"),
        "proj.bias": ((config.width,), "float32"),
        "out.weight": ((128, config.width), "float32"),
        "trained_steps": ((), "int64"),
    }


def build_model(config: TinyConfig | dict):
    import torch
    from torch import nn

    if isinstance(config, dict):
        config = config_from_dict(config)

    class TinyNet(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.proj = nn.Linear(128, width)
            self.out = nn.Linear(width, 128, bias=False)
            self.register_buffer("trained_steps", torch.zeros((), dtype=torch.int64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (T, 128) -> (T, 128) logits of the next step
            return self.out(torch.tanh(self.proj(x)))

    return TinyNet(config.width)


def generate(model, pm, params: dict, seed: int | None):
    """Adds one note per bar to the first track: the model's likeliest pitch, with seeded Gumbel noise."""
    import torch

    rolls = midi_to_rolls(pm)
    rng = np.random.default_rng(seed)
    tracks, onsets = rolls.tracks.copy(), rolls.onsets.copy()
    with torch.no_grad():
        logits = model(torch.from_numpy(tracks[0].astype(np.float32))).numpy()
    temperature = float(params.get("temperature", 1.0))
    for step in range(0, rolls.n_steps, rolls.steps_per_bar):
        pitch = int(np.argmax(logits[step] / temperature + rng.gumbel(size=128)))
        tracks[0, step, pitch] = onsets[0, step, pitch] = True
    return rolls_to_midi(replace_tracks(rolls, tracks, onsets))


def train(data_dir: Path | None, steps: int | None, out_dir: Path, device: str) -> dict:
    import torch

    from generation.engine.checkpoint import save_checkpoint

    torch.manual_seed(0)
    pieces = load_midi_folder(data_dir) if data_dir else []
    model = build_model(TinyConfig()).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    rolls = [torch.from_numpy(p.rolls[0].astype(np.float32)) for p in pieces] or [torch.zeros(16, 128)]
    losses = []
    for step in range(steps or 5):
        roll = rolls[step % len(rolls)].to(device)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(roll[:-1]), roll[1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.trained_steps.fill_(len(losses))
    metrics = {"loss": losses[-1], "steps": len(losses), "pieces": len(pieces)}
    save_checkpoint(model, architecture=NAME, config=asdict(TinyConfig()), out_dir=out_dir,
                    trained_on=str(data_dir), metrics=metrics)
    return metrics


ARCHITECTURE = Architecture(
    name=NAME, config_from_dict=config_from_dict, tensor_specs=tensor_specs, build_model=build_model, train=train,
    generate=generate, default_checkpoint_dir=None, description="test architecture",
)
