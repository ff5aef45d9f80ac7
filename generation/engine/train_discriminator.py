"""Train the realness discriminator (torch): real windows of the reference style vs generated and corrupted ones.

Positives: random 4-bar windows of the train split (transposed -5..+6 semitones). Negatives, in equal shares, one per
family of `discriminator_data.FAMILIES` (+ "arcnn" when a shipped AR-CNN is given): random notes, the same music with
its pitches shuffled, with its bars shuffled, and accompaniment by an untrained generator. After training, a
temperature is fitted on the validation split (piece-level NLL), and every figure of the model card is measured on
the test split: ROC AUC per family (realness = mean window probability of the whole piece) and the calibration error.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit
from torch import nn
from torch.nn import functional
from tqdm import tqdm

from generation.engine.dataset import Piece, load_chorales, load_midi_folder, pieces_split, transpose
from generation.engine.discriminator import Discriminator, build_model
from generation.engine.discriminator_data import (
    FAMILIES,
    VOICE_RANGES,
    feature_windows,
    piece_features,
    random_notes,
    run_onsets,
    shuffled_bars,
    shuffled_pitches,
)
from generation.engine.discriminator_spec import ARCHITECTURE, DiscriminatorConfig, config_to_dict

logger = logging.getLogger(__name__)
ARCNN_POOL = 192  # AR-CNN outputs made before training (100 network passes each: too slow to make per batch)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "checkpoints" / "discriminator"

Corruptor = Callable[[Piece, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass
class TrainConfig:
    steps: int = 3000  # ~5 min on 2 CPU cores; piece-level test AUC saturates well before
    batch_size: int = 32  # 16 real + 16 corrupted windows
    lr: float = 2e-3  # Adam; cosine decay to 5 % of it
    weight_decay: float = 1e-4
    transpose_range: tuple[int, int] = (-5, 6)  # train-split augmentation, as the generators'
    seed: int = 0
    extra_families: dict[str, Corruptor] = field(default_factory=dict)  # e.g. {"arcnn": shipped model's output}


# ------------------------------------------------------------------------------------------- untrained generator
class UntrainedGenerator(nn.Module):
    """A randomly initialised accompaniment generator (soprano + noise -> alto, tenor, bass), never trained: what a
    GAN produces before its first step. Its output is one pitch per voice, held for two steps."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(128 + 16, 128, 5, padding=2), nn.ReLU(), nn.Conv1d(128, 3 * 128, 5, padding=2)
        )


@torch.no_grad()
def untrained_generator(piece: Piece, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    torch.manual_seed(int(rng.integers(2**31)))
    gen = UntrainedGenerator()
    soprano = piece.rolls[0]  # (T, 128)
    t = soprano.shape[0]
    x = torch.cat([torch.from_numpy(soprano.T.astype(np.float32))[None], torch.randn(1, 16, t)], dim=1)
    logits = gen.net(x)[0].reshape(3, 128, t)  # (voice, pitch, T)
    tracks = np.zeros((4, t, 128), dtype=bool)
    tracks[0] = soprano
    for v, (low, high) in enumerate(VOICE_RANGES[1:], start=1):
        held = logits[v - 1, low : high + 1, ::2].argmax(dim=0).numpy() + low  # one pitch per 2 steps
        steps = np.arange(t)
        tracks[v, steps, held[steps // 2]] = True
    onsets = np.zeros_like(tracks)
    onsets[0] = piece.onsets[0] if piece.onsets is not None else False
    onsets[1:, ::2] = tracks[1:, ::2]
    return tracks, onsets & tracks


def arcnn_family(checkpoint_dir: Path | None = None, iterations: int = 100) -> Corruptor | None:
    """The shipped AR-CNN's output, as DESIGN section 8 tests it: the soprano with 50 % of its notes removed and 1 %
    random cells added, then edited (default sampler); the other voices as they were. None without a checkpoint."""
    from generation.engine.registry import CHECKPOINTS_DIR

    folder = checkpoint_dir or CHECKPOINTS_DIR / "arcnn"
    if not (folder / "model.safetensors").exists():
        return None
    from generation.engine.arcnn import make_training_pairs
    from generation.engine.arcnn_sampler import edit_rolls
    from generation.engine.checkpoint import load_checkpoint

    model, _meta = load_checkpoint(folder, architecture="arcnn")

    def corrupt(piece: Piece, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        soprano = torch.from_numpy(piece.rolls[0][None])  # (1, T, 128)
        corrupted, _ = make_training_pairs(soprano, remove_pct=(50, 50), add_pct=(1.0, 1.0), generator=generator)
        edited = edit_rolls(model, corrupted, iterations=iterations, temperature=1.0, max_add=500,
                            max_remove_pct=100, generator=generator)[0].numpy()
        tracks = piece.rolls.copy()
        tracks[0] = edited
        onsets = None if piece.onsets is None else piece.onsets.copy()
        if onsets is not None:
            onsets[0] = run_onsets(edited)
        return tracks, onsets

    return corrupt


def arcnn_weights_sha256(checkpoint_dir: Path | None = None) -> str | None:
    """sha256 of the AR-CNN weights the "arcnn" family runs (the model card names it); None without a checkpoint."""
    from generation.engine.registry import CHECKPOINTS_DIR

    weights = (checkpoint_dir or CHECKPOINTS_DIR / "arcnn") / "model.safetensors"
    return hashlib.sha256(weights.read_bytes()).hexdigest() if weights.exists() else None


def family_corruptors(extra: dict[str, Corruptor] | None = None) -> dict[str, Corruptor]:
    families: dict[str, Corruptor] = {
        "random_notes": lambda p, rng: random_notes(p.rolls.shape[1], rng),
        "shuffled_pitches": lambda p, rng: shuffled_pitches(p.rolls, p.onsets, rng),
        "shuffled_bars": lambda p, rng: shuffled_bars(p.rolls, p.onsets, p.steps_per_bar, rng),
        "untrained_generator": untrained_generator,
    }
    assert tuple(families) == FAMILIES
    families.update(extra or {})
    return families


# ------------------------------------------------------------------------------------------------------ batches
def _crop(piece: Piece, steps: int, rng: np.random.Generator, shift: int) -> Piece:
    """A bar-aligned excerpt of ``steps`` steps (the whole piece when shorter), transposed by ``shift``."""
    n_bars = max(1, (piece.rolls.shape[1] - steps) // piece.steps_per_bar + 1)
    start = int(rng.integers(n_bars)) * piece.steps_per_bar
    rolls = transpose(piece.rolls[:, start : start + steps], shift)
    onsets = None if piece.onsets is None else transpose(piece.onsets[:, start : start + steps], shift)
    return Piece(piece.name, piece.split, rolls, piece.tempo_bpm, piece.time_signature, piece.steps_per_bar, onsets)


def make_batch(pieces: list[Piece], families: dict[str, Corruptor], config: DiscriminatorConfig, batch_size: int,
               rng: np.random.Generator, transpose_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(B, 6, W, 128) features and (B,) labels: half real windows, half corrupted ones (families in turn)."""
    w = config.window_steps
    names = list(families)
    xs, ys = [], []
    for i in range(batch_size):
        piece = pieces[int(rng.integers(len(pieces)))]
        excerpt = _crop(piece, w, rng, int(rng.integers(transpose_range[0], transpose_range[1] + 1)))
        if i % 2 == 0:
            tracks, onsets, label = excerpt.rolls, excerpt.onsets, 1.0
        else:
            tracks, onsets = families[names[(i // 2) % len(names)]](excerpt, rng)
            label = 0.0
        xs.append(feature_windows(piece_features(tracks, onsets), w, w)[0])
        ys.append(label)
    return np.stack(xs), np.array(ys, dtype=np.float32)


# --------------------------------------------------------------------------------------------------- evaluation
def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos, neg = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, weights: np.ndarray, bins: int = 10) -> float:
    """Weighted ECE over equal-width probability bins."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(probs, edges) - 1, 0, bins - 1)
    total, ece = weights.sum(), 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            w = weights[m]
            ece += w.sum() / total * abs(np.average(probs[m], weights=w) - np.average(labels[m], weights=w))
    return float(ece)


def piece_window_logits(model: Discriminator, pieces: list[Piece], families: dict[str, Corruptor], seed: int):
    """{"real": [per-piece window logits], family: [...]} on whole pieces (uncalibrated, temperature ignored)."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {"real": [], **{name: [] for name in families}}
    model.eval()
    cfg = model.config
    with torch.no_grad():
        for piece in pieces:
            variants = {"real": (piece.rolls, piece.onsets)}
            variants.update({name: fn(piece, rng) for name, fn in families.items()})
            for name, (tracks, onsets) in variants.items():
                x = feature_windows(piece_features(tracks, onsets), cfg.window_steps, cfg.hop_steps)
                out[name].append(model(torch.from_numpy(x).to(next(model.parameters()).device)).cpu().numpy())
    return out


def _piece_probs(logits: list[np.ndarray], temperature: float) -> np.ndarray:
    return np.array([float(expit(lg / temperature).mean()) for lg in logits])


def _balanced(logits_by_kind: dict[str, list[np.ndarray]], temperature: float):
    """Probabilities, labels and weights with real and corrupted pieces weighted equally in total."""
    probs, labels, weights = [], [], []
    n_fake_kinds = len(logits_by_kind) - 1
    for kind, logits in logits_by_kind.items():
        p = _piece_probs(logits, temperature)
        probs.append(p)
        labels.append(np.full(len(p), 1.0 if kind == "real" else 0.0))
        weights.append(np.full(len(p), 1.0 if kind == "real" else 1.0 / n_fake_kinds))
    return np.concatenate(probs), np.concatenate(labels), np.concatenate(weights)


def fit_temperature(logits_by_kind: dict[str, list[np.ndarray]]) -> float:
    """Temperature minimizing the balanced piece-level NLL (grid search: one parameter, no gradient needed)."""
    best = (math.inf, 1.0)
    for t in np.exp(np.linspace(np.log(0.02), np.log(20.0), 121)):
        p, y, w = _balanced(logits_by_kind, float(t))
        p = np.clip(p, 1e-6, 1 - 1e-6)
        nll = float(-(w * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum() / w.sum())
        best = min(best, (nll, float(t)))
    return best[1]


def evaluate(logits_by_kind: dict[str, list[np.ndarray]], temperature: float) -> dict:
    real = _piece_probs(logits_by_kind["real"], temperature)
    metrics: dict = {"auc": {}, "mean_realness": {"real": float(real.mean())}}
    for kind, logits in logits_by_kind.items():
        if kind == "real":
            continue
        fake = _piece_probs(logits, temperature)
        metrics["auc"][kind] = roc_auc(real, fake)
        metrics["mean_realness"][kind] = float(fake.mean())
    p, y, w = _balanced(logits_by_kind, temperature)
    metrics["ece"] = expected_calibration_error(p, y, w)
    metrics["ece_uncalibrated"] = expected_calibration_error(*_balanced(logits_by_kind, 1.0))
    metrics["n_test_pieces"] = len(real)
    return metrics


# ------------------------------------------------------------------------------------------------------- train
def train_model(pieces: list[Piece], config: DiscriminatorConfig, train_config: TrainConfig, device: str = "cpu",
                progress: bool = True) -> tuple[Discriminator, list[float]]:
    torch.manual_seed(train_config.seed)
    rng = np.random.default_rng(train_config.seed)
    model = build_model(config).to(device)
    families = family_corruptors(train_config.extra_families)
    opt = torch.optim.AdamW(model.parameters(), lr=train_config.lr, weight_decay=train_config.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, train_config.steps, eta_min=train_config.lr * 0.05)
    losses: list[float] = []
    bar = tqdm(range(train_config.steps), desc="discriminator", disable=not progress, mininterval=5)
    for _ in bar:
        model.train()
        x, y = make_batch(pieces, families, config, train_config.batch_size, rng, train_config.transpose_range)
        logits = model(torch.from_numpy(x).to(device))
        loss = functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y).to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if len(losses) % 50 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
    return model, losses


def _plot_losses(losses: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    smooth = np.convolve(losses, np.ones(50) / 50, mode="valid") if len(losses) >= 50 else losses
    ax.plot(losses, alpha=0.3, label="batch")
    ax.plot(np.arange(len(smooth)) + (len(losses) - len(smooth)), smooth, label="mean of 50")
    ax.set_xlabel("step")
    ax.set_ylabel("binary cross-entropy")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _save(model: Discriminator, out_dir: Path, trained_on: str, metrics: dict) -> Path:
    from generation.engine.checkpoint import save_checkpoint

    return save_checkpoint(model, architecture=ARCHITECTURE, config=config_to_dict(model.config), out_dir=out_dir,
                           trained_on=trained_on, metrics=metrics)


def _pool_family(corrupt: Corruptor, pieces: list[Piece], steps: int, size: int, seed: int) -> Corruptor:
    """A slow family (a model's output) made once for ``size`` train excerpts; training draws from the pool."""
    rng = np.random.default_rng(seed)
    pool = [corrupt(_crop(pieces[int(rng.integers(len(pieces)))], steps, rng, 0), rng)
            for _ in tqdm(range(size), desc="arcnn outputs", mininterval=5)]
    return lambda piece, rng: pool[int(rng.integers(len(pool)))]


def train(*, data: str | Path | None = None, steps: int | None = None, out: str | Path | None = None,
          device: str = "cpu", progress: bool = True, extra_families: dict[str, Corruptor] | None = None,
          config: DiscriminatorConfig | None = None, eval_seed: int = 1234, max_eval_pieces: int | None = None,
          with_arcnn: bool = True) -> Path:
    """Train on the chorales (or on a folder of MIDI files: the reference style), fit the temperature on the
    validation split, measure the test split, write the checkpoint, loss.png and MODEL_CARD.md into ``out``."""
    from generation.engine.discriminator_card import write_model_card

    started = time.time()
    pieces = load_midi_folder(data) if data else load_chorales()
    trained_on = f"MIDI folder {Path(data).name}" if data else "Bach chorales (music21), train split"
    train_pieces, valid, test = (pieces_split(pieces, s) for s in ("train", "valid", "test"))
    valid, test = valid[:max_eval_pieces], test[:max_eval_pieces]  # None keeps all
    config = config or DiscriminatorConfig()
    eval_extra = dict(extra_families or {})
    tc = TrainConfig(extra_families=dict(eval_extra))
    arcnn = arcnn_family() if with_arcnn and not data else None
    arcnn_sha = arcnn_weights_sha256() if arcnn is not None else None  # the weights the family just loaded
    if arcnn is not None:
        eval_extra["arcnn"] = arcnn
        tc.extra_families["arcnn"] = _pool_family(arcnn, train_pieces, config.window_steps, ARCNN_POOL, tc.seed)
    if steps is not None:
        tc.steps = steps
    model, losses = train_model(train_pieces, config, tc, device=device, progress=progress)
    families = family_corruptors(eval_extra)
    temperature = fit_temperature(piece_window_logits(model, valid or train_pieces[:20], families, eval_seed))
    model.temperature.fill_(temperature)
    metrics = evaluate(piece_window_logits(model, test or valid, families, eval_seed + 1), temperature)
    metrics.update(temperature=temperature, steps=tc.steps, final_loss=float(np.mean(losses[-100:])),
                   train_seconds=round(time.time() - started, 1), n_train_pieces=len(train_pieces),
                   families=list(families))
    if arcnn_sha is not None:
        metrics["arcnn_sha256_trained"] = metrics["arcnn_sha256_measured"] = arcnn_sha
    out_dir = Path(out) if out else DEFAULT_OUT
    path = _save(model.cpu(), out_dir, trained_on, metrics)
    _plot_losses(losses, out_dir / "loss.png")
    write_model_card(out_dir, config, tc, metrics, trained_on)
    return path
