"""Train the GAN accompaniment model (`manage.py train gan [--style S] [--data DIR]` calls `train` through the
registry). `style` picks the corpus (spec.STYLES): chorale, the Bach chorales; renaissance, a subset of Palestrina
reduced to four voices (palestrina.py); the recipe is the same.

Data: each chorale's soprano is the melody and alto, tenor and bass the accompaniment (with `--data DIR`: each file's
highest track by mean pitch is the melody and the next three by pitch the accompaniment), each voice read as one line
(its highest pitch a step). Each piece is moved into C major / A minor by its melody's estimated key, and by octaves
so the melody sits near `melody_center` (`encoding.model_shift`, what the sampler does to a user's melody), so the
model learns one key. Training windows are `window_steps` long and start every bar. Half of the windows get their
first bar of real accompaniment as context (the sampler's later windows), half none (its first window).

A conditional GAN in the pix2pix manner, generator and discriminator updated in alternating steps:
- discriminator loss: binary cross-entropy, real parts (event one-hots) -> 1, generated parts -> 0, both with the
  melody and meter beside them;
- generator loss: the reconstruction cross-entropy of the real parts' events (weight annealed on a cosine from 1 to
  `recon_floor`) + `adv_weight` x the adversarial term (the discriminator's BCE on generated parts, drawn as hard
  one-hots with the straight-through Gumbel-softmax, so it judges parts as the sampler would draw them) +
  `mode_seeking_weight` x the mode-seeking term (two noise draws for the same melody should give parts that differ:
  1 / (total variation between p1 and p2 / mean |z1 - z2| + eps), MSGAN).
Every `eval_every` steps the validation cross-entropy is measured on every validation window (the kept weights are the
ones where it is lowest: the "when to stop") and the generator accompanies every validation soprano exactly as the
sampler does, for the four per-track measures against the real parts. Files: model.safetensors + config.json,
loss.png (generator loss, discriminator loss, validation cross-entropy), measures.png (the measures over training
against the training set's values), MODEL_CARD.md.
"""

from __future__ import annotations

import copy
import json
import math
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from tqdm import tqdm

from generation.engine import training
from generation.engine.checkpoint import save_checkpoint
from generation.engine.dataset import Piece, load_chorales, load_palestrina
from generation.engine.models.gan import spec
from generation.engine.models.gan.encoding import (
    REST,
    TRACK_MEASURES,
    estimate_key,
    fold_into_range,
    line_to_roll,
    mean_measures,
    melody_for_model,
    meter_flags,
    model_shift,
    one_hot,
    part_events,
    relative_difference,
    top_line,
    track_measures,
)
from generation.engine.models.gan.model import (
    Critic,
    Generator,
    accompany,
    generator_input,
    with_context,
)
from generation.engine.models.gan.spec import (
    ARCHITECTURE,
    DEFAULT_STYLE,
    N_VOICES,
    VOICE_NAMES,
    GANConfig,
    check_style,
    n_parameters,
)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000  # steps (one discriminator and one generator update each): ~37 min on one thread of the
    #                    2-core CPU shared with ~8 jobs (1.1 s a step)
    batch_size: int = 16  # windows a step (the generator sees each twice, once per noise draw)
    lr: float = 1e-3  # Adam for both nets
    betas: tuple[float, float] = (0.5, 0.999)  # pix2pix's
    lr_floor: float = 0.1  # cosine decay (training.lr_scheduler, per step) to this share of lr
    recon_floor: float = 0.5  # the reconstruction weight anneals from 1 to this on a cosine: the real parts teach
    #                           harmony first, the discriminator's say grows relatively later
    adv_weight: float = 0.05  # the adversarial term: small, so that it shapes but never outvotes the real parts
    mode_seeking_weight: float = 0.002  # the mode-seeking term (at most 1 / eps = 20, so <= 0.04 here): a nudge
    #                                     to use the noise, small beside the reconstruction (~1 nat)
    context_fraction: float = 0.5  # share of windows whose first bar of real parts is given (later sampler windows)
    hop: int = 16  # training windows start every 16 steps (a 4/4 bar)
    transpose_range: int = 0  # train-only augmentation: shift by -r..+r semitones after the key normalization (the
    #                           sampler normalizes each melody's key the same way, so 0: one key to learn)
    eval_every: int = 250  # measure validation every this many steps (and at the end)
    seed: int = 0


MODE_SEEKING_EPS = 0.05  # keeps the mode-seeking term bounded (<= 20) when the noise is ignored


@dataclass
class Lines:
    """A piece as lines: pitch (4, T) (REST = -1), onset (4, T), meter (T, 2); track 0 is the melody."""

    name: str
    pitch: np.ndarray
    onset: np.ndarray
    meter: np.ndarray
    steps_per_bar: int


def piece_lines(piece: Piece, center: int) -> Lines:
    """The piece's four lines, moved as the sampler moves a melody (``model_shift`` of its soprano)."""
    pitch, onset = zip(*(top_line(piece.rolls[v], None if piece.onsets is None else piece.onsets[v])
                         for v in range(1 + N_VOICES)), strict=True)
    pitch = np.stack(pitch)
    shift = model_shift(pitch[0], center)
    return Lines(piece.name, np.where(pitch >= 0, pitch + shift, REST), np.stack(onset),
                 meter_flags(piece.rolls.shape[1], piece.steps_per_bar), piece.steps_per_bar)


def style_corpus(style: str = DEFAULT_STYLE):
    """The loader of a style's corpus (the default data; a ``data`` folder overrides the style)."""
    check_style(style)
    return load_palestrina if style == "renaissance" else load_chorales


def describe_data(corpus: training.Corpus, style: str = DEFAULT_STYLE) -> str:
    """What the card says the model was trained on."""
    if corpus.folder is not None:
        return (f"MIDI folder {corpus.folder}, train split (stable name hash): highest track -> the next three by "
                "pitch")
    if style == "renaissance":
        return ("music21 Palestrina (a subset: see palestrina.py), reduced to the four voices nearest SATB, train "
                "split (file index % 10 not in {0, 1}): highest voice -> alto, tenor, bass")
    return "music21 Bach chorales, train split (r % 10 not in {0, 1}): soprano -> alto, tenor, bass"


class WindowSampler:
    """Random training windows: melody (B, W, K), meter (B, W, 2), parts (B, V, W, K), context mask (B, W)."""

    def __init__(self, lines: list[Lines], model_config: GANConfig, cfg: TrainConfig, rng: np.random.Generator):
        self.lines, self.mc, self.cfg, self.rng = lines, model_config, cfg, rng
        w = model_config.window_steps
        index = []
        for i, piece in enumerate(lines):
            n = piece.pitch.shape[1]
            for start in range(0, max(n - w, 0) + 1, cfg.hop):
                if (piece.pitch[0, start:start + w] >= 0).any():
                    index.append((i, start))
        self.index = np.array(index, dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.index)

    def batch(self, device: str) -> tuple[torch.Tensor, ...]:
        """A random batch: melody (B, W, K), meter (B, W, 2), parts as lines one-hot (B, V, W, K) (the context the
        generator reads), context mask (B, W), the parts' events (B, V, W) int64 (what it learns to write)."""
        b = self.cfg.batch_size
        shifts = self.rng.integers(-self.cfg.transpose_range, self.cfg.transpose_range + 1, b)
        mask = self.rng.random(b) < self.cfg.context_fraction
        return self._windows(self.rng.integers(0, len(self.index), b), shifts, mask, device)

    def every(self, device: str, batch_size: int = 256):
        """Every window once, in order, no context and no transposition (validation): batches as ``batch``."""
        for first in range(0, len(self.index), batch_size):
            rows = np.arange(first, min(first + batch_size, len(self.index)))
            yield self._windows(rows, np.zeros(len(rows), dtype=np.int64), np.zeros(len(rows), dtype=bool), device)

    def _windows(self, rows: np.ndarray, shifts: np.ndarray, with_context: np.ndarray,
                 device: str) -> tuple[torch.Tensor, ...]:
        mc, w = self.mc, self.mc.window_steps
        b = len(rows)
        pitch = np.full((b, 1 + N_VOICES, w), REST)
        onset = np.zeros((b, 1 + N_VOICES, w), dtype=bool)
        meter = np.zeros((b, w, 2), dtype=np.float32)
        for k, row in enumerate(rows):
            i, start = self.index[row]
            piece = self.lines[i]
            part = piece.pitch[:, start:start + w]
            n = part.shape[1]
            pitch[k, :, :n] = np.where(part >= 0, part + shifts[k], REST)
            onset[k, :, :n] = piece.onset[:, start:start + w]
            meter[k, :n] = piece.meter[start:start + w]
        low, high = mc.lowest_pitch, mc.lowest_pitch + mc.n_pitches - 1
        pitch = fold_into_range(pitch, low, high)
        tracks = torch.from_numpy(one_hot(pitch, onset, low, mc.n_pitches))
        events = torch.from_numpy(part_events(pitch[:, 1:], onset[:, 1:], low, mc.n_pitches))
        mask = torch.zeros((b, w))
        mask[torch.from_numpy(with_context), : mc.context_steps] = 1.0
        return (tracks[:, 0].to(device), torch.from_numpy(meter).to(device), tracks[:, 1:].to(device),
                mask.to(device), events.to(device))


def real_measures(pieces: list[Piece]) -> dict[str, dict[str, float]]:
    """Mean measures of each real accompaniment track, in each piece's key as its melody gives it."""
    rows: dict[str, list] = {name: [] for name in VOICE_NAMES}
    for piece in pieces:
        key = estimate_key(piece.rolls[0])
        for v, name in enumerate(VOICE_NAMES):
            onsets = None if piece.onsets is None else piece.onsets[1 + v]
            rows[name].append(track_measures(piece.rolls[1 + v], onsets, key, piece.steps_per_bar))
    return {name: mean_measures(r) for name, r in rows.items()}


def generated_measures(model: Generator, pieces: list[Piece], seed: int = 0) -> dict[str, dict[str, float]]:
    """Accompany every piece's melody as the sampler does (one batch) and measure the generated parts."""
    config = model.config
    lines = [top_line(p.rolls[0], None if p.onsets is None else p.onsets[0]) for p in pieces]
    n = max(len(pitch) for pitch, _ in lines)
    pitch = np.full((len(pieces), n), REST)
    onset = np.zeros((len(pieces), n), dtype=bool)
    shifts = np.zeros(len(pieces), dtype=np.int64)
    for k, (p, o) in enumerate(lines):
        (pitch[k, : len(p)], shifts[k]), onset[k, : len(o)] = melody_for_model(p, config), o
    spb = np.array([p.steps_per_bar for p in pieces])
    voices, voice_onsets = accompany(model, pitch, onset, spb, torch.Generator().manual_seed(seed))
    voices = np.where(voices >= 0, voices - shifts[:, None, None], REST)  # back into each piece's key
    rows: dict[str, list] = {name: [] for name in VOICE_NAMES}
    for k, piece in enumerate(pieces):
        t = piece.rolls.shape[1]
        key = estimate_key(piece.rolls[0])
        for v, name in enumerate(VOICE_NAMES):
            roll, onsets = line_to_roll(voices[k, v, :t], voice_onsets[k, v, :t])
            rows[name].append(track_measures(roll, onsets, key, piece.steps_per_bar))
    return {name: mean_measures(r) for name, r in rows.items()}


# ------------------------------------------------------------------------------------------------------ plots, card
def save_loss_plot(history: dict, path: Path) -> None:
    """Generator loss and discriminator loss per step (moving mean), the reconstruction cross-entropy inside the
    generator loss, and the validation cross-entropy at each evaluation (the lowest point: when to stop)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.asarray(history["steps"])
    k = max(1, len(steps) // 100)
    for key, label in (("discriminator_loss", "discriminator loss (real -> 1, generated -> 0)"),
                       ("generator_loss", "generator loss (reconstruction + adversarial + mode seeking)"),
                       ("reconstruction", "reconstruction cross-entropy (training)")):
        values = np.convolve(history[key], np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1:], values, label=label)
    if history["eval_steps"]:
        ax.plot(history["eval_steps"], history["eval_gap"], "ko-", markersize=3,
                label="validation cross-entropy (kept weights: its lowest)")
        best = int(np.argmin(history["eval_gap"]))
        ax.axvline(history["eval_steps"][best], color="grey", linestyle=":", label="when to stop")
    ax.set_xlabel("step (one discriminator and one generator update)")
    ax.set_ylabel(f"loss (moving mean of {k})")
    ax.set_title("GAN accompaniment training (conditional GAN, pix2pix manner)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_measures_plot(history: dict, train_real: dict, path: Path) -> None:
    """One panel per measure: each accompaniment track's validation value over training (solid) against the
    training set's value (dashed, same colour)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(TRACK_MEASURES), figsize=(16, 3.6))
    for ax, measure in zip(axes, TRACK_MEASURES, strict=True):
        for v, name in enumerate(VOICE_NAMES):
            colour = f"C{v}"
            values = [row[name][measure] for row in history["eval_measures"]]
            ax.plot(history["eval_steps"], values, "o-", color=colour, markersize=3, label=f"{name} generated")
            ax.axhline(train_real[name][measure], color=colour, linestyle="--", label=f"{name} training set")
        ax.set_title(measure.replace("_", " "))
        ax.set_xlabel("generator step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("Validation accompaniment vs training set, per track (stop when the solid lines meet the dashed)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def measures_table(generated: dict, real: dict, real_label: str) -> list[str]:
    lines = [f"| track | measure | generated | {real_label} | relative difference |", "|---|---|---|---|---|"]
    for name in VOICE_NAMES:
        for m in TRACK_MEASURES:
            g, r = generated[name][m], real[name][m]
            lines.append(f"| {name} | {m} | {g:.3f} | {r:.3f} | {100 * relative_difference(g, r):.1f} % |")
    return lines


def write_model_card(out: Path, model_config: GANConfig, cfg: TrainConfig, metrics: dict, trained_on: str, *,
                     data: str | Path | None, steps: int | None, options: dict | None = None,
                     style: str = DEFAULT_STYLE) -> None:
    """MODEL_CARD.md from the metrics (also rewritable later from config.json: everything comes from ``metrics``)."""
    interrupted = metrics["steps"] < metrics["planned_steps"]
    facts = [
        f"data: {trained_on}; {metrics['n_train_windows']} windows of {model_config.window_steps} steps every "
        f"{cfg.hop} steps, each piece moved into C major / A minor as the sampler moves a melody"
        + (f" and transposed by -{cfg.transpose_range}..+{cfg.transpose_range} semitones when drawn"
           if cfg.transpose_range else "") + ", "
        f"{100 * cfg.context_fraction:g} % with their first bar of real parts given as context; validation: the "
        f"valid split (r % 10 == 1 for the chorales, file index % 10 == 1 for Palestrina), "
        f"{metrics['n_valid_pieces']} pieces, accompanied whole as the "
        "sampler does",
        f"steps: {metrics['steps']}" + (f" (interrupted; {metrics['planned_steps']} planned)" if interrupted else "")
        + f" steps (one discriminator and one generator update each) at batch {cfg.batch_size}, Adam lr {cfg.lr:g} "
        f"betas {tuple(cfg.betas)}" + (f" (cosine decay to {cfg.lr_floor:g} x lr)" if cfg.lr_floor < 1 else
                                       " (constant)")
        + f"; generator loss = reconstruction cross-entropy (weight 1 -> {cfg.recon_floor:g}, cosine) + "
        f"{cfg.adv_weight:g} x adversarial + {cfg.mode_seeking_weight:g} x mode seeking",
        f"time: {metrics['train_seconds'] / 60:.1f} min on {metrics['machine']} (device {metrics['device']}, torch "
        f"threads {metrics['threads']}; a 2-core CPU shared with other training runs)",
        f"kept weights: step {metrics['best_step']} (lowest validation cross-entropy, "
        f"{metrics['best_valid_loss']:.3f} nats per voice and step, checked every {cfg.eval_every} steps)",
        f"model: generator {metrics['n_parameters']:,} parameters (the checkpoint); discriminator "
        f"{metrics['n_critic_parameters']:,} (training only); config: `{json.dumps(asdict(model_config))}`",
        "files: loss.png (generator loss, discriminator loss, validation cross-entropy: when to stop), "
        "measures.png (per-track measures of the validation accompaniment over training against the training "
        "set's values)",
    ]
    table = ["## Validation measures of the kept weights (valid split, generated vs real parts)", "",
             *measures_table(metrics["valid_generated"], metrics["valid_real"], "real (valid)")]
    default = data is None and steps is None and cfg.steps == TrainConfig().steps and model_config == GANConfig()
    title = training.card_title("GAN accompaniment", data=data, default=default)
    command = training.reproduce_command(ARCHITECTURE, data=data, steps=steps, options=options)
    if style != DEFAULT_STYLE and data is None:
        title, command = f"GAN accompaniment, {style} style", f"{command} --style {style}"
    training.write_model_card(
        out, title=title,
        summary="A conditional GAN in the pix2pix manner: a melody in, alto, tenor and bass lines out (one event a "
                "sixteenth step each: a note starts, is held, or a rest), 4-bar windows walked every 3 bars with "
                "the previous window's last bar as context (DeepComposer's GAN task).",
        command=command, facts=facts,
        extra="\n".join(table))


# ------------------------------------------------------------------------------------------------------ training
def recipe_for_options(options: dict) -> tuple[GANConfig, TrainConfig]:
    """A user's TRAIN_PARAMS (spec.TRAIN_PARAMS, validated) as (model config, training recipe); always from scratch."""
    recipe = training.options_recipe(options)
    cfg = replace(TrainConfig(), **recipe, eval_every=max(10, recipe["steps"] // 6))
    size = options.get("model_size")
    return (GANConfig() if size is None else replace(GANConfig(), hidden=int(size))), cfg


def flat_measures(measures: dict[str, dict[str, float]]) -> dict[str, float]:
    """{track: {measure: value}} -> {"alto in key rate": value, ...}: one series per track and measure."""
    return {f"{track.lower()} {name.replace('_', ' ')}": float(value)
            for track, row in measures.items() for name, value in row.items()}


def generator_logits(gen: Generator, batch: tuple[torch.Tensor, ...], draws: int = 1) -> torch.Tensor:
    """The generator's event logits (draws * B, V, W, K) for a batch, one noise draw per copy of the batch."""
    melody, meter, parts, mask, _events = batch
    cond = generator_input(melody, meter, parts, mask).repeat(draws, 1, 1)
    noise = torch.randn(gen.noise_shape(len(cond), melody.shape[1]), device=melody.device)
    return gen(cond, noise), noise


def reconstruction_loss(logits: torch.Tensor, events: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the real events (B, V, W) under logits (B, V, W, K), over the steps not given as context."""
    free = (1 - mask)[:, None, :].expand_as(events)  # (B, V, W)
    ce = F.cross_entropy(logits.flatten(0, 2), events.flatten(), reduction="none")
    return (ce * free.flatten()).sum() / free.sum().clamp(min=1)


def event_one_hots(events: torch.Tensor, k: int) -> torch.Tensor:
    return F.one_hot(events, k).float()  # (B, V, W) -> (B, V, W, K)


def train_step(gen: Generator, critic: Critic, opt_g: torch.optim.Optimizer, opt_c: torch.optim.Optimizer,
               batch: tuple[torch.Tensor, ...], cfg: TrainConfig, recon_weight: float) -> dict[str, float]:
    """One discriminator update then one generator update on the same batch (see the module docstring).
    Returns the losses: discriminator, generator (its whole loss), reconstruction, adversarial, mode seeking."""
    melody, meter, _parts, mask, events = batch
    b, k = len(melody), gen.config.n_pitches + 2
    real = event_one_hots(events, k)  # (B, V, W, K)
    logits, noise = generator_logits(gen, batch, draws=2)  # (2B, V, W, K), noise (2B, Z, W')
    fake = with_context(F.gumbel_softmax(logits[:b], tau=1.0, hard=True), real, mask)  # straight-through one-hots

    d_real, d_fake = critic(melody, meter, real), critic(melody, meter, fake.detach())
    d_loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
              + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
    opt_c.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_c.step()

    d_gen = critic(melody, meter, fake)
    adversarial = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
    recon = reconstruction_loss(logits, events.repeat(2, 1, 1), mask.repeat(2, 1))
    probs = logits.softmax(-1)
    spread = 0.5 * (probs[:b] - probs[b:]).abs().sum(-1).mean() / (noise[:b] - noise[b:]).abs().mean()  # TV / |dz|
    mode_seeking = 1.0 / (spread + MODE_SEEKING_EPS)
    g_loss = recon_weight * recon + cfg.adv_weight * adversarial + cfg.mode_seeking_weight * mode_seeking
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return {"discriminator": d_loss.item(), "generator": g_loss.item(), "reconstruction": recon.item(),
            "adversarial": adversarial.item(), "mode_seeking": mode_seeking.item()}


@torch.no_grad()
def validation_loss(gen: Generator, windows: WindowSampler, device: str) -> float:
    """Mean reconstruction cross-entropy (nats per voice-step) over every validation window, noise drawn."""
    gen.eval()
    total, count = 0.0, 0
    state = torch.get_rng_state()
    torch.manual_seed(0)  # the same noise at every evaluation
    for batch in windows.every(device):
        logits, _ = generator_logits(gen, batch)
        total += reconstruction_loss(logits, batch[4], batch[3]).item() * len(logits)
        count += len(logits)
    torch.set_rng_state(state)
    gen.train()
    return total / max(count, 1)


def recon_weight_at(step: int, cfg: TrainConfig) -> float:
    """The reconstruction weight: 1 at step 0, cosine down to ``recon_floor`` at the last step."""
    return cfg.recon_floor + (1 - cfg.recon_floor) * 0.5 * (1 + math.cos(math.pi * step / max(cfg.steps, 1)))


def train(*, data: str | Path | None = None, steps: int | None = None, out: str | Path,
          device: str = "cpu", progress: bool = True, on_progress: training.ProgressCallback | None = None,
          model_config: GANConfig | None = None, train_config: TrainConfig | None = None,
          options: dict | None = None, on_metrics: training.MetricsCallback | None = None,
          max_seconds: float | None = None, style: str = DEFAULT_STYLE) -> dict:
    """Train the GAN and write model.safetensors, config.json, loss.png, measures.png and MODEL_CARD.md to ``out``
    (`manage.py train gan` passes the shipped checkpoint's folder: loading.default_checkpoint_dir). ``steps`` =
    generator steps. ``options``: a user's TRAIN_PARAMS (recipe_for_options); ``on_metrics`` gets the losses every
    REPORT_EVERY steps and the per-track measures (with the training set's values at step 0) as they are measured;
    ``max_seconds`` stops early, keeping the best weights. Returns the metrics."""
    if options is not None:
        model_config, train_config = recipe_for_options(options)
    mc = model_config or GANConfig()
    cfg = training.with_steps(train_config or TrainConfig(), steps)
    run = training.start(config=cfg, out=out, data=data, device=device, default=style_corpus(style))
    out, rng, train_pieces, valid_pieces = run.out, run.rng, run.corpus.train, run.corpus.valid
    trained_on = describe_data(run.corpus, style)
    windows = WindowSampler([piece_lines(p, mc.melody_center) for p in train_pieces], mc, cfg, rng)
    valid_windows = WindowSampler([piece_lines(p, mc.melody_center) for p in valid_pieces], mc, cfg, rng)
    train_real, valid_real = real_measures(train_pieces), real_measures(valid_pieces)
    if on_metrics is not None:
        on_metrics(0, {f"train set: {name}": value for name, value in flat_measures(train_real).items()})

    gen, critic = Generator(mc).to(device), Critic(mc).to(device)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=cfg.betas)
    opt_c = torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=cfg.betas)
    schedulers = [training.lr_scheduler(opt, steps=cfg.steps, warmup_steps=0, lr_floor=cfg.lr_floor)
                  for opt in (opt_g, opt_c)]

    history: dict[str, list] = {"steps": [], "discriminator_loss": [], "generator_loss": [], "reconstruction": [],
                                "adversarial": [], "mode_seeking": [], "eval_steps": [], "eval_measures": [],
                                "eval_gap": []}
    best = (math.inf, 0, copy.deepcopy(gen.state_dict()), None)
    started = time.perf_counter()
    bar = training.progress_bar(cfg.steps, desc="train gan", progress=progress)
    for step in bar:
        losses = train_step(gen, critic, opt_g, opt_c, windows.batch(device), cfg, recon_weight_at(step, cfg))
        for scheduler in schedulers:
            scheduler.step()
        history["steps"].append(step + 1)
        history["discriminator_loss"].append(losses["discriminator"])
        for key in ("generator", "reconstruction", "adversarial", "mode_seeking"):
            history[key if key != "generator" else "generator_loss"].append(losses[key])
        out_of_time = max_seconds is not None and time.perf_counter() - started > max_seconds
        if on_metrics is not None and ((step + 1) % training.REPORT_EVERY == 0 or step + 1 == cfg.steps):
            recent = slice(-((step % training.REPORT_EVERY) + 1), None)
            on_metrics(step + 1, {"discriminator_loss": float(np.mean(history["discriminator_loss"][recent])),
                                  "generator_loss": float(np.mean(history["generator_loss"][recent]))})
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps or out_of_time:
            valid_ce = validation_loss(gen, valid_windows, device)
            measured = generated_measures(gen, valid_pieces)
            if on_metrics is not None:  # the validation cross-entropy: the studio's "when to stop" line
                on_metrics(step + 1, {"valid_loss": valid_ce, **flat_measures(measured)})
            history["eval_steps"].append(step + 1)
            history["eval_measures"].append(measured)
            history["eval_gap"].append(valid_ce)
            if valid_ce < best[0]:
                best = (valid_ce, step + 1, copy.deepcopy(gen.state_dict()), measured)
                if step + 1 < cfg.steps:  # an interrupted run leaves the best weights so far
                    _write_outputs(out, data, steps, gen, critic, mc, cfg, history, best, trained_on, device,
                                   time.perf_counter() - started, len(windows), len(valid_pieces), train_real,
                                   valid_real, options=options, style=style)
            gen.train()
            if progress:
                tqdm.write(f"step {step + 1}: validation cross-entropy {valid_ce:.3f} " + json.dumps(
                    {t: {m: round(v, 3) for m, v in row.items()} for t, row in measured.items()}))
            bar.set_postfix(d=f"{losses['discriminator']:.2f}", ce=f"{valid_ce:.3f}",
                            best=f"{best[0]:.3f}@{best[1]}")
        if on_progress is not None:
            on_progress(step + 1, cfg.steps)
        if out_of_time:
            break
    return _write_outputs(out, data, steps, gen, critic, mc, cfg, history, best, trained_on, device,
                          time.perf_counter() - started, len(windows), len(valid_pieces), train_real, valid_real,
                          options=options, style=style)


def _write_outputs(out: Path, data, steps_given: int | None, gen: Generator, critic: Critic, mc: GANConfig,
                   cfg: TrainConfig, history: dict, best: tuple, trained_on: str, device: str, train_seconds: float,
                   n_windows: int, n_valid: int, train_real: dict, valid_real: dict,
                   options: dict | None = None, style: str = DEFAULT_STYLE) -> dict:
    """Write the best weights so far, the plots and the card (after each improvement, so an interrupted run leaves
    a usable checkpoint, and at the end). Returns the metrics."""
    best_gen = Generator(mc)
    best_gen.load_state_dict(best[2])
    metrics = {
        "steps": history["steps"][-1] if history["steps"] else 0,
        "planned_steps": cfg.steps,
        "best_step": best[1],
        "best_valid_loss": round(best[0], 4),
        "valid_generated": best[3],
        "valid_real": valid_real,
        "train_real": train_real,
        "train_seconds": round(train_seconds, 1),
        "device": device,
        "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} CPU" if device == "cpu" else device,
        "n_train_windows": n_windows,
        "n_valid_pieces": n_valid,
        "n_parameters": n_parameters(mc),
        "n_critic_parameters": sum(p.numel() for p in critic.parameters()),
        "train_config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()},
    }
    save_checkpoint(best_gen, spec=spec, config=asdict(mc), out=out, trained_on=trained_on,
                    metrics=metrics)
    save_loss_plot(history, out / "loss.png")
    save_measures_plot(history, train_real, out / "measures.png")
    write_model_card(out, mc, cfg, metrics, trained_on, data=data, steps=steps_given, options=options, style=style)
    return metrics
