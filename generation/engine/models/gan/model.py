"""GAN accompaniment: a generator that writes alto, tenor and bass under a melody, and the discriminator that
trains it.

DeepComposer's GAN (reference: aws-deepcomposer-samples/gan) is a U-Net over a 2-bar, 128-pitch roll, conditioned on
the melody, with noise at the bottleneck, trained as a WGAN-GP whose generator never sees what the real parts were.
Ours keeps the U-Net with noise at the bottleneck and the generator/discriminator pair trained in alternating steps,
and is trained in the pix2pix manner (train.py): the generator's loss is a cross-entropy against the real parts of
the same melody (annealed) plus the adversarial term of a discriminator that sees melody + parts, plus a
mode-seeking term so that the noise changes the parts. What changes from the reference, each for a reason:
- a part is one *event* a step (encoding.part_events): the onset of a pitch, HOLD or a rest, a softmax over
  n_pitches + 2 classes per voice and step; a held note is one decision, so notes last as long as a singer's;
- everything is in C major / A minor (the sampler moves a melody there and the parts back), so the model learns
  one key instead of twelve;
- 1-D convolutions over time with the pitches as channels (64 of them, the chorale voices' range): ~10x cheaper than
  2-D convs over a 128-pitch image, so it trains in minutes on one CPU thread and accompanies 8 bars in milliseconds;
- the sampler draws each event from the predicted distribution at a temperature, step by step, and keeps what a
  singer keeps (no parallel fifths or octaves, no crossing): different seeds give different parts;
- 4-bar windows whose first bar can be given (the end of the previous window): the sampler walks a melody window by
  window and the parts continue across the edges; beat and bar flags tell the model the meter.

Shapes: B batch, T steps (window_steps), P = n_pitches, K = P + 2 channels per track (melody and context tracks:
P pitches, rest, onset; generated parts: P onsets, HOLD, rest), V = 3 voices, H hidden channels. Tracks are
(B, T, K) for the melody and (B, V, T, K) for the parts.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from generation.engine.models.gan.encoding import REST, meter_flags, one_hot
from generation.engine.models.gan.musician import CHORD_MASKS, CONSONANT
from generation.engine.models.gan.spec import (
    N_VOICES,
    GANConfig,
    critic_in_channels,
    generator_in_channels,
    track_channels,
)
from generation.engine.representation import STEPS_PER_BEAT

__all__ = ["Critic", "GANConfig", "Generator", "accompany", "build_model"]


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


def with_context(parts: torch.Tensor, context: torch.Tensor, context_mask: torch.Tensor) -> torch.Tensor:
    """The given context replaces the generated parts on its steps: (B, V, T, K) each, mask (B, T)."""
    m = context_mask[:, None, :, None]
    return parts * (1 - m) + context * m


class Critic(nn.Module):
    """The discriminator: melody (B, T, K) + meter (B, T, 2) + parts as event one-hots (B, V, T, K) -> a realness
    logit (B,). It sees the melody and the three parts together, so what it can tell apart is how they sound
    against each other (intervals, chords, rhythm), not only each line."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        h = config.critic_hidden
        self.inp = TimeConv(critic_in_channels(config), h, 3, padding=1)
        self.body = nn.ModuleList(TimeConv(h, h, 4, stride=2, padding=1) for _ in range(3))  # T -> T / 8
        self.head = nn.Linear(h * (config.window_steps // 8), 1)

    def forward(self, melody: torch.Tensor, meter: torch.Tensor, parts: torch.Tensor) -> torch.Tensor:
        b, t, _ = melody.shape
        x = torch.cat([melody, meter, parts.permute(0, 2, 1, 3).reshape(b, t, -1)], dim=-1).transpose(1, 2)
        x = F.leaky_relu(self.inp(x), 0.2)  # (B, Hc, T)
        for conv in self.body:
            x = F.leaky_relu(conv(x), 0.2)  # halves T
        return self.head(x.flatten(1)).squeeze(1)  # (B,)


# ------------------------------------------------------------------------------------------------ the window walk
SAMPLING_TEMPERATURE = 1.0  # events are drawn from the predicted distribution (truncated by MIN_P) at this heat
MIN_P = 0.3  # only events at least this share as likely as the likeliest are drawn (min-p truncation): the seed picks
#              among the voicings the model finds plausible, never a long-shot clash
PARALLEL_PENALTY = 8.0  # nats off an onset that makes parallel fifths or octaves with a voice already decided
CROSSING_PENALTY = 4.0  # nats off a note above the voice over it (the melody for the alto)
SONORITY_PENALTY = 3.0  # nats off a note that, on a beat, leaves the melody and the voices decided so far outside
#                         every triad and seventh chord (musician.CHORD_MASKS); passing notes between beats are free
DISSONANCE_PENALTY = 1.0  # nats off a note that, on a beat, is dissonant with the melody (not in
#                           musician.CONSONANT: a second, seventh or tritone)
RANGE_PENALTY = 4.0  # nats off a note outside its voice's sung range (spec.VOICE_RANGES, moved into the model's key):
#                      a low tune pulls the parts down with it, and a bass below D2 or an alto under A3 is not sung


def _chord_fit_table() -> np.ndarray:
    """bool (4096, 12): whether adding pitch class c to the pitch-class set m (a 12-bit mask) stays inside a chord."""
    masks = np.arange(4096)[:, None] | (1 << np.arange(12))[None, :]  # (4096, 12)
    return ((masks[..., None] & ~CHORD_MASKS[None, None, :]) == 0).any(axis=-1)


CHORD_FIT = _chord_fit_table()
_CONSONANT = np.isin(np.arange(12), sorted(CONSONANT))  # bool (12,) by interval class


@torch.inference_mode()
def accompany(model: Generator, melody_pitch: np.ndarray, melody_onset: np.ndarray, steps_per_bar: np.ndarray | int,
              generator: torch.Generator, temperature: float = SAMPLING_TEMPERATURE,
              ranges: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Accompany a batch of melody lines, window by window.

    melody_pitch (B, T) int in the model's range or REST, melody_onset (B, T) bool, steps_per_bar (B,) or an int
    -> voices' pitch (B, V, T) (REST where silent) and onset (B, V, T) bool. Each window's first ``context_steps``
    hold the end of the previous window's decided parts; the rest is decided step by step (``decide_steps``);
    temperature 0 takes the likeliest event. ranges (B, V, 2) int, optional: each voice's (lowest, highest) sung
    pitch in the model's key and register; notes outside lose RANGE_PENALTY.
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
    voices = np.full((batch, N_VOICES, total), REST, dtype=np.int64)  # decided parts, as lines
    voice_onsets = np.zeros((batch, N_VOICES, total), dtype=bool)
    mask = torch.zeros((batch, w), device=device)
    candidates = cfg.lowest_pitch + np.arange(cfg.n_pitches)  # (P,)
    outside = (np.zeros((batch, N_VOICES, cfg.n_pitches), dtype=bool) if ranges is None else  # (B, V, P)
               (candidates < ranges[..., :1]) | (candidates > ranges[..., 1:]))
    for i in range(n_windows):
        start = i * (w - c)
        window = slice(start, start + w)
        given = 0 if i == 0 else c  # the first window has no context
        mask[:, :given] = 1.0
        context = torch.from_numpy(one_hot(voices[:, :, window], voice_onsets[:, :, window], cfg.lowest_pitch,
                                           cfg.n_pitches)).to(device)  # (B, V, W, K)
        cond = generator_input(melody[:, window], meter[:, window], context, mask)  # (B, C_in, W)
        noise = torch.randn(model.noise_shape(batch, w), generator=generator).to(device)
        logp = model(cond, noise).float().cpu().log_softmax(-1)  # (B, V, W, K)
        uniform = torch.rand(logp.shape, generator=generator).clamp(1e-9, 1 - 1e-9)
        gumbel = -torch.log(-torch.log(uniform)).numpy() if temperature > 0 else None
        decide_steps(logp.numpy(), gumbel, pitch, voices, voice_onsets, start + given, start + w, start, cfg,
                     temperature, outside)
    return voices[:, :, :n_steps], voice_onsets[:, :, :n_steps] & (voices[:, :, :n_steps] >= 0)


def decide_steps(logp: np.ndarray, gumbel: np.ndarray | None, melody: np.ndarray, voices: np.ndarray,
                 onsets: np.ndarray, first: int, stop: int, offset: int, cfg: GANConfig, temperature: float,
                 outside: np.ndarray | None = None) -> None:
    """Decide steps first..stop-1 of every voice in place, one step at a time, alto then tenor then bass.

    logp (B, V, W, K): the model's log-probabilities for the window starting at ``offset``; gumbel: noise of the
    same shape (None: take the best); melody (B, T'); voices (B, V, T') and onsets (B, V, T') are written. Rules a
    singer keeps, as penalties on the log-probabilities: a HOLD needs a sounding note; an onset that makes parallel
    fifths or octaves with the melody or a voice already decided at this step loses PARALLEL_PENALTY; a note above
    the voice over it loses CROSSING_PENALTY; on a beat, a note outside every chord with what already sounds loses
    SONORITY_PENALTY and one dissonant with the melody DISSONANCE_PENALTY; an onset outside the voice's range
    (``outside`` (B, V, P) bool, optional) loses RANGE_PENALTY. Then events below MIN_P of the best are dropped and
    one is drawn at ``temperature``."""
    p = cfg.n_pitches
    candidates = cfg.lowest_pitch + np.arange(p)  # (P,)
    rows = np.arange(len(melody))
    floor = np.log(MIN_P)
    none = np.full(len(melody), REST)
    others = np.delete(logp, p, axis=-1).max(axis=-1)  # (B, V, W): the best event other than HOLD
    # where HOLD is so likely that min-p truncation (or the argmax) leaves nothing else, and no rule can apply to a
    # hold (off the beat, under the voice above), the note simply goes on: the common step, decided without the rules
    sure_hold = logp[..., p] + (floor if gumbel is not None else 0.0) > others
    for t in range(first, stop):
        lines = [(melody[:, t - 1] if t > 0 else none, melody[:, t])]  # (at t - 1, at t) of each voice decided
        on_beat = t % STEPS_PER_BEAT == 0
        for v in range(N_VOICES):
            prev = voices[:, v, t - 1] if t > 0 else none
            if not on_beat and sure_hold[:, v, t - offset].all() and (prev >= 0).all():
                upper = lines[-1][1]
                if ((upper < 0) | (prev <= upper)).all():
                    voices[:, v, t] = prev
                    lines.append((prev, prev))
                    continue
            s = logp[:, v, t - offset].copy()  # (B, K)
            s[prev < 0, p] = -np.inf  # nothing to hold
            if outside is not None:
                s[:, :p] -= RANGE_PENALTY * outside[:, v]
            for before, now in lines:  # the melody and the voices above, decided at t
                interval = (before - prev) % 12
                perfect = (before >= 0) & (now >= 0) & (prev >= 0) & (now != before) & ((interval == 0)
                                                                                         | (interval == 7))
                if perfect.any():  # rare: only then the (B, P) check
                    same_way = np.sign(candidates[None, :] - prev[:, None]) == np.sign(now - before)[:, None]
                    parallel = (perfect[:, None] & (candidates[None, :] != prev[:, None]) & same_way
                                & (((now[:, None] - candidates[None, :]) % 12) == interval[:, None]))
                    s[:, :p] -= PARALLEL_PENALTY * parallel
            upper = lines[-1][1]  # the voice directly above, at t
            s[:, :p] -= CROSSING_PENALTY * ((upper[:, None] >= 0) & (candidates[None, :] > upper[:, None]))
            s[(upper >= 0) & (prev > upper), p] -= CROSSING_PENALTY
            if on_beat:
                sounding_now = np.zeros(len(melody), dtype=np.int64)  # pitch-class mask of what sounds at t
                for _before, now in lines:
                    sounding_now |= np.where(now >= 0, 1 << (np.maximum(now, 0) % 12), 0)
                fits = CHORD_FIT[sounding_now]  # (B, 12)
                s[:, :p] -= SONORITY_PENALTY * ~fits[:, candidates % 12]
                s[:, p] -= SONORITY_PENALTY * ((prev >= 0) & ~fits[rows, np.maximum(prev, 0) % 12])
                tune = lines[0][1]  # the melody at t
                clash = ~_CONSONANT[(tune[:, None] - candidates[None, :]) % 12] & (tune[:, None] >= 0)  # (B, P)
                s[:, :p] -= DISSONANCE_PENALTY * clash
                s[:, p] -= DISSONANCE_PENALTY * ((prev >= 0) & (tune >= 0) & ~_CONSONANT[(tune - prev) % 12])
            if gumbel is not None:
                allowed = s >= s.max(axis=1, keepdims=True) + floor
                s = np.where(allowed, s / max(temperature, 1e-6) + gumbel[:, v, t - offset], -np.inf)
            choice = s.argmax(axis=1)  # (B,)
            now = np.where(choice < p, candidates[np.minimum(choice, p - 1)], np.where(choice == p, prev, REST))
            voices[rows, v, t] = now
            onsets[rows, v, t] = choice < p
            lines.append((prev, now))


def build_model(config: GANConfig | dict | None = None) -> Generator:
    """The checkpoint's module: a fresh generator from a config or its dict (the discriminator is built by train.py)."""
    from generation.engine.models.gan.spec import config_from_dict

    if config is None:
        config = GANConfig()
    elif isinstance(config, dict):
        config = config_from_dict(config)
    return Generator(config)
