"""Train the GAN accompaniment model (`manage.py train gan [--data DIR]` calls `train` through the registry).

Data: each chorale's soprano is the melody and alto, tenor and bass the accompaniment (with `--data DIR`: each file's
highest track by mean pitch is the melody and the next three by pitch the accompaniment), each voice read as one line
(its highest pitch a step). Each piece is moved into C major / A minor by its melody's estimated key, and by octaves
so the melody sits near `melody_center` (`encoding.model_shift`, what the sampler does to a user's melody), so the
model learns one key. Training windows are `window_steps` long and start every bar. Half of the windows get their
first bar of real accompaniment as context (the sampler's later windows), half none (its first window).

WGAN-GP as DeepComposer: 5 critic steps per generator step, gradient penalty weight 10, Adam with betas (0.5, 0.9);
`lr_floor` < 1 lets both learning rates decay on a cosine (the training toolkit's `lr_scheduler`); the default keeps
them constant, as the reference does.
Every `eval_every` steps the generator accompanies every validation soprano exactly as the sampler does, and the four
per-track measures (in-key rate, pitches used, polyphony, empty-bar rate) are recorded against the real validation
and training parts; the weights whose measures are closest to the real validation parts (mean relative difference)
are the ones saved. Files: model.safetensors + config.json, loss.png (critic and generator losses), measures.png
(the measures over training against the training set's values), MODEL_CARD.md.
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
from tqdm import tqdm

from generation.engine import training
from generation.engine.checkpoint import save_checkpoint
from generation.engine.dataset import Piece, load_chorales, load_midi_folder, pieces_split
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
    relative_difference,
    top_line,
    track_measures,
)
from generation.engine.models.gan.model import (
    Critic,
    Generator,
    accompany,
    generator_input,
    gradient_penalty,
    soft_tracks,
    with_context,
)
from generation.engine.models.gan.spec import ARCHITECTURE, N_VOICES, VOICE_NAMES, GANConfig, n_parameters


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1200  # generator steps (x5 critic steps): ~30 min on one thread of the shared 2-core CPU; the best
    #                    validation gap came at step 500 (7.1 %), later steps drifted (12-23 %)
    batch_size: int = 16  # a quarter of the reference's 64: the CPU budget buys updates rather than samples
    critic_steps: int = 5  # critic updates per generator update (WGAN-GP's and the reference's)
    gp_weight: float = 10.0  # lambda of the gradient penalty (WGAN-GP's and the reference's)
    lr: float = 5e-4  # Adam for both nets; the reference's 1e-3 with batch 64, halved with the batch
    betas: tuple[float, float] = (0.5, 0.9)  # the reference's
    lr_floor: float = 1.0  # cosine decay (training.lr_scheduler, per generator step) to this share of lr; 1.0 keeps lr
    #                        constant, as the reference and the shipped run. A decay to 0.05 over 1,000 steps was
    #                        tried: validation gap 18.3 % at best (step 200) against the constant lr's 7.1 % (step 500)
    context_fraction: float = 0.5  # share of windows whose first bar of real parts is given (later sampler windows)
    hop: int = 16  # training windows start every 16 steps (a 4/4 bar)
    transpose_range: int = 0  # train-only augmentation: shift by -r..+r semitones after the key normalization (the
    #                           sampler normalizes each melody's key the same way, so 0: one key to learn)
    eval_every: int = 100  # measure the validation accompaniment every this many generator steps (and at the end)
    seed: int = 0


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


def load_pieces(data: str | Path | None) -> tuple[list[Piece], list[Piece], str]:
    """(train pieces, valid pieces, description). A folder without valid pieces validates on its train pieces."""
    if data is None:
        pieces = load_chorales()
        trained_on = "music21 Bach chorales, train split (r % 10 not in {0, 1}): soprano -> alto, tenor, bass"
    else:
        pieces = load_midi_folder(data)
        trained_on = (f"MIDI folder {Path(data).name}, train split (stable name hash): highest track -> the next "
                      "three by pitch")
    train_pieces, valid_pieces = pieces_split(pieces, "train"), pieces_split(pieces, "valid")
    if not train_pieces:
        train_pieces = valid_pieces or pieces_split(pieces, "test")
    if not valid_pieces:
        valid_pieces = train_pieces
    return train_pieces, valid_pieces, trained_on


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
        mc, cfg, w = self.mc, self.cfg, self.mc.window_steps
        b = cfg.batch_size
        pitch = np.full((b, 1 + N_VOICES, w), REST)
        onset = np.zeros((b, 1 + N_VOICES, w), dtype=bool)
        meter = np.zeros((b, w, 2), dtype=np.float32)
        shifts = self.rng.integers(-cfg.transpose_range, cfg.transpose_range + 1, b)
        for k, row in enumerate(self.rng.integers(0, len(self.index), b)):
            i, start = self.index[row]
            piece = self.lines[i]
            part = piece.pitch[:, start:start + w]
            n = part.shape[1]
            pitch[k, :, :n] = np.where(part >= 0, part + shifts[k], REST)
            onset[k, :, :n] = piece.onset[:, start:start + w]
            meter[k, :n] = piece.meter[start:start + w]
        low, high = mc.lowest_pitch, mc.lowest_pitch + mc.n_pitches - 1
        tracks = torch.from_numpy(one_hot(fold_into_range(pitch, low, high), onset, low, mc.n_pitches))
        mask = torch.zeros((b, w))
        mask[torch.from_numpy(self.rng.random(b) < cfg.context_fraction), : mc.context_steps] = 1.0
        return (tracks[:, 0].to(device), torch.from_numpy(meter).to(device), tracks[:, 1:].to(device),
                mask.to(device))


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


SELECTION_FLOOR = 0.05  # rates below this (the chorales' empty-bar rate is ~0.003) are compared on this scale


def measures_gap(generated: dict, real: dict) -> float:
    """Mean relative difference over tracks and measures, each capped at 1, a real value below SELECTION_FLOOR
    counting as the floor (one empty bar more or less must not outweigh the rest): the weight-selection criterion."""
    gaps = [min(1.0, abs(generated[t][m] - real[t][m]) / max(abs(real[t][m]), SELECTION_FLOOR))
            for t in VOICE_NAMES for m in TRACK_MEASURES if not math.isnan(generated[t][m])]
    return float(np.mean(gaps)) if gaps else 1.0


# ------------------------------------------------------------------------------------------------------ plots, card
def save_loss_plot(history: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.asarray(history["steps"])
    k = max(1, len(steps) // 100)
    for key, label in (("critic_loss", "critic (fake - real + GP)"), ("generator_loss", "generator (-critic(fake))"),
                       ("wasserstein", "Wasserstein estimate (real - fake)")):
        values = np.convolve(history[key], np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1:], values, label=label)
    ax.set_xlabel("generator step")
    ax.set_ylabel(f"loss (moving mean of {k})")
    ax.set_title("GAN accompaniment training (WGAN-GP)")
    ax.grid(alpha=0.3)
    ax.legend()
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
                     data: str | Path | None, steps: int | None, options: dict | None = None) -> None:
    """MODEL_CARD.md from the metrics (also rewritable later from config.json: everything comes from ``metrics``)."""
    interrupted = metrics["steps"] < metrics["planned_steps"]
    facts = [
        f"data: {trained_on}; {metrics['n_train_windows']} windows of {model_config.window_steps} steps every "
        f"{cfg.hop} steps, each piece moved into C major / A minor as the sampler moves a melody"
        + (f" and transposed by -{cfg.transpose_range}..+{cfg.transpose_range} semitones when drawn"
           if cfg.transpose_range else "") + ", "
        f"{100 * cfg.context_fraction:g} % with their first bar of real parts given as context; validation: the "
        f"valid split (r % 10 == 1 for the chorales), {metrics['n_valid_pieces']} pieces, accompanied whole as the "
        "sampler does",
        f"steps: {metrics['steps']}" + (f" (interrupted; {metrics['planned_steps']} planned)" if interrupted else "")
        + f" generator steps x {cfg.critic_steps} critic steps at batch {cfg.batch_size}, Adam lr {cfg.lr:g} betas "
        f"{tuple(cfg.betas)}" + (f" (cosine decay to {cfg.lr_floor:g} x lr)" if cfg.lr_floor < 1 else " (constant)")
        + f", gradient penalty {cfg.gp_weight:g}",
        f"time: {metrics['train_seconds'] / 60:.1f} min on {metrics['machine']} (device {metrics['device']}, torch "
        f"threads {metrics['threads']}; a 2-core CPU shared with other training runs)",
        f"kept weights: step {metrics['best_step']} (validation measures' mean relative difference "
        f"{100 * metrics['best_gap']:.1f} %, checked every {cfg.eval_every} steps)",
        f"model: generator {metrics['n_parameters']:,} parameters (the checkpoint); critic "
        f"{metrics['n_critic_parameters']:,} (training only); config: `{json.dumps(asdict(model_config))}`",
        "files: loss.png (critic and generator losses, Wasserstein estimate), measures.png (per-track measures of "
        "the validation accompaniment over training against the training set's values)",
    ]
    table = ["## Validation measures of the kept weights (valid split, generated vs real parts)", "",
             *measures_table(metrics["valid_generated"], metrics["valid_real"], "real (valid)")]
    default = data is None and steps is None and cfg.steps == TrainConfig().steps and model_config == GANConfig()
    training.write_model_card(
        out, title=training.card_title("GAN accompaniment", data=data, default=default),
        summary="A conditional WGAN-GP generator: a melody in, alto, tenor and bass lines out (one pitch or rest a "
                "sixteenth step each), 4-bar windows walked every 3 bars with the previous window's last bar as "
                "context (DeepComposer's GAN task).",
        command=training.reproduce_command(ARCHITECTURE, data=data, steps=steps, options=options), facts=facts,
        extra="\n".join(table))


# ------------------------------------------------------------------------------------------------------ training
def recipe_for_options(options: dict) -> tuple[GANConfig, TrainConfig]:
    """A user's TRAIN_PARAMS (spec.TRAIN_PARAMS, validated) as (model config, training recipe); always from scratch."""
    steps = int(options["steps"])
    cfg = replace(TrainConfig(), steps=steps, lr=float(options["learning_rate"]),
                  batch_size=int(options["batch_size"]), seed=int(options["seed"]), eval_every=max(10, steps // 6))
    size = options.get("model_size")
    return (GANConfig() if size is None else replace(GANConfig(), hidden=int(size))), cfg


def flat_measures(measures: dict[str, dict[str, float]]) -> dict[str, float]:
    """{track: {measure: value}} -> {"alto in key rate": value, ...}: one series per track and measure."""
    return {f"{track.lower()} {name.replace('_', ' ')}": float(value)
            for track, row in measures.items() for name, value in row.items()}


def fake_parts(gen: Generator, melody: torch.Tensor, meter: torch.Tensor, parts: torch.Tensor,
               mask: torch.Tensor) -> torch.Tensor:
    """The generator's soft parts (B, V, W, K) for a batch, the context steps (mask) taken from ``parts``."""
    noise = torch.randn(gen.noise_shape(len(melody), melody.shape[1]), device=melody.device)
    return with_context(soft_tracks(gen(generator_input(melody, meter, parts, mask), noise)), parts, mask)


def critic_step(gen: Generator, critic: Critic, optimizer: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...],
                gp_weight: float) -> tuple[float, float]:
    """One WGAN-GP critic update: loss = critic(fake) - critic(real) + gp_weight * GP. Returns (loss, the
    Wasserstein estimate critic(real) - critic(fake))."""
    melody, meter, real, mask = batch
    with torch.no_grad():
        fake = fake_parts(gen, melody, meter, real, mask)
    d_real, d_fake = critic(melody, meter, real), critic(melody, meter, fake)
    alpha = torch.rand(len(real), device=real.device)
    gp = gradient_penalty(lambda v: critic(melody, meter, v), real, fake, alpha)
    loss = d_fake.mean() - d_real.mean() + gp_weight * gp
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item(), (d_real.mean() - d_fake.mean()).item()


def generator_step(gen: Generator, critic: Critic, optimizer: torch.optim.Optimizer,
                   batch: tuple[torch.Tensor, ...]) -> float:
    """One generator update: loss = -critic(fake). Returns the loss."""
    melody, meter, real, mask = batch
    loss = -critic(melody, meter, fake_parts(gen, melody, meter, real, mask)).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def train(*, data: str | Path | None = None, steps: int | None = None, out: str | Path,
          device: str = "cpu", progress: bool = True, on_progress: training.ProgressCallback | None = None,
          model_config: GANConfig | None = None, train_config: TrainConfig | None = None,
          options: dict | None = None, on_metrics: training.MetricsCallback | None = None,
          max_seconds: float | None = None) -> dict:
    """Train the GAN and write model.safetensors, config.json, loss.png, measures.png and MODEL_CARD.md to ``out``
    (`manage.py train gan` passes the shipped checkpoint's folder: loading.default_checkpoint_dir). ``steps`` =
    generator steps. ``options``: a user's TRAIN_PARAMS (recipe_for_options); ``on_metrics`` gets the losses every
    REPORT_EVERY steps and the per-track measures (with the training set's values at step 0) as they are measured;
    ``max_seconds`` stops early, keeping the best weights. Returns the metrics."""
    if options is not None:
        model_config, train_config = recipe_for_options(options)
    mc = model_config or GANConfig()
    cfg = train_config or TrainConfig()
    if steps is not None:
        cfg = TrainConfig(**{**asdict(cfg), "steps": max(1, int(steps))})
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)

    train_pieces, valid_pieces, trained_on = load_pieces(data)
    windows = WindowSampler([piece_lines(p, mc.melody_center) for p in train_pieces], mc, cfg, rng)
    train_real, valid_real = real_measures(train_pieces), real_measures(valid_pieces)
    if on_metrics is not None:
        on_metrics(0, {f"train set: {name}": value for name, value in flat_measures(train_real).items()})

    gen, critic = Generator(mc).to(device), Critic(mc).to(device)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=cfg.betas)
    opt_c = torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=cfg.betas)
    schedulers = [training.lr_scheduler(opt, steps=cfg.steps, warmup_steps=0, lr_floor=cfg.lr_floor)
                  for opt in (opt_g, opt_c)]

    history: dict[str, list] = {"steps": [], "critic_loss": [], "generator_loss": [], "wasserstein": [],
                                "eval_steps": [], "eval_measures": [], "eval_gap": []}
    best = (math.inf, 0, copy.deepcopy(gen.state_dict()), None)
    started = time.perf_counter()
    bar = tqdm(range(cfg.steps), desc="train gan", unit="step", disable=not progress)
    for step in bar:
        for _ in range(cfg.critic_steps):
            critic_loss, wasserstein = critic_step(gen, critic, opt_c, windows.batch(device), cfg.gp_weight)
        generator_loss = generator_step(gen, critic, opt_g, windows.batch(device))
        for scheduler in schedulers:
            scheduler.step()
        history["steps"].append(step + 1)
        history["critic_loss"].append(critic_loss)
        history["generator_loss"].append(generator_loss)
        history["wasserstein"].append(wasserstein)
        out_of_time = max_seconds is not None and time.perf_counter() - started > max_seconds
        if on_metrics is not None and ((step + 1) % training.REPORT_EVERY == 0 or step + 1 == cfg.steps):
            recent = slice(-((step % training.REPORT_EVERY) + 1), None)
            on_metrics(step + 1, {"critic_loss": float(np.mean(history["critic_loss"][recent])),
                                  "generator_loss": float(np.mean(history["generator_loss"][recent]))})
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps or out_of_time:
            measured = generated_measures(gen, valid_pieces)
            if on_metrics is not None:
                on_metrics(step + 1, flat_measures(measured))
            gap = measures_gap(measured, valid_real)
            history["eval_steps"].append(step + 1)
            history["eval_measures"].append(measured)
            history["eval_gap"].append(gap)
            if gap < best[0]:
                best = (gap, step + 1, copy.deepcopy(gen.state_dict()), measured)
                if step + 1 < cfg.steps:  # an interrupted run leaves the best weights so far
                    _write_outputs(out_dir, data, steps, gen, critic, mc, cfg, history, best, trained_on, device,
                                   time.perf_counter() - started, len(windows), len(valid_pieces), train_real,
                                   valid_real, options=options)
            gen.train()
            if progress:
                tqdm.write(f"step {step + 1}: gap {100 * gap:.1f} % " + json.dumps(
                    {t: {m: round(v, 3) for m, v in row.items()} for t, row in measured.items()}))
            bar.set_postfix(critic=f"{critic_loss:.2f}", gap=f"{100 * gap:.1f}%",
                            best=f"{100 * best[0]:.1f}%@{best[1]}")
        if on_progress is not None:
            on_progress(step + 1, cfg.steps)
        if out_of_time:
            break
    return _write_outputs(out_dir, data, steps, gen, critic, mc, cfg, history, best, trained_on, device,
                          time.perf_counter() - started, len(windows), len(valid_pieces), train_real, valid_real,
                          options=options)


def _write_outputs(out_dir: Path, data, steps_given: int | None, gen: Generator, critic: Critic, mc: GANConfig,
                   cfg: TrainConfig, history: dict, best: tuple, trained_on: str, device: str, train_seconds: float,
                   n_windows: int, n_valid: int, train_real: dict, valid_real: dict,
                   options: dict | None = None) -> dict:
    """Write the best weights so far, the plots and the card (after each improvement, so an interrupted run leaves
    a usable checkpoint, and at the end). Returns the metrics."""
    best_gen = Generator(mc)
    best_gen.load_state_dict(best[2])
    metrics = {
        "steps": history["steps"][-1] if history["steps"] else 0,
        "planned_steps": cfg.steps,
        "best_step": best[1],
        "best_gap": round(best[0], 4),
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
    save_checkpoint(best_gen, spec=spec, config=asdict(mc), out_dir=out_dir, trained_on=trained_on,
                    metrics=metrics)
    save_loss_plot(history, out_dir / "loss.png")
    save_measures_plot(history, train_real, out_dir / "measures.png")
    write_model_card(out_dir, mc, cfg, metrics, trained_on, data=data, steps=steps_given, options=options)
    return metrics
