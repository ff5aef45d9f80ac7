"""Discriminator configuration and tensor layout, without torch (checkpoints are checked before any weight loads).

`DiscriminatorConfig` is the model's config dataclass (discriminator.py builds the network from it);
`config_from_dict` validates an untrusted dict against `CONFIG_BOUNDS`; `tensor_specs(config)` lists every tensor of
the model's state_dict with its shape and dtype.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from generation.engine.config_bounds import bounded_config_values, parameter_count
from generation.engine.errors import CheckpointError

ARCHITECTURE = "discriminator"
DESCRIPTION = "realness discriminator used by scoring: how likely a piece is real music of the reference style"
IS_GENERATOR = False
N_FEATURE_CHANNELS = 6  # discriminator_data.piece_features: S, A, T, B voice planes, pooled roll, pooled onsets


@dataclass(frozen=True)
class DiscriminatorConfig:
    # pitch rows each window is read in, from its lowest sounding pitch up (data.anchored): the same input in every
    # key, so no transposition averaging (8x the work) is needed; 64 rows (five octaves and a third) hold a choir's
    # or a piano piece's usual span, and higher notes fold into the top row. 128 = a legacy absolute-pitch model.
    n_pitches: int = 64
    window_steps: int = 64  # 4 bars of 4/4 on the sixteenth grid: sees bar lines, cadences and voice leading
    hop_steps: int = 32  # windows overlap by half when a piece is scored; realness = mean probability over windows
    channels: int = 16  # first conv's channels; doubled twice (16-32-64): ~0.1 M parameters, a few ms per window
    pitch_kernel: int = 13  # first conv spans an octave plus one: intervals and chord shapes in one look
    dropout_pct: int = 20  # dropout before the head, in percent (an int keeps the config integer-only)


CONFIG_BOUNDS: dict[str, tuple[int, int]] = {
    "n_pitches": (32, 128),
    "window_steps": (16, 256),
    "hop_steps": (1, 256),
    "channels": (4, 128),
    "pitch_kernel": (3, 25),
    "dropout_pct": (0, 90),
}


def config_from_dict(raw: dict) -> DiscriminatorConfig:
    """A config from untrusted JSON; unknown fields, wrong types and out-of-bounds values raise CheckpointError."""
    values = bounded_config_values(DiscriminatorConfig, raw, architecture=ARCHITECTURE, int_bounds=CONFIG_BOUNDS)
    if values["window_steps"] % 4:
        raise CheckpointError("bad_config", f"discriminator window_steps must be a multiple of 4, found "
                                            f"{values['window_steps']}")  # fmt: skip
    if values["pitch_kernel"] % 2 == 0:
        raise CheckpointError("bad_config", f"discriminator pitch_kernel must be odd, found {values['pitch_kernel']}")
    return DiscriminatorConfig(**values)


def config_to_dict(config: DiscriminatorConfig) -> dict:
    return asdict(config)


def tensor_specs(config: DiscriminatorConfig) -> dict[str, tuple[tuple[int, ...], str]]:
    """Every state_dict entry of discriminator.Discriminator(config): name -> (shape, dtype)."""
    c1, c2, c3 = config.channels, 2 * config.channels, 4 * config.channels
    return {
        "conv1.weight": ((c1, N_FEATURE_CHANNELS, 3, config.pitch_kernel), "float32"),
        "conv1.bias": ((c1,), "float32"),
        "conv2.weight": ((c2, c1, 3, 7), "float32"),
        "conv2.bias": ((c2,), "float32"),
        "conv3.weight": ((c3, c2, 3, 5), "float32"),
        "conv3.bias": ((c3,), "float32"),
        "time_conv.weight": ((c3, 2 * c3, 3), "float32"),
        "time_conv.bias": ((c3,), "float32"),
        "head.weight": ((1, 2 * c3), "float32"),
        "head.bias": ((1,), "float32"),
        "temperature": ((1,), "float32"),
    }


def n_parameters(config: DiscriminatorConfig) -> int:
    return parameter_count(tensor_specs(config), buffers=("temperature",))
