"""The realness discriminator: a small CNN that tells real chorales from generated and corrupted music (torch).

Input: fixed-length windows of the six feature planes of `discriminator_data.piece_features` (voice-split and pooled
rolls + onsets); output: one logit per window. A piece's realness is the mean calibrated probability over its
windows (`realness`). Calibration is temperature scaling: the `temperature` buffer is fitted on the validation split
after training and divides the logits. Same code on CPU and GPU.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from generation.engine.models.discriminator.data import LEGACY_PITCHES, TRANSPOSITIONS, piece_windows
from generation.engine.models.discriminator.spec import (
    N_FEATURE_CHANNELS,
    DiscriminatorConfig,
    config_from_dict,
)


class Discriminator(nn.Module):
    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        self.config = config
        c, k = config.channels, config.pitch_kernel
        self.conv1 = nn.Conv2d(N_FEATURE_CHANNELS, c, (3, k), stride=(1, 2), padding=(1, k // 2))
        self.conv2 = nn.Conv2d(c, 2 * c, (3, 7), stride=(2, 2), padding=(1, 3))
        self.conv3 = nn.Conv2d(2 * c, 4 * c, (3, 5), stride=(2, 2), padding=(1, 2))
        self.time_conv = nn.Conv1d(8 * c, 4 * c, 3, padding=1)
        self.dropout = nn.Dropout(config.dropout_pct / 100)
        self.head = nn.Linear(8 * c, 1)
        self.register_buffer("temperature", torch.ones(1))  # fitted after training (temperature scaling)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 6, W, P) float (P = config.n_pitches) -> uncalibrated logits (B,)."""
        x = functional.gelu(self.conv1(x))  # (B, c, W, P/2)
        x = functional.gelu(self.conv2(x))  # (B, 2c, W/2, P/4)
        x = functional.gelu(self.conv3(x))  # (B, 4c, W/4, P/8)
        x = torch.cat([x.amax(dim=3), x.mean(dim=3)], dim=1)  # pool the pitch axis: (B, 8c, W/4)
        x = functional.gelu(self.time_conv(x))  # (B, 4c, W/4)
        x = torch.cat([x.amax(dim=2), x.mean(dim=2)], dim=1)  # pool the time axis: (B, 8c)
        return self.head(self.dropout(x)).squeeze(1)  # (B,)

    def calibrated_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self(x) / self.temperature


def build_model(config: DiscriminatorConfig | dict | None = None) -> Discriminator:
    if config is None:
        config = DiscriminatorConfig()
    elif isinstance(config, dict):
        config = config_from_dict(config)
    return Discriminator(config)


@torch.no_grad()
def window_probabilities(model: Discriminator, windows: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """(N, 6, W, P) feature windows -> calibrated probabilities (N,)."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(windows), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(windows[i : i + batch_size], dtype=np.float32)).to(device)
        out.append(torch.sigmoid(model.calibrated_logits(x)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def realness_by_window(model: Discriminator, tracks: np.ndarray, onsets: np.ndarray | None = None) -> np.ndarray:
    """Calibrated probability of each of the piece's windows (in the order data.feature_windows makes them); a legacy
    model's windows are each the mean over one period of transpositions (data.TRANSPOSITIONS)."""
    cfg = model.config
    windows = piece_windows(tracks, onsets, cfg.window_steps, cfg.hop_steps, n_pitches=cfg.n_pitches)
    probs = window_probabilities(model, windows)
    if cfg.n_pitches >= LEGACY_PITCHES:
        probs = probs.reshape(len(TRANSPOSITIONS), -1).mean(axis=0)
    return probs


def realness(model: Discriminator, tracks: np.ndarray, onsets: np.ndarray | None = None) -> float:
    """Probability, in [0, 1], that (n_tracks, T, 128) pitched tracks are real music of the reference style: the mean
    over the piece's windows."""
    return float(realness_by_window(model, tracks, onsets).mean())
