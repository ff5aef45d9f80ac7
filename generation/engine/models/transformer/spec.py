"""Transformer configuration, tensor layout and user parameters, without torch (the web process checks uploaded
checkpoints with it).

`TransformerConfig` is the model's config dataclass (model.py builds the network from it); `config_from_dict`
validates an untrusted dict against `CONFIG_BOUNDS`; `tensor_specs(config)` lists every tensor of the model's
state_dict with its shape and dtype, so a checkpoint is checked before any weight is loaded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from generation.engine.config_bounds import bounded_config_values, parameter_count
from generation.engine.errors import CheckpointError
from generation.engine.params import SEED, ChoiceParam, NumberParam, training_params

ARCHITECTURE = "transformer"
DESCRIPTION = "Transformer continuation: continues the input by up to 30 s in its own tempo, key and voices"
IS_GENERATOR = True
CONTINUES = True  # it adds music after the input (negatives.py prompts it with a piece's first half)
EDITS = "all"  # every pitched track is continued in its own voice (the sampler leaves drum tracks as they are)

TRAINING_TEMPO_BPM = 100.0  # the chorales are tokenized at this fixed tempo (train.py); the sampler plays every
#                              prompt at it (its beat made this one) and scales the continuation back
MAX_PROMPT_SECONDS = 30.0  # docs/design.md section 4: the prompt is the whole input, at most 30 s
MAX_EXTENSION_SECONDS = 30.0

# The user's parameters (docs/design.md section 4 names and ranges), in the order forms show them.
PARAMS = (
    ChoiceParam("sampling", ("topk", "nucleus"), "nucleus", "top-k or nucleus (top-p) sampling"),
    NumberParam("k", 1, 309, 40, True, "top-k: sample among the k most likely tokens"),
    NumberParam("p", 0, 1, 0.95, False, "nucleus: sample among the most likely tokens holding this probability"),
    NumberParam("temperature", 0.5, 6, 0.95, False, "creative risk: higher = more surprising continuations"),
    NumberParam("prompt_seconds", 0, MAX_PROMPT_SECONDS, None, False,
                "seconds of the input's end the model listens to (default: the whole input, at most 30)"),
    NumberParam("extension_seconds", 1, MAX_EXTENSION_SECONDS, 20, False, "seconds of music added after the input"),
    NumberParam("max_rest_seconds", 0, 10, 2, False, "longest silence allowed in the extension"),
    NumberParam("max_note_seconds", 0.05, 10, 3, False, "longest note allowed in the extension"),
    SEED,
)

# A user's training run (the studio's Train page): fine-tuning the shipped model by default. ~0.22 s a step at batch
# 12 x 257 tokens on the demo machine (2 cores, both torch threads, quiet): the default 400 steps take about 1.5 min.
TRAIN_PARAMS = training_params(steps=(1, 3000, 400), learning_rate=(1e-5, 1e-2, 5e-4), batch_size=(1, 32, 12),
                               model_size=(32, 256, 128, "model width (d_model; rounded to a multiple of 32)"),
                               can_fine_tune=True)
MIN_TRAINING_TRACKS = 1  # it learns the performance of whatever the files play, all tracks merged


@dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int = 310  # the Performance events of events.py (docs/design.md §3): fixed, the reference's vocabulary
    context: int = 256  # tokens attended to: ~18 s of four-voice chorale at 100 bpm (a chorale is ~550 tokens)
    d_model: int = 128  # width, sized to the CPU budget: on one shared core d 128 trains at ~2.7x the tokens/s of
    #                     d 256 (~4.0 k vs ~1.5 k per CPU-second); a 45-minute run buys a few million tokens, and at
    #                     that budget a smaller model learns more per second than a wider one
    n_layers: int = 4  # the reference's depth (Transformer-XL, 4 layers)
    n_heads: int = 4  # head size 32: room for 16 rotary frequency pairs
    mlp_ratio: int = 4  # the usual 4x feed-forward
    dropout: float = 0.0  # the budget buys ~3 passes over the transposed train split: too few to overfit, and
    #                       dropout slows learning (the best validation weights are kept in any case)
    rope_base: float = 10000.0  # rotary position base (RoFormer); relative positions up to `context` apart


# Inclusive bounds for every config field (a checkpoint's config is untrusted input).
CONFIG_BOUNDS: dict[str, tuple[int, int]] = {
    "vocab_size": (310, 310),
    "context": (8, 4096),
    "d_model": (8, 2048),
    "n_layers": (1, 48),
    "n_heads": (1, 64),
    "mlp_ratio": (1, 8),
}
FLOAT_BOUNDS: dict[str, tuple[float, float]] = {"dropout": (0.0, 0.9), "rope_base": (10.0, 1e7)}


def config_from_dict(raw: dict) -> TransformerConfig:
    """Config from untrusted JSON; unknown fields, wrong types and out-of-bounds values raise CheckpointError."""
    values = bounded_config_values(TransformerConfig, raw, architecture=ARCHITECTURE, int_bounds=CONFIG_BOUNDS,
                                   float_bounds=FLOAT_BOUNDS)
    d_model, n_heads = values["d_model"], values["n_heads"]
    if d_model % n_heads or (d_model // n_heads) % 2:
        raise CheckpointError(
            "bad_config",
            f"transformer d_model ({d_model}) must be n_heads ({n_heads}) times an even head size (rotary pairs)",
        )
    return TransformerConfig(**values)


def config_to_dict(config: TransformerConfig) -> dict:
    return asdict(config)


def tensor_specs(config: TransformerConfig) -> dict[str, tuple[tuple[int, ...], str]]:
    """Every state_dict entry of model.Transformer(config): name -> (shape, dtype). Tested equal to the real one.
    The output layer shares the token embedding (tied weights), so it has no tensor of its own."""
    d, hidden = config.d_model, config.mlp_ratio * config.d_model
    specs: dict[str, tuple[tuple[int, ...], str]] = {"embed.weight": ((config.vocab_size, d), "float32")}
    for i in range(config.n_layers):
        block = f"blocks.{i}"
        specs[f"{block}.norm1.weight"] = ((d,), "float32")
        specs[f"{block}.norm1.bias"] = ((d,), "float32")
        specs[f"{block}.attn.qkv.weight"] = ((d, 3 * d), "float32")  # Dense weights are (in, out)
        specs[f"{block}.attn.qkv.bias"] = ((3 * d,), "float32")
        specs[f"{block}.attn.proj.weight"] = ((d, d), "float32")
        specs[f"{block}.attn.proj.bias"] = ((d,), "float32")
        specs[f"{block}.norm2.weight"] = ((d,), "float32")
        specs[f"{block}.norm2.bias"] = ((d,), "float32")
        specs[f"{block}.mlp.0.weight"] = ((d, hidden), "float32")
        specs[f"{block}.mlp.0.bias"] = ((hidden,), "float32")
        specs[f"{block}.mlp.2.weight"] = ((hidden, d), "float32")
        specs[f"{block}.mlp.2.bias"] = ((d,), "float32")
    specs["norm.weight"] = ((d,), "float32")
    specs["norm.bias"] = ((d,), "float32")
    return specs


def n_parameters(config: TransformerConfig) -> int:
    return parameter_count(tensor_specs(config))
