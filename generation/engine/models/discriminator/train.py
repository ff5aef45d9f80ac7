"""Train a realness discriminator (torch): real windows of the reference style vs generated, corrupted and trivial ones.

Everything is read on the sounded grid (8 steps a second: representation.sounded_rolls), as scoring reads it.
Positives: random 8-s windows of the reference's training pieces, transposed -6..+6 semitones and played 0.75-1.33x
as fast (tempo augmentation: the same music faster or slower is still real). Negatives, in equal shares, one per
family: the corruptions of `data.FAMILIES` (random notes, shuffled pitches, shuffled bars, an untrained generator's
accompaniment), the trivial and degenerate families of `trivial_music` (held chords, long notes, scales, arpeggios,
chord and cadence loops, repeated notes, two pitches, sparse notes, rhythm erased, one window repeated) and the
generators' outputs passed in by the caller (``generated=``: `generation.engine.negatives` runs every registered
generator, shipped and untrained, through the pipeline; models never import each other). After training, a
temperature is fitted on held-out pieces (piece-level NLL), and every figure of the model card is measured on
held-out pieces: ROC AUC per family (realness = mean window probability of the whole piece) and the calibration
error.

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

from generation.engine import training
from generation.engine.checkpoint import save_checkpoint
from generation.engine.dataset import MIDI_SUFFIXES, Piece, load_chorales, pieces_split, transpose
from generation.engine.errors import DatasetError, EngineError
from generation.engine.midi_io import load_midi
from generation.engine.models.discriminator import spec
from generation.engine.models.discriminator.card import write_model_card
from generation.engine.models.discriminator.data import (
    FAMILIES,
    VOICE_RANGES,
    feature_windows,
    piece_features,
    piece_windows,
    shuffled_bars,
    shuffled_pitches,
    stretch,
)
from generation.engine.models.discriminator.model import Discriminator, build_model
from generation.engine.models.discriminator.spec import DiscriminatorConfig, config_to_dict
from generation.engine.representation import SOUNDED_STEPS_PER_SECOND, sounded_rolls
from generation.engine.trivial_music import DERIVED_FAMILIES, SCRATCH_FAMILIES, STEPS_PER_BAR

logger = logging.getLogger(__name__)
GENERATED_POOL = 128  # outputs of each generator made before training (too slow to make per batch)
# Negatives drawn more often than one share (none by default: weighting the families real music is nearest to,
# shuffled bars and loops, x2-x4 lowered their held-out AUCs in two runs instead of raising them).
FAMILY_WEIGHTS: dict[str, int] = {}
HOLDOUT_SHARE = 0.25  # of a reference set: held out for the temperature and the model card's figures
HOLDOUT_MIN = 2
# A challenge's set trains the default size: at 8 channels, 120 folk tunes gave held-out AUC 0.30 for long notes
# (0.87 at 16) and real tunes' realness 0.45 either way; 1,500 steps take ~6 min on one shared core.
REFERENCE_SET_CONFIG = DiscriminatorConfig(channels=16)

Corruptor = Callable[[Piece, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class TrainConfig(training.TrainConfig):
    steps: int = 3000  # ~10 min on one CPU thread; piece-level AUCs saturate before
    batch_size: int = 32  # 16 real + 16 negative windows, one per family in turn
    lr: float = 2e-3  # AdamW; cosine decay to 5 % of it
    warmup_steps: int = 0  # none: a small CNN on a balanced task trains stably from the first step
    transpose_range: tuple[int, int] = (-6, 6)  # a fifth either way: scores must barely move under transposition
    stretch_range: tuple[float, float] = (0.75, 1.33)  # tempo augmentation (log-uniform)
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
                progress: bool = True, on_progress: training.ProgressCallback | None = None,
                generated: dict[str, Corruptor] | None = None) -> tuple[Discriminator, training.History]:
    torch.manual_seed(train_config.seed)
    rng = np.random.default_rng(train_config.seed)
    model = build_model(config)
    families = family_corruptors(generated)

    def batch_loss(step: int) -> torch.Tensor:
        x, y = make_batch(pieces, families, config, train_config.batch_size, rng, train_config.transpose_range,
                          train_config.stretch_range, train_config.family_weights)
        logits = model(torch.from_numpy(x).to(device))
        return functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y).to(device))

    result = training.fit(model, config=train_config, batch_loss=batch_loss, device=device, progress=progress,
                          on_progress=on_progress, desc="discriminator")
    return model, result.history


def _pool_family(corrupt: Corruptor, pieces: list[Piece], steps: int, size: int, seed: int) -> Corruptor:
    """A slow family (a model's output) made once for ``size`` train excerpts; training draws from the pool."""
    rng = np.random.default_rng(seed)
    pool = [corrupt(_crop(pieces[int(rng.integers(len(pieces)))], steps, rng, 0), rng)
            for _ in tqdm(range(size), desc="generated outputs", mininterval=5)]
    return lambda piece, rng: pool[int(rng.integers(len(pool)))]


def train(*, data: str | Path | None = None, pieces: list[Piece] | None = None, steps: int | None = None,
          out: str | Path, device: str = "cpu", progress: bool = True,
          generated: dict[str, Corruptor] | None = None, generated_from: dict[str, str] | None = None,
          config: DiscriminatorConfig | None = None, eval_seed: int = 1234, max_eval_pieces: int | None = None,
          trained_on: str | None = None, on_progress: training.ProgressCallback | None = None) -> dict:
    """Train on the chorales, or on a reference set (``pieces`` on the sounded grid, or the MIDI files of ``data``),
    fit the temperature on held-out pieces, measure them, and write the checkpoint, loss.png and MODEL_CARD.md into
    ``out``. ``generated``: the generators' outputs as extra negative families (``negatives.generated_families``),
    ``generated_from``: what made each (the card names it). Returns the metrics (also in config.json)."""
    started = time.time()
    if data is not None or pieces is not None:
        reference = pieces if pieces is not None else sounded_folder(data)
        if not reference:
            raise DatasetError("no_usable_midi", "The reference set holds no piece with pitched notes.")
        train_pieces, held_out = holdout_split(reference)
        valid = test = held_out
        trained_on = trained_on or (f"MIDI folder {Path(data).name}" if data else f"{len(reference)} reference pieces")
        config = config or REFERENCE_SET_CONFIG
    else:
        chorales = load_chorales()
        train_pieces, valid, test = (pieces_split(chorales, s) for s in ("train", "valid", "test"))
        trained_on = trained_on or "Bach chorales (music21), train split"
        config = config or DiscriminatorConfig()
    valid, test = valid[:max_eval_pieces], test[:max_eval_pieces]  # None keeps all
    tc = TrainConfig() if steps is None else TrainConfig(steps=steps)
    pools = {name: _pool_family(fn, train_pieces, config.window_steps, GENERATED_POOL, tc.seed)
             for name, fn in (generated or {}).items()}
    model, history = train_model(train_pieces, config, tc, device=device, progress=progress,
                                 on_progress=on_progress, generated=pools)
    families = family_corruptors(generated)
    temperature = fit_temperature(piece_window_logits(model, valid or train_pieces[:20], families, eval_seed))
    model.temperature.fill_(temperature)
    metrics = evaluate(piece_window_logits(model, test or valid, families, eval_seed + 1), temperature)
    metrics.update(temperature=temperature, steps=tc.steps, final_loss=float(np.mean(history.train_loss[-100:])),
                   train_seconds=round(time.time() - started, 1), n_train_pieces=len(train_pieces),
                   families=list(families), held_out=[p.name for p in test][:50],
                   generated_trained=dict(generated_from or {}), generated_measured=dict(generated_from or {}))
    out_dir = Path(out)
    save_checkpoint(model.cpu(), spec=spec, config=config_to_dict(model.config), out_dir=out_dir,
                    trained_on=trained_on, metrics=metrics)
    training.plot_history(history, out_dir / "loss.png", title="Realness discriminator training",
                          ylabel="binary cross-entropy", log_y=True)
    write_model_card(out_dir, config, tc, metrics, trained_on)
    return metrics
