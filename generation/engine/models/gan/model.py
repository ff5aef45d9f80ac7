"""GAN accompaniment: a generator that writes alto, tenor and bass under a melody, and the critic that trains it.

DeepComposer's GAN (reference: aws-deepcomposer-samples/gan) is a U-Net over a 2-bar, 128-pitch roll, conditioned on
the melody, with noise at the bottleneck, trained as a WGAN-GP against a critic that sees the four tracks. Ours keeps
the recipe (U-Net with noise at the bottleneck, critic on accompaniment + melody, WGAN-GP with lambda = 10, 5 critic
steps per generator step, Adam(1e-3, 0.5, 0.9)) and changes the representation, each for a reason:
- a voice is one pitch (or a rest) a step, not a free 128-pitch roll: SATB voices sing one note at a time, so the
  generator outputs a softmax over n_pitches + rest per voice and step (the critic sees the probabilities, as in
  WGAN-GP for text) plus an onset probability (a repeated pitch is struck again, not tied);
- 1-D convolutions over time with the pitches as channels (64 of them, the chorale voices' range under
  transposition): ~10x cheaper than 2-D convs over a 128-pitch image, so it trains in 25 min on one CPU thread and
  accompanies 8 bars in a few milliseconds;
- 4-bar windows whose first bar can be given (the end of the previous window): the sampler walks a melody window by
  window and the parts continue across the edges; beat and bar flags tell the model the meter.

Shapes: B batch, T steps (window_steps), P = n_pitches, K = P + 2 channels per track (P pitches, rest, onset),
V = 3 voices, H hidden channels. Tracks are (B, T, K) for the melody and (B, V, T, K) for the accompaniment.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from generation.engine.models.gan.encoding import REST, meter_flags, one_hot
from generation.engine.models.gan.spec import (
    N_VOICES,
    GANConfig,
    critic_in_channels,
    generator_in_channels,
    track_channels,
)

__all__ = ["Critic", "GANConfig", "Generator", "accompany", "build_model", "gradient_penalty"]


class TimeConv(nn.Conv2d):
    """A 1-D convolution over time, (B, C_in, T) -> (B, C_out, T'), run as a (1 x k) 2-D convolution: on CPU,
    PyTorch's Conv2d is ~5x faster than Conv1d at these sizes. Weight (C_out, C_in, 1, k)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__(c_in, c_out, (1, k), stride=(1, stride), padding=(0, padding))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.unsqueeze(2)).squeeze(2)


class TimeConvTranspose(nn.ConvTranspose2d):
    """The transposed TimeConv: (B, C_in, T) -> (B, C_out, T * stride) with k = 2 * stride.
    Weight (C_in, C_out, 1, k)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, padding: int) -> None:
        super().__init__(c_in, c_out, (1, k), stride=(1, stride), padding=(0, padding))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.unsqueeze(2)).squeeze(2)


class ResBlock(nn.Module):
    """x + conv(lrelu(conv(lrelu(x)))), (B, H, T) -> (B, H, T)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = TimeConv(channels, channels, 3, padding=1)
        self.conv2 = TimeConv(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(F.leaky_relu(x, 0.2)), 0.2))


def generator_input(melody: torch.Tensor, meter: torch.Tensor, context: torch.Tensor,
                    context_mask: torch.Tensor) -> torch.Tensor:
    """melody (B, T, K), meter (B, T, 2), context (B, V, T, K) (only the masked steps are read), context_mask (B, T)
    -> (B, C_in, T) with C_in = K + 2 + V * K + 1."""
    b, t, _ = melody.shape
    m = context_mask.unsqueeze(-1)  # (B, T, 1)
    given = (context * m.unsqueeze(1)).permute(0, 2, 1, 3).reshape(b, t, -1)  # (B, T, V * K)
    return torch.cat([melody, meter, given, m], dim=-1).transpose(1, 2)


class Generator(nn.Module):
    """U-Net over time: conditioning (B, C_in, T) + noise (B, noise_dim, T / 2**levels) -> logits (B, V, T, K)."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.inp = TimeConv(generator_in_channels(config), h, 3, padding=1)
        self.down = nn.ModuleList(ResBlock(h) for _ in range(config.levels))
        self.pool = nn.ModuleList(TimeConv(h, h, 4, stride=2, padding=1) for _ in range(config.levels))  # T -> T/2
        self.mid_in = TimeConv(h + config.noise_dim, h, 3, padding=1)  # the noise joins here, one vector a beat
        self.mid = ResBlock(h)
        self.up = nn.ModuleList(TimeConvTranspose(h, h, 4, stride=2, padding=1) for _ in range(config.levels))
        self.merge = nn.ModuleList(TimeConv(2 * h, h, 1) for _ in range(config.levels))  # upsampled + skip
        self.dec = nn.ModuleList(ResBlock(h) for _ in range(config.levels))
        self.out = TimeConv(h, N_VOICES * track_channels(config), 1)

    def noise_shape(self, batch: int, steps: int) -> tuple[int, int, int]:
        return batch, self.config.noise_dim, steps // 2**self.config.levels

    def forward(self, cond: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.inp(cond), 0.2)  # (B, H, T)
        skips = []
        for level in range(self.config.levels):
            x = self.down[level](x)
            skips.append(x)
            x = F.leaky_relu(self.pool[level](x), 0.2)  # (B, H, T / 2**(level + 1))
        x = F.leaky_relu(self.mid_in(torch.cat([x, noise], dim=1)), 0.2)  # (B, H, T / 2**levels)
        x = self.mid(x)
        for level in reversed(range(self.config.levels)):
            x = F.leaky_relu(self.up[level](x), 0.2)  # (B, H, T / 2**level)
            x = self.dec[level](F.leaky_relu(self.merge[level](torch.cat([x, skips[level]], dim=1)), 0.2))
        b, _, t = x.shape
        logits = self.out(F.leaky_relu(x, 0.2))  # (B, V * K, T)
        return logits.reshape(b, N_VOICES, -1, t).transpose(2, 3)  # (B, V, T, K)


def soft_tracks(logits: torch.Tensor) -> torch.Tensor:
    """Logits (B, V, T, K) -> tracks (B, V, T, K): softmax over the P pitches + rest, sigmoid for the onset."""
    return torch.cat([logits[..., :-1].softmax(dim=-1), logits[..., -1:].sigmoid()], dim=-1)


def with_context(tracks: torch.Tensor, context: torch.Tensor, context_mask: torch.Tensor) -> torch.Tensor:
    """The given context replaces the generated tracks on its steps: (B, V, T, K) each, mask (B, T)."""
    m = context_mask[:, None, :, None]
    return tracks * (1 - m) + context * m


class Critic(nn.Module):
    """Melody (B, T, K) + meter (B, T, 2) + accompaniment (B, V, T, K) -> a score (B,); higher = more real."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        h = config.critic_hidden
        self.inp = TimeConv(critic_in_channels(config), h, 3, padding=1)
        self.body = nn.ModuleList(TimeConv(h, h, 4, stride=2, padding=1) for _ in range(3))  # T -> T / 8
        self.head = nn.Linear(h * (config.window_steps // 8), 1)

    def forward(self, melody: torch.Tensor, meter: torch.Tensor, voices: torch.Tensor) -> torch.Tensor:
        b, t, _ = melody.shape
        x = torch.cat([melody, meter, voices.permute(0, 2, 1, 3).reshape(b, t, -1)], dim=-1).transpose(1, 2)
        x = F.leaky_relu(self.inp(x), 0.2)  # (B, Hc, T); no normalization: the gradient penalty is per sample
        for conv in self.body:
            x = F.leaky_relu(conv(x), 0.2)  # halves T
        return self.head(x.flatten(1)).squeeze(1)  # (B,)


def gradient_penalty(score, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: mean over the batch of (||grad score(x_hat)|| - 1)^2 at x_hat = alpha * real + (1 - alpha) * fake.

    score: a function (B, ...) -> (B,) (the critic with the conditioning bound); alpha: (B,) in [0, 1].
    """
    shape = (-1,) + (1,) * (real.dim() - 1)
    x_hat = (alpha.view(shape) * real + (1 - alpha.view(shape)) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(score(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


# ------------------------------------------------------------------------------------------------ the window walk
@torch.inference_mode()
def accompany(model: Generator, melody_pitch: np.ndarray, melody_onset: np.ndarray, steps_per_bar: np.ndarray | int,
              generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Accompany a batch of melody lines, window by window.

    melody_pitch (B, T) int in the model's range or REST, melody_onset (B, T) bool, steps_per_bar (B,) or an int
    -> voices' pitch (B, V, T) (REST where silent) and onset (B, V, T) bool.
    """
    model.eval()
    cfg = model.config
    w, c = cfg.window_steps, cfg.context_steps
    batch, n_steps = melody_pitch.shape
    n_windows = 1 if n_steps <= w else 1 + -(-(n_steps - w) // (w - c))
    total = w + (n_windows - 1) * (w - c)  # the walk covers T steps, rounded up to whole windows
    pad = total - n_steps
    pitch = np.concatenate([melody_pitch, np.full((batch, pad), REST)], axis=1)
    onset = np.concatenate([melody_onset, np.zeros((batch, pad), dtype=bool)], axis=1)
    bars = np.broadcast_to(np.asarray(steps_per_bar), (batch,))
    device = next(model.parameters()).device
    melody = torch.from_numpy(one_hot(pitch, onset, cfg.lowest_pitch, cfg.n_pitches)).to(device)  # (B, T', K)
    meter = torch.from_numpy(np.stack([meter_flags(total, int(b)) for b in bars])).to(device)  # (B, T', 2)
    k = cfg.n_pitches + 2
    out = torch.zeros((batch, N_VOICES, total, k), device=device)  # one-hot parts as they are decided
    mask = torch.zeros((batch, w), device=device)
    for i in range(n_windows):
        start = i * (w - c)
        window = slice(start, start + w)
        mask[:, :c] = 1.0 if i > 0 else 0.0  # the first window has no context
        cond = generator_input(melody[:, window], meter[:, window], out[:, :, window], mask)  # (B, C_in, W)
        noise = torch.randn(model.noise_shape(batch, w), generator=generator).to(device)
        tracks = with_context(soft_tracks(model(cond, noise)), out[:, :, window], mask)  # (B, V, W, K)
        out[:, :, window] = decide(tracks)
    choice = out[..., :-1].argmax(dim=-1).cpu().numpy()  # (B, V, T')
    voice_pitch = np.where(choice == cfg.n_pitches, REST, choice + cfg.lowest_pitch)[:, :, :n_steps]
    voice_onset = (out[..., -1] > 0.5).cpu().numpy()[:, :, :n_steps] & (voice_pitch >= 0)
    return voice_pitch, voice_onset


def decide(tracks: torch.Tensor) -> torch.Tensor:
    """Soft tracks (B, V, T, K) -> one-hot tracks: the most likely pitch or rest a step, onset when p > 0.5."""
    out = torch.zeros_like(tracks)
    out.scatter_(-1, tracks[..., :-1].argmax(dim=-1, keepdim=True), 1.0)
    out[..., -1] = (tracks[..., -1] > 0.5).float() * (1.0 - out[..., -2])  # no onset on a rest
    return out


def build_model(config: GANConfig | dict | None = None) -> Generator:
    """The checkpoint's module: a fresh generator from a config or its dict (the critic is built by train.py)."""
    from generation.engine.models.gan.spec import config_from_dict

    if config is None:
        config = GANConfig()
    elif isinstance(config, dict):
        config = config_from_dict(config)
    return Generator(config)
