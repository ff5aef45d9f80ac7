"""The tiny test model's training: next-step prediction on the first track, a few SGD steps."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from generation.engine.checkpoint import save_checkpoint
from generation.engine.dataset import load_midi_folder
from tests.engine.tiny_model import spec
from tests.engine.tiny_model.model import build_model


def train(*, data: Path | None = None, steps: int | None = None, out: Path, device: str = "cpu",
          progress: bool = True, on_progress=None) -> dict:
    torch.manual_seed(0)
    pieces = load_midi_folder(data) if data else []
    model = build_model(spec.TinyConfig()).to(device)
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
        if on_progress is not None:
            on_progress(step + 1, steps or 5)
    model.trained_steps.fill_(len(losses))
    metrics = {"loss": losses[-1], "steps": len(losses), "pieces": len(pieces)}
    save_checkpoint(model, spec=spec, config=asdict(spec.TinyConfig()), out=out, trained_on=str(data),
                    metrics=metrics)
    return metrics
