"""AR-CNN configuration and tensor layout, without torch (the web process checks uploaded checkpoints with it).

`ARCNNConfig` is the model's config dataclass (arcnn.py builds the network from it); `config_from_dict` validates an
untrusted dict against `CONFIG_BOUNDS`; `tensor_specs(config)` lists every tensor the model's state_dict holds, with its
shape and dtype, so a checkpoint can be checked before any weight is loaded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from generation.engine.config_bounds import bounded_config_values, parameter_count
from generation.engine.errors import CheckpointError
from generation.engine.params import SEED, NumberParam, training_params

ARCHITECTURE = "arcnn"
DESCRIPTION = "AR-CNN editing: adds and removes notes so a track sounds more like Bach"
IS_GENERATOR = True
EDITS = "melody"  # the pipeline keeps every other track of the input as it was

# The user's parameters (docs/design.md section 4 names and ranges), in the order forms show them.
PARAMS = (
    # default 10 (docs/design.md: 100): the tune stays; at most a tenth of its note cells may go, at any temperature
    NumberParam("max_remove_pct", 0, 100, 10, True,
                "most of the input's note cells (%) the model may remove: low keeps your tune, 100 lets it rewrite"),
    NumberParam("max_add", 50, 1000, 500, True,
                "most note cells (sixteenths of one pitch) the model may add: caps how much harmony it writes"),
    NumberParam("iterations", 0, 100, 100, True,
                "edits: note cells added or removed (an added note held for a beat is 4); 0 returns the input"),
    NumberParam("temperature", 0.5, 6, 1.0, False,
                "creative risk: low = the model's surest chord tones, high = more surprising notes (still in key "
                "and range)"),
    SEED,
)

# A user's training run (the studio's Train page, POST /api/trainings/): fine-tuning the shipped model by default.
# ~0.22 s a step at batch 8 on the demo machine (2 CPU cores, both torch threads): 800 steps take about 3 minutes.
# 800 was chosen on 30 folk tunes against the valid split (benchmarks/train_in_browser.py): validation loss 1.28 at
# its best step (600) against 1.39 after 200 steps; held-out tunes kept 88 % against 86 %.
TRAIN_PARAMS = training_params(steps=(1, 3000, 800), learning_rate=(1e-5, 1e-2, 1e-3), batch_size=(1, 32, 8),
                               model_size=(4, 16, 8, "channels at full resolution"), can_fine_tune=True)
MIN_TRAINING_TRACKS = 1  # a melody is enough: the model learns to edit (and harmonize) the tracks it is given


@dataclass(frozen=True)
class ARCNNConfig:
    n_pitches: int = 128  # MIDI pitch range: the roll's height; every pitch can hold a random (wrong) cell to remove
    window_steps: int = 128  # 8 bars of 4/4 at 4 steps a beat, as DeepComposer; the training window (the net is
    #                          fully convolutional over time, so the sampler edits up to 32 bars in one pass)
    base_channels: int = 8  # channels at full 128x128 resolution: the costliest level (training time grows with
    #                         its square), kept narrow so the model trains in minutes and edits fast on 2 CPU cores
    levels: int = 5  # 2x2 poolings: 128 -> 4 at the bottom, where a 3x3 conv sees the whole 8-bar, 128-pitch roll
    max_channels: int = 128  # channel cap (base * 2**level): [8, 16, 32, 64, 128, 128], ~1.2 M parameters
    convs_per_level: int = 2  # two 3x3 convs per level, the classic U-Net block
    batch_norm: bool = False  # BatchNorm at 128x128 dominated CPU training time; plain conv+bias+ReLU trains fine
    add_logit_bias: float = 1.5  # sampling prior, not trained: added to the logits of empty cells at inference.
    #                              Restoring a removed note cell raises Jaccard ~5x more than deleting a stray one,
    #                              so the sampler favours additions; 1.5 was chosen on the valid split (1.5 / 2.5 gave
    #                              gains 0.162 / 0.161 on soprano windows, 0.078 / 0.081 on merged four-voice windows,
    #                              with falling precision at 2.5)
    pitch_low: int = 0  # lowest pitch the sampler may ADD (a note the input already holds may stay anywhere): the
    #                     training data's range, so no temperature can place a note where the model never saw one
    pitch_high: int = 127  # highest pitch the sampler may add (inclusive); 0..127 = no mask (older checkpoints)
    flips_per_pass: int = 1  # cells flipped per network pass (Gumbel top-k: k distinct cells sampled without
    #                          replacement from the same softmax): 100 edits cost 100 / k passes
    sustain_steps: int = 0  # > 1: a cell the sampler turns on is held as a note, up to the input's next note start
    #                         and this many cells (each an edit): harmony notes instead of scattered sixteenths
    key_mask: bool = False  # the sampler adds notes only in the input's key (Krumhansl-Schmuckler estimate: major
    #                         scale, or natural minor + leading tone) or at a pitch class the input already uses
    stop_logit: bool = False  # a "nothing to change" outcome with a fixed logit 0 beside the cells' logits, the
    #                           target of an uncorrupted roll: the logits then mean something absolute, so the
    #                           sampler can stop when the music is done (False: older checkpoints)
    confidence: float = -100.0  # the sampler flips a cell only when its logit exceeds the stop outcome's by this
    #                             (log odds; models without stop_logit: against a uniform pick), and stops when no
    #                             cell does; -100 = always flip (DeepComposer). train writes the valid-split choice
    add_confidence_offset: float = 0.0  # on a bare melody (at most one note at a time on >= 90 % of its sounding
    #                                     steps) an addition needs odds of at least confidence + this (removals, and
    #                                     additions to a texture: confidence): < 0 harmonizes a tune more fully while
    #                                     its notes go only where the model is as sure as before
    chord_rule: bool = False  # the sampler adds a note only when its pitch class is in the chord of its beat, chosen
    #                           among the key's triads and sevenths from the notes sounding there and the model's
    #                           wish to add (chords.beat_chords), and holds it only while it is
    chord_model_weight: float = 1.0  # the model's wish (a distribution over pitch classes each beat) against the
    #                                  sounding notes (each pitch class's share of the beat) in the chord's score
    chord_tone_cost: float = 0.1  # score a chord loses per tone: a seventh chord needs its seventh heard or wanted
    chord_prior_weight: float = 0.0  # > 0: the chord's score also counts this times log P(chord | the melody's
    #                                  scale degree), counted on the chorales' train split (chords.chord_prior)
    complete_bias: float = 0.0  # sampling prior (chord_rule): added to the logit of an empty cell whose pitch class
    #                             is a tone of its beat's chord not sounding at its step: the chord is completed
    #                             before a sounding tone is doubled
    min_add_steps: int = 1  # an added note is at least this many steps long (where less fits, nothing is added)
    tie_added: bool = False  # a note added next to an added note of the same pitch continues it (a chord tone held
    #                          across the melody's notes, not re-struck) while the whole is at most sustain_steps
    #                          long; it still keeps a step apart from input notes
    removals_first: bool = False  # the confident removals are sampled before any addition (the edits budget goes to
    #                               fixing wrong notes first, then to harmony)
    max_voices: int = 0  # > 0: no note is added at a step where this many notes already sound
    pitch_channel: bool = True  # a second input plane holding each row's pitch (scaled to [-1, 1]): the net knows the
    #                             register absolutely, so far-off random cells are easy to spot


# Inclusive bounds for every config field (a checkpoint's config is untrusted input).
CONFIG_BOUNDS: dict[str, tuple[int, int]] = {
    "n_pitches": (128, 128),
    "window_steps": (16, 512),
    "base_channels": (4, 64),
    "levels": (1, 6),
    "max_channels": (4, 1024),
    "convs_per_level": (1, 4),
    "pitch_low": (0, 127),
    "pitch_high": (0, 127),
    "flips_per_pass": (1, 8),
    "sustain_steps": (0, 16),
    "max_voices": (0, 16),
    "min_add_steps": (1, 16),
}
BOOL_FIELDS = ("pitch_channel", "batch_norm", "key_mask", "stop_logit", "chord_rule", "tie_added",
               "removals_first")
FLOAT_BOUNDS: dict[str, tuple[float, float]] = {"add_logit_bias": (-10.0, 10.0), "confidence": (-100.0, 100.0),
                                                "chord_model_weight": (0.0, 100.0), "chord_tone_cost": (0.0, 10.0),
                                                "chord_prior_weight": (0.0, 100.0), "complete_bias": (-10.0, 10.0),
                                                "add_confidence_offset": (-100.0, 100.0)}


def config_from_dict(raw: dict) -> ARCNNConfig:
    """Config from untrusted JSON; unknown fields, wrong types and out-of-bounds values raise CheckpointError."""
    values = bounded_config_values(
        ARCNNConfig, raw, architecture=ARCHITECTURE, int_bounds=CONFIG_BOUNDS, float_bounds=FLOAT_BOUNDS,
        bool_fields=BOOL_FIELDS,
    )
    if values["window_steps"] % (2 ** values["levels"]):
        raise CheckpointError(
            "bad_config",
            f"arcnn window_steps ({values['window_steps']}) must be a multiple of 2**levels ({2 ** values['levels']})",
        )
    if values["pitch_low"] > values["pitch_high"]:
        raise CheckpointError(
            "bad_config", f"arcnn pitch_low ({values['pitch_low']}) must not exceed pitch_high ({values['pitch_high']})"
        )
    return ARCNNConfig(**values)


def config_to_dict(config: ARCNNConfig) -> dict:
    return asdict(config)


def level_channels(config: ARCNNConfig) -> list[int]:
    """Channels at each resolution level 0..levels (level `levels` is the bottleneck)."""
    return [min(config.base_channels * 2**level, config.max_channels) for level in range(config.levels + 1)]


def in_channels(config: ARCNNConfig) -> int:
    return 2 if config.pitch_channel else 1


def _conv_block_specs(
    prefix: str, c_in: int, c_out: int, n_convs: int, batch_norm: bool
) -> dict[str, tuple[tuple[int, ...], str]]:
    # Mirrors arcnn.ConvBlock, an nn.Sequential: with batch_norm (Conv2d no bias, BatchNorm2d, ReLU) x n -> conv at
    # index 3*i, norm at 3*i+1; without, (Conv2d with bias, ReLU) x n -> conv at index 2*i.
    specs: dict[str, tuple[tuple[int, ...], str]] = {}
    for i in range(n_convs):
        conv = f"{prefix}.{3 * i if batch_norm else 2 * i}"
        specs[f"{conv}.weight"] = ((c_out, c_in if i == 0 else c_out, 3, 3), "float32")
        if not batch_norm:
            specs[f"{conv}.bias"] = ((c_out,), "float32")
            continue
        norm = f"{prefix}.{3 * i + 1}"
        for name in ("weight", "bias", "running_mean", "running_var"):
            specs[f"{norm}.{name}"] = ((c_out,), "float32")
        specs[f"{norm}.num_batches_tracked"] = ((), "int64")
    return specs


def tensor_specs(config: ARCNNConfig) -> dict[str, tuple[tuple[int, ...], str]]:
    """Every state_dict entry of arcnn.ARCNN(config): name -> (shape, dtype). Tested equal to the real state_dict."""
    channels = level_channels(config)
    specs: dict[str, tuple[tuple[int, ...], str]] = {}
    for level, c_out in enumerate(channels):
        c_in = in_channels(config) if level == 0 else channels[level - 1]
        specs.update(_conv_block_specs(f"down.{level}", c_in, c_out, config.convs_per_level, config.batch_norm))
    for level in range(config.levels):
        c_low, c_out = channels[level + 1], channels[level]
        specs[f"up.{level}.weight"] = ((c_low, c_out, 2, 2), "float32")  # ConvTranspose2d weight is (in, out, kH, kW)
        specs[f"up.{level}.bias"] = ((c_out,), "float32")
        specs.update(_conv_block_specs(f"dec.{level}", 2 * c_out, c_out, config.convs_per_level, config.batch_norm))
    specs["head.weight"] = ((1, channels[0], 1, 1), "float32")
    specs["head.bias"] = ((1,), "float32")
    return specs


def n_parameters(config: ARCNNConfig) -> int:
    """Trainable parameters (BatchNorm running statistics excluded)."""
    return parameter_count(tensor_specs(config), buffers=("running_mean", "running_var", "num_batches_tracked"))
