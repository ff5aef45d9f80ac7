"""Train a realness discriminator (torch): real windows of the reference style vs generated, corrupted and trivial ones.

Everything is read on the sounded grid (8 steps a second: representation.sounded_rolls), as scoring reads it.
Positives: random 8-s windows of the reference's training pieces, transposed -6..+6 semitones and played 0.75-1.33x
as fast (tempo augmentation: the same music faster or slower is still real). Negatives, in equal shares, one per
family: the corruptions of `discriminator_data.FAMILIES` (random notes, shuffled pitches, shuffled bars, an untrained
generator's accompaniment), the trivial and degenerate families of `trivial_music` (held chords, long notes, scales,
arpeggios, chord and cadence loops, repeated notes, two pitches, sparse notes, rhythm erased, one window repeated)
and, for the chorales, the shipped AR-CNN's output. After training, a temperature is fitted on held-out pieces
(piece-level NLL), and every figure of the model card is measured on held-out pieces: ROC AUC per family (realness =
mean window probability of the whole piece) and the calibration error.

Two kinds of reference: the chorales (train / valid / test by Riemenschneider number) and a challenge's own
reference set (`pieces=`, or `--data DIR`), of which a quarter (at least two pieces, chosen by a hash of the name) is
held out for the temperature and the figures; small sets (20 pieces) rely on the augmentation and a small model.
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

from generation.engine.dataset import Piece, load_chorales, pieces_split, transpose
from generation.engine.models.discriminator.model import Discriminator, build_model
from generation.engine.models.discriminator.data import (
    FAMILIES,
    VOICE_RANGES,
    feature_windows,
    piece_features,
    piece_windows,
    run_onsets,
    shuffled_bars,
    shuffled_pitches,
    stretch,
)
from generation.engine.models.discriminator.spec import ARCHITECTURE, DiscriminatorConfig, config_to_dict
from generation.engine.midi_io import load_midi
from generation.engine.representation import SOUNDED_STEPS_PER_SECOND, sounded_rolls
from generation.engine.trivial_music import DERIVED_FAMILIES, SCRATCH_FAMILIES, STEPS_PER_BAR

logger = logging.getLogger(__name__)
ARCNN_POOL = 128  # AR-CNN outputs made before training (100 network passes each: too slow to make per batch)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "checkpoints" / "discriminator"
# Negatives drawn more often than one share (none by default: weighting the families real music is nearest to,
# shuffled bars and loops, x2-x4 lowered their held-out AUCs in two runs instead of raising them).
FAMILY_WEIGHTS: dict[str, int] = {}
HOLDOUT_SHARE = 0.25  # of a reference set: held out for the temperature and the model card's figures
HOLDOUT_MIN = 2
# A challenge's set trains the default size: at 8 channels, 120 folk tunes gave held-out AUC 0.30 for long notes
# (0.87 at 16) and real tunes' realness 0.45 either way; 1,500 steps take ~6 min on one shared core.
REFERENCE_SET_CONFIG = DiscriminatorConfig(channels=16)

Corruptor = Callable[[Piece, np.random.Generator], tuple[np.ndarray, np.ndarray]]
ProgressCallback = Callable[[int, int], None]


@dataclass
class TrainConfig:
    steps: int = 3000  # ~10 min on one CPU thread; piece-level AUCs saturate before
    batch_size: int = 32  # 16 real + 16 negative windows, one per family in turn
    lr: float = 2e-3  # AdamW; cosine decay to 5 % of it
    weight_decay: float = 1e-4
    transpose_range: tuple[int, int] = (-6, 6)  # a fifth either way: scores must barely move under transposition
    stretch_range: tuple[float, float] = (0.75, 1.33)  # tempo augmentation (log-uniform)
    seed: int = 0
    extra_families: dict[str, Corruptor] = field(default_factory=dict)  # e.g. {"arcnn": shipped model's output}
    family_weights: dict[str, int] = field(default_factory=lambda: dict(FAMILY_WEIGHTS))


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
    from generation.engine.models.arcnn.model import make_training_pairs
    from generation.engine.models.arcnn.sampler import edit_rolls
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


def _scratch(family) -> Corruptor:
    return lambda piece, rng: family(piece.rolls.shape[1], rng)


def _derived(family) -> Corruptor:
    return lambda piece, rng: family(piece.rolls, piece.onsets, rng)


def family_corruptors(extra: dict[str, Corruptor] | None = None) -> dict[str, Corruptor]:
    """Every negative family as ``fn(piece, rng) -> (tracks, onsets)`` of the piece's length: the corruptions of
    FAMILIES first, then the trivial families, then ``extra`` (models' outputs)."""
    families: dict[str, Corruptor] = {
        "random_notes": _scratch(SCRATCH_FAMILIES["random_notes"]),
        "shuffled_pitches": lambda p, rng: shuffled_pitches(p.rolls, p.onsets, rng),
        "shuffled_bars": lambda p, rng: shuffled_bars(p.rolls, p.onsets, p.steps_per_bar, rng),
        "untrained_generator": untrained_generator,
    }
    assert tuple(families) == FAMILIES
    families.update({name: _scratch(fn) for name, fn in SCRATCH_FAMILIES.items() if name not in families})
    families.update({name: _derived(fn) for name, fn in DERIVED_FAMILIES.items()})
    families.update(extra or {})
    return families


def sounded_piece(pm, name: str, split: str = "train") -> Piece | None:
    """A MIDI piece on the sounded grid as a Piece (its pitched tracks, highest first); None without notes."""
    tracks, onsets = sounded_rolls(pm)
    if tracks.shape[0] == 0 or not tracks.any():
        return None
    order = np.argsort([-(np.nonzero(t)[1].mean() if t.any() else -1) for t in tracks])
    return Piece(name=name, split=split, rolls=tracks[order], tempo_bpm=60.0 * SOUNDED_STEPS_PER_SECOND / 4,
                 time_signature=(4, 4), steps_per_bar=STEPS_PER_BAR, onsets=onsets[order])


def sounded_folder(path: str | Path) -> list[Piece]:
    """Every readable .mid/.midi file under ``path`` (sorted) on the sounded grid."""
    from generation.engine.dataset import MIDI_SUFFIXES
    from generation.engine.errors import DatasetError, EngineError

    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError("not_a_folder", f"{folder} is not a folder.")
    pieces = []
    for file in sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file()):
        try:
            piece = sounded_piece(load_midi(file), file.relative_to(folder).as_posix())
        except EngineError as exc:
            logger.warning("Skipping %s: %s", file, exc.message)
            continue
        if piece is not None:
            pieces.append(piece)
    return pieces


def holdout_split(pieces: list[Piece], share: float = HOLDOUT_SHARE,
                  minimum: int = HOLDOUT_MIN) -> tuple[list[Piece], list[Piece]]:
    """(train, held out) of a reference set: the held-out pieces are chosen by a hash of the name (stable when
    files are added), a ``share`` of the set and at least ``minimum``; at least one piece is left to train on."""
    if len(pieces) < 2:
        return list(pieces), list(pieces)
    order = sorted(pieces, key=lambda p: hashlib.sha1(p.name.encode("utf-8")).hexdigest())
    n_held = min(len(pieces) - 1, max(minimum, round(share * len(pieces))))
    return order[n_held:], order[:n_held]


# ------------------------------------------------------------------------------------------------------ batches
def _crop(piece: Piece, steps: int, rng: np.random.Generator, shift: int, factor: float = 1.0) -> Piece:
    """A bar-aligned excerpt that lasts ``steps`` steps once played ``factor`` times as long (the whole piece when
    shorter), transposed by ``shift``."""
    source_steps = max(1, round(steps / factor))
    n_bars = max(1, (piece.rolls.shape[1] - source_steps) // piece.steps_per_bar + 1)
    start = int(rng.integers(n_bars)) * piece.steps_per_bar
    rolls = transpose(piece.rolls[:, start : start + source_steps], shift)
    onsets = None if piece.onsets is None else transpose(piece.onsets[:, start : start + source_steps], shift)
    if factor != 1.0:
        rolls, onsets = stretch(rolls, onsets, factor, min(steps, round(rolls.shape[1] * factor)))
    return Piece(piece.name, piece.split, rolls, piece.tempo_bpm, piece.time_signature,
                 max(1, round(piece.steps_per_bar * factor)), onsets)


def make_batch(pieces: list[Piece], families: dict[str, Corruptor], config: DiscriminatorConfig, batch_size: int,
               rng: np.random.Generator, transpose_range: tuple[int, int],
               stretch_range: tuple[float, float] = (1.0, 1.0),
               weights: dict[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(B, 6, W, 128) features and (B,) labels: half real windows, half negative ones (families in turn)."""
    w = config.window_steps
    names = [name for name in families for _ in range((weights or {}).get(name, 1))]
    offset = int(rng.integers(len(names)))  # every family in turn, from a random place: weights hold on average
    log_low, log_high = np.log(stretch_range[0]), np.log(stretch_range[1])
    xs, ys = [], []
    for i in range(batch_size):
        piece = pieces[int(rng.integers(len(pieces)))]
        shift = int(rng.integers(transpose_range[0], transpose_range[1] + 1))
        excerpt = _crop(piece, w, rng, shift, float(np.exp(rng.uniform(log_low, log_high))))
        if i % 2 == 0:
            tracks, onsets, label = excerpt.rolls, excerpt.onsets, 1.0
        else:
            tracks, onsets = families[names[(offset + i // 2) % len(names)]](excerpt, rng)
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
                x = piece_windows(tracks, onsets, cfg.window_steps, cfg.hop_steps)
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
                progress: bool = True,
                on_progress: ProgressCallback | None = None) -> tuple[Discriminator, list[float]]:
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
        x, y = make_batch(pieces, families, config, train_config.batch_size, rng, train_config.transpose_range,
                          train_config.stretch_range, train_config.family_weights)
        logits = model(torch.from_numpy(x).to(device))
        loss = functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y).to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if len(losses) % 50 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
            if on_progress is not None:
                on_progress(len(losses), train_config.steps)
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


def train(*, data: str | Path | None = None, pieces: list[Piece] | None = None, steps: int | None = None,
          out: str | Path | None = None, device: str = "cpu", progress: bool = True,
          extra_families: dict[str, Corruptor] | None = None, config: DiscriminatorConfig | None = None,
          eval_seed: int = 1234, max_eval_pieces: int | None = None, with_arcnn: bool = True,
          trained_on: str | None = None, on_progress: ProgressCallback | None = None) -> Path:
    """Train on the chorales, or on a reference set (``pieces`` on the sounded grid, or the MIDI files of ``data``),
    fit the temperature on held-out pieces, measure them, and write the checkpoint, loss.png and MODEL_CARD.md into
    ``out``. Returns the weights' path; the figures are in config.json's metrics."""
    from generation.engine.models.discriminator.card import write_model_card

    started = time.time()
    if data is not None or pieces is not None:
        reference = pieces if pieces is not None else sounded_folder(data)
        if not reference:
            from generation.engine.errors import DatasetError

            raise DatasetError("no_usable_midi", "The reference set holds no piece with pitched notes.")
        train_pieces, held_out = holdout_split(reference)
        valid = test = held_out
        trained_on = trained_on or (f"MIDI folder {Path(data).name}" if data else f"{len(reference)} reference pieces")
        config = config or REFERENCE_SET_CONFIG
        with_arcnn = False
    else:
        chorales = load_chorales()
        train_pieces, valid, test = (pieces_split(chorales, s) for s in ("train", "valid", "test"))
        trained_on = trained_on or "Bach chorales (music21), train split"
        config = config or DiscriminatorConfig()
    valid, test = valid[:max_eval_pieces], test[:max_eval_pieces]  # None keeps all
    eval_extra = dict(extra_families or {})
    tc = TrainConfig(extra_families=dict(eval_extra))
    arcnn = arcnn_family() if with_arcnn else None
    arcnn_sha = arcnn_weights_sha256() if arcnn is not None else None  # the weights the family just loaded
    if arcnn is not None:
        eval_extra["arcnn"] = arcnn
        tc.extra_families["arcnn"] = _pool_family(arcnn, train_pieces, config.window_steps, ARCNN_POOL, tc.seed)
    if steps is not None:
        tc.steps = steps
    model, losses = train_model(train_pieces, config, tc, device=device, progress=progress, on_progress=on_progress)
    families = family_corruptors(eval_extra)
    temperature = fit_temperature(piece_window_logits(model, valid or train_pieces[:20], families, eval_seed))
    model.temperature.fill_(temperature)
    metrics = evaluate(piece_window_logits(model, test or valid, families, eval_seed + 1), temperature)
    metrics.update(temperature=temperature, steps=tc.steps, final_loss=float(np.mean(losses[-100:])),
                   train_seconds=round(time.time() - started, 1), n_train_pieces=len(train_pieces),
                   families=list(families), held_out=[p.name for p in test][:50])
    if arcnn_sha is not None:
        metrics["arcnn_sha256_trained"] = metrics["arcnn_sha256_measured"] = arcnn_sha
    out_dir = Path(out) if out else DEFAULT_OUT
    path = _save(model.cpu(), out_dir, trained_on, metrics)
    _plot_losses(losses, out_dir / "loss.png")
    write_model_card(out_dir, config, tc, metrics, trained_on)
    return path
