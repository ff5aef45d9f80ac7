"""GAN accompaniment: configuration, tensor layout and user parameters, without torch (the web process imports it).

`GANConfig` is the generator's config dataclass (model.py builds the network from it); `config_from_dict` validates an
untrusted dict against `CONFIG_BOUNDS`; `tensor_specs(config)` lists every tensor of the generator's state_dict (the
checkpoint; the discriminator is only needed for training), with its shape and dtype, so a checkpoint can be checked
before any weight is loaded. `PARAMS` are the user parameters of docs/design.md section 4.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from generation.engine.config_bounds import bounded_config_values, parameter_count
from generation.engine.errors import CheckpointError, ParamError
from generation.engine.keys import KEY_NAMES
from generation.engine.params import SEED, ChoiceParam, NumberParam, ProgramsParam, training_params

ARCHITECTURE = "gan"
DESCRIPTION = ("GAN accompaniment: adds alto, tenor and bass tracks under a melody, in its key and meter, in the "
               "style asked for (Bach chorale or Palestrina); with melody=generate (or an input with no notes) it "
               "writes all four voices of `bars` bars in `key`: the soprano is drawn from a small Markov chain over "
               "pitches and note lengths fitted to the style's training sopranos, then the GAN accompanies it")
IS_GENERATOR = True
EDITS = "none"  # the input's tracks are kept as they are; the model adds three tracks after them
N_VOICES = 3  # alto, tenor, bass
VOICE_NAMES = ("Alto", "Tenor", "Bass")

# Styles: each is a checkpoint trained on its own corpus (loading.style_checkpoint_dir knows where each lives), with a
# sentence on what it sounds like (the studio and the learning page show it).
STYLES = {
    "chorale": "Bach chorales: a plain four-part hymn harmonization, a chord on every beat, the bass moving by step "
               "and leap towards clear cadences.",
    "renaissance": "Palestrina's polyphony: longer, smoother lines in half and quarter notes that move on their own, "
                   "voices that rest and come back in, fewer chord changes than a chorale.",
}
DEFAULT_STYLE = "chorale"
# Each style's sung range of alto, tenor and bass, (lowest, highest) MIDI pitch: the 1st-99th percentile of that voice
# over the style's train split (benchmarks/gan_quality.py's voice_ranges prints them). The sampler keeps each part
# inside its range (model.RANGE_PENALTY), so a low tune does not drag the bass below what a bass sings.
VOICE_RANGES = {
    "chorale": ((57, 72), (52, 66), (38, 60)),
    "renaissance": ((55, 74), (50, 70), (43, 67)),
}
UNKNOWN_STYLE_MESSAGE = "Unknown GAN style {style!r}; choose one of: {choices}."


def check_style(style: str) -> str:
    """The style itself, or ParamError naming the choices."""
    if style not in STYLES:
        raise ParamError("bad_param_value", UNKNOWN_STYLE_MESSAGE.format(style=style, choices=", ".join(STYLES)))
    return style


KEYS = KEY_NAMES  # the engine's 24 key names (the studio's key control offers the same)
WRITES_WITHOUT_INPUT = True  # melody=generate, or an input with no notes: the sampler writes the soprano too
VARIANT_PARAM = "style"  # the parameter that picks the shipped checkpoint (pipeline.checkpoint_variant)

PARAMS = (
    ChoiceParam("style", tuple(STYLES), DEFAULT_STYLE, "the style, i.e. the checkpoint: " + " ".join(
        f"{name}: {sentence}" for name, sentence in STYLES.items())),
    ChoiceParam("melody", ("input", "generate"), "input", "input: accompany the input's highest track; generate: "
                "write a soprano too (a Markov chain fitted to the style's training sopranos), then accompany it "
                "(also when the input has no notes)"),
    NumberParam("bars", 1, 32, 8, True, "bars of 4/4 to write when the soprano is generated"),
    ChoiceParam("key", KEYS, "C major", "the key of a generated soprano (an input melody keeps its own key)"),
    ProgramsParam("programs", N_VOICES, (0, 0, 0), "General MIDI programs of the alto, tenor and bass tracks"),
    SEED,
)
# A user's training run (the studio's Train page): always from scratch (a fresh discriminator would wreck the shipped
# generator's weights before it learned anything). A step is one discriminator and one generator update; ~1.1 s a step
# at batch 16 on one torch thread of the 2-core CPU shared with ~8 jobs (less on a quiet machine): the default 250
# steps, where the shipped run's validation cross-entropy was already within 1 % of its best, take a few minutes.
TRAIN_PARAMS = training_params(steps=(1, 2000, 250), learning_rate=(1e-5, 1e-2, 1e-3), batch_size=(2, 64, 16),
                               model_size=(16, 192, 128, "generator channels"), can_fine_tune=False,
                               step_text="steps (one discriminator and one generator update each)")
MIN_TRAINING_TRACKS = 2  # the highest track is the melody; the next three by pitch are the parts it learns to write


@dataclass(frozen=True)
class GANConfig:
    lowest_pitch: int = 28  # E1: the chorale bass reaches C2 (36), minus the -5 semitone training transposition
    n_pitches: int = 64  # 28..91: every chorale voice under every training transposition (-5..+6) fits; a denser
    #                      input than 128 rows, so the first and last layers stay small
    window_steps: int = 64  # 4 bars of 4/4 (16 steps a bar): long enough for a cadence; the sampler walks windows
    context_steps: int = 16  # the first bar of a window holds the end of the previous window's parts (given, not
    #                          generated), so voices continue across window edges; hop = 48 steps
    melody_center: int = 71  # the chorale sopranos' median pitch (B4): a melody is transposed so its median is here
    hidden: int = 128  # generator channels (1-D convs over time, pitches as channels): ~1 M parameters, the size a
    #                    probe showed learns the chorales' harmony in minutes on one CPU thread
    levels: int = 2  # stride-2 downsamplings in the generator's U-Net: 64 steps -> 16 (one step a beat) at the bottom
    noise_dim: int = 32  # noise channels per bottleneck step (one noise vector a beat), the seedable randomness
    critic_hidden: int = 64  # discriminator channels (training only; not in the checkpoint's tensors)


# Inclusive bounds for every config field (a checkpoint's config is untrusted input).
CONFIG_BOUNDS: dict[str, tuple[int, int]] = {
    "lowest_pitch": (0, 127),
    "n_pitches": (12, 128),
    "window_steps": (8, 256),
    "context_steps": (0, 128),
    "melody_center": (0, 127),
    "hidden": (8, 1024),
    "levels": (0, 4),
    "noise_dim": (1, 256),
    "critic_hidden": (8, 1024),
}


def config_from_dict(raw: dict) -> GANConfig:
    """Config from untrusted JSON; unknown fields, wrong types and out-of-bounds values raise CheckpointError."""
    values = bounded_config_values(GANConfig, raw, architecture=ARCHITECTURE, int_bounds=CONFIG_BOUNDS)
    if values["lowest_pitch"] + values["n_pitches"] > 128:
        raise CheckpointError("bad_config", f"gan lowest_pitch + n_pitches must be at most 128, found "
                                            f"{values['lowest_pitch']} + {values['n_pitches']}")
    if values["window_steps"] % (2 ** values["levels"]):
        raise CheckpointError("bad_config", f"gan window_steps ({values['window_steps']}) must be a multiple of "
                                            f"2**levels ({2 ** values['levels']})")
    if values["context_steps"] >= values["window_steps"]:
        raise CheckpointError("bad_config", f"gan context_steps ({values['context_steps']}) must be below "
                                            f"window_steps ({values['window_steps']})")
    return GANConfig(**values)


def config_to_dict(config: GANConfig) -> dict:
    return asdict(config)


def track_channels(config: GANConfig) -> int:
    """Channels of one track at one step: for the melody and the context the generator reads, a pitch one-hot
    (n_pitches), a rest and an onset flag; for the parts it writes, an event one-hot (n_pitches onsets, HOLD, rest)."""
    return config.n_pitches + 2


def generator_in_channels(config: GANConfig) -> int:
    """Melody track + 2 meter flags (beat start, bar start) + the 3 context tracks + the context mask."""
    return track_channels(config) + 2 + N_VOICES * track_channels(config) + 1


def critic_in_channels(config: GANConfig) -> int:
    """Melody track + 2 meter flags + the 3 accompaniment tracks."""
    return track_channels(config) + 2 + N_VOICES * track_channels(config)


def _conv(prefix: str, c_out: int, c_in: int, k: int) -> dict[str, tuple[tuple[int, ...], str]]:
    # model.TimeConv is a (1 x k) Conv2d: weight (C_out, C_in, 1, k)
    return {f"{prefix}.weight": ((c_out, c_in, 1, k), "float32"), f"{prefix}.bias": ((c_out,), "float32")}


def _res_block(prefix: str, c: int) -> dict[str, tuple[tuple[int, ...], str]]:
    return {**_conv(f"{prefix}.conv1", c, c, 3), **_conv(f"{prefix}.conv2", c, c, 3)}


def tensor_specs(config: GANConfig) -> dict[str, tuple[tuple[int, ...], str]]:
    """Every state_dict entry of model.Generator(config): name -> (shape, dtype). Tested equal to the real one."""
    h, specs = config.hidden, {}
    specs.update(_conv("inp", h, generator_in_channels(config), 3))
    for level in range(config.levels):
        specs.update(_res_block(f"down.{level}", h))
        specs.update(_conv(f"pool.{level}", h, h, 4))
    specs.update(_conv("mid_in", h, h + config.noise_dim, 3))
    specs.update(_res_block("mid", h))
    for level in range(config.levels):
        specs[f"up.{level}.weight"] = ((h, h, 1, 4), "float32")  # transposed conv weight: (in, out, 1, k)
        specs[f"up.{level}.bias"] = ((h,), "float32")
        specs.update(_conv(f"merge.{level}", h, 2 * h, 1))
        specs.update(_res_block(f"dec.{level}", h))
    specs.update(_conv("out", N_VOICES * track_channels(config), h, 1))
    return specs


def n_parameters(config: GANConfig) -> int:
    return parameter_count(tensor_specs(config))
