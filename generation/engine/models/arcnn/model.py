"""AR-CNN: a U-Net that looks at a piano roll (one voice, or several merged) and says which cells are wrong.

DeepComposer's AR-CNN (reference: aws-deepcomposer-samples/ar-cnn) is trained on corrupted rolls: some of the notes of
a real roll are removed and a few random cells are added; the target is the set of cells that differ (XOR), and the
loss is KL(target / sum || softmax over the roll). At inference, the sampler (arcnn_sampler.py) flips one sampled
cell per iteration, so the roll walks back towards something that looks like Bach.

Differences from the reference, each for a reason:
- the softmax spans one sample's roll, not the whole batch (the reference's spans the batch, which mixes samples);
- a narrow U-Net (8 channels at full resolution, ~1.3 M parameters instead of ~31 M, no BatchNorm) so that it
  trains in half an hour and 100 iterations on 8 bars take well under a second on 2 CPU cores;
- an extra input plane with each row's pitch, so the net can tell far-off random cells from the melody's register;
- fully convolutional over time: a 32-bar roll is one forward pass.

Shapes: B batch, T time steps (a multiple of 2**levels), P = 128 pitches. Rolls are (B, T, P); the network sees them
as images (B, C, T, P).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from generation.engine.models.arcnn.spec import ARCNNConfig, in_channels, level_channels

__all__ = ["ARCNN", "ARCNNConfig", "arcnn_loss", "make_training_pairs"]


class ConvBlock(nn.Sequential):
    """(3x3 conv [-> BatchNorm] -> ReLU) x n. Shapes (B, c_in, H, W) -> (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, n_convs: int, batch_norm: bool) -> None:
        layers: list[nn.Module] = []
        for i in range(n_convs):
            layers.append(nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ARCNN(nn.Module):
    def __init__(self, config: ARCNNConfig) -> None:
        super().__init__()
        self.config = config
        channels = level_channels(config)  # e.g. [8, 16, 32, 64, 128, 128]
        n, bn = config.convs_per_level, config.batch_norm
        self.down = nn.ModuleList(
            ConvBlock(in_channels(config) if level == 0 else channels[level - 1], c, n, bn)
            for level, c in enumerate(channels)
        )
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(channels[level + 1], channels[level], 2, stride=2) for level in range(config.levels)
        )
        self.dec = nn.ModuleList(
            ConvBlock(2 * channels[level], channels[level], n, bn) for level in range(config.levels)
        )
        self.head = nn.Conv2d(channels[0], 1, 1)

    def forward(self, rolls: torch.Tensor) -> torch.Tensor:
        """rolls (B, T, P) float or bool, T a multiple of 2**levels -> logits (B, T, P), one per cell."""
        x = rolls.float().unsqueeze(1)  # (B, 1, T, P)
        if self.config.pitch_channel:
            n_pitches = x.shape[-1]
            pitch = torch.linspace(-1.0, 1.0, n_pitches, device=x.device).expand_as(x)  # (B, 1, T, P)
            x = torch.cat([x, pitch], dim=1)  # (B, 2, T, P)
        skips = []
        for level, block in enumerate(self.down):
            if level > 0:
                x = F.max_pool2d(x, 2)  # (B, c, T / 2**level, P / 2**level)
            x = block(x)
            skips.append(x)
        for level in reversed(range(self.config.levels)):
            x = self.up[level](x)  # (B, c_level, T / 2**level, P / 2**level)
            x = self.dec[level](torch.cat([x, skips[level]], dim=1))
        return self.head(x).squeeze(1)  # (B, T, P)


def arcnn_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over samples of KL(target / sum(target) || softmax(logits)), each softmax over ONE sample's whole roll.

    logits (B, T, P); target (B, T, P) 0/1 (the cells to flip). A sample with an empty target contributes 0.
    KL = sum_i p_i (log p_i - log q_i), with 0 log 0 = 0.
    """
    batch = logits.shape[0]
    log_q = F.log_softmax(logits.reshape(batch, -1).float(), dim=1)  # (B, T*P)
    t = target.reshape(batch, -1).float()
    counts = t.sum(dim=1, keepdim=True)  # (B, 1)
    p = t / counts.clamp(min=1.0)
    log_p = torch.log(p.clamp(min=1e-30))
    per_sample = (p * (log_p - log_q)).sum(dim=1)  # (B,)
    return per_sample.mean()


def _choose_cells(candidates: torch.Tensor, fraction: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Pick exactly n - floor(n * (1 - fraction)) random cells among the n `candidates` of each sample (the reference
    leaves floor(n * (1 - fraction)) unchosen). candidates (B, N) bool; fraction (B,) in [0, 1] -> chosen (B, N) bool.
    """
    scores = torch.rand(candidates.shape, generator=generator, device=candidates.device)
    scores = scores.masked_fill(~candidates, 2.0)  # non-candidates sort last
    counts = candidates.sum(dim=1)
    n_chosen = counts - torch.floor(counts * (1.0 - fraction) + 1e-6).long()  # (B,)
    ordered = scores.sort(dim=1).values
    threshold = ordered.gather(1, (n_chosen - 1).clamp(min=0).unsqueeze(1))  # (B, 1): the n_chosen-th lowest score
    return candidates & (scores <= threshold) & (n_chosen > 0).unsqueeze(1)


def make_training_pairs(
    rolls: torch.Tensor,
    *,
    remove_pct: tuple[float, float] = (0.0, 100.0),
    add_pct: tuple[float, float] = (1.0, 1.5),
    generator: torch.Generator | None = None,
    span_rows: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt clean rolls the way the reference does; return (corrupted, target) with target = corrupted XOR clean.

    rolls (B, T, P) bool. Per sample: remove an integer percentage, uniform in remove_pct, of the note cells; add a
    percentage, uniform in add_pct, of the empty cells at random. Both (B, T, P) bool. span_rows (B,) bool, optional:
    those samples add a percentage of the empty cells between their lowest and highest sounding pitch, placed there
    (random cells inside a merged chord texture, as the merged quality benchmark corrupts them).
    """
    batch = rolls.shape[0]
    clean = rolls.bool().reshape(batch, -1)  # (B, N)
    low, high = remove_pct
    remove_int = torch.randint(int(low), int(high) + 1, (batch,), generator=generator, device=clean.device)
    remove_frac = remove_int.float() / 100.0  # integer percentages, as the reference's random_integers
    add_frac = (add_pct[0] + (add_pct[1] - add_pct[0]) * torch.rand(batch, generator=generator, device=clean.device))
    removed = _choose_cells(clean, remove_frac, generator)
    candidates = ~clean
    if span_rows is not None and bool(span_rows.any()):
        sounding = rolls.bool().any(dim=1)  # (B, P)
        pitch = torch.arange(rolls.shape[2], device=clean.device)
        low = torch.where(sounding, pitch, rolls.shape[2]).min(dim=1).values  # (B,)
        high = torch.where(sounding, pitch, -1).max(dim=1).values
        in_span = (pitch >= low[:, None]) & (pitch <= high[:, None])  # (B, P)
        allowed = in_span | ~span_rows.to(clean.device)[:, None]  # other rows: every pitch
        candidates = candidates & allowed[:, None, :].expand(rolls.shape).reshape(batch, -1)
    added = _choose_cells(candidates, add_frac / 100.0, generator)
    corrupted = (clean & ~removed) | added
    target = corrupted ^ clean
    return corrupted.reshape(rolls.shape), target.reshape(rolls.shape)


def build_model(config: ARCNNConfig | dict | None = None) -> ARCNN:
    """The registry's `build_model`: a fresh (untrained) ARCNN from a config or its dict."""
    from generation.engine.models.arcnn.spec import config_from_dict

    if config is None:
        config = ARCNNConfig()
    elif isinstance(config, dict):
        config = config_from_dict(config)
    return ARCNN(config)
