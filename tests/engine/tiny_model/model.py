"""The tiny test model's network (torch)."""

from __future__ import annotations

import torch
from torch import nn

from tests.engine.tiny_model.spec import TinyConfig, config_from_dict


class TinyNet(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.proj = nn.Linear(128, width)
        self.out = nn.Linear(width, 128, bias=False)
        self.register_buffer("trained_steps", torch.zeros((), dtype=torch.int64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (T, 128) -> (T, 128) logits of the next step
        return self.out(torch.tanh(self.proj(x)))


def build_model(config: TinyConfig | dict | None = None) -> TinyNet:
    if config is None:
        config = TinyConfig()
    elif isinstance(config, dict):
        config = config_from_dict(config)
    return TinyNet(config.width)
