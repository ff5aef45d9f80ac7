"""Train a realness discriminator (torch): real windows of the reference style vs musically wrong ones.

Everything is read on the sounded grid (8 steps a second: representation.sounded_rolls), as scoring reads it.
Negatives are defined by what is wrong with the music, never by who made it (no generator's output is a negative,
so a model whose music is good can score well): corruptions (`data.FAMILIES`: random notes, shuffled pitches,
shuffled bars, random held accompaniment), the trivial and degenerate families of `trivial_music` (held chords, long
notes, scales and parallel-harmony scales and arpeggios, chord and cadence loops, repeated notes, sparse notes,
rhythm erased, a window repeated ...), the recombinations of `recombined_music` (retrogrades, inversions, shifted
voices; Markov chains over the training pieces' chords, patchworks, two pieces interleaved) and pieces optimized
against the model itself (`ClimbPool`: hill-climbs from parallel-harmony scales that go on against the model as it
trains; what they find is a negative family).

Every window, real or not, is performed before the model sees it (`data.performed`): played at 50-180 bpm (the
chorales' 120 bpm stretched 0.67-2.4x), half of them with each note sounding 40-100 % of its value (staccato to
legato) and onsets moved up to +- 30 ms, so that real music played by a person keeps its score and no family is told
apart by how it is played. Velocity is not an input (notes too quiet to hear are dropped before scoring reads a
piece). After training, a temperature is fitted on held-out pieces (piece-level NLL), and every figure of the model
card is measured on held-out pieces: ROC AUC per family (realness = mean window probability of the whole piece) and
the calibration error.

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

from generation.engine import training
from generation.engine.checkpoint import save_checkpoint
from generation.engine.dataset import MIDI_SUFFIXES, Piece, load_chorales, pieces_split, transpose
from generation.engine.errors import DatasetError, EngineError
from generation.engine.hill_climb import Climber, load_pieces, start_piece
from generation.engine.midi_io import load_midi
from generation.engine.models.discriminator import spec
from generation.engine.models.discriminator.card import write_model_card
from generation.engine.models.discriminator.data import (
    FAMILIES,
    VOICE_RANGES,
    anchored,
    feature_windows,
    performed,
    piece_features,
    piece_windows,
    shuffled_bars,
    shuffled_pitches,
)
from generation.engine.models.discriminator.model import Discriminator, build_model
from generation.engine.models.discriminator.spec import DiscriminatorConfig, config_to_dict
from generation.engine.recombined_music import CORPUS, DERIVED, Source, corpus_sources
from generation.engine.representation import SOUNDED_STEPS_PER_SECOND, sounded_rolls
from generation.engine.trivial_music import DERIVED_FAMILIES, SCRATCH_FAMILIES, STEPS_PER_BAR

logger = logging.getLogger(__name__)
# Negatives drawn more often than one share (weighting the families real music is nearest to, shuffled bars and
# loops, x2-x4 lowered their held-out AUCs in two runs instead of raising them).
# The hill-climbs are drawn twice as often: they are the one family that moves as the model learns.
# The pieces climbed against the whole scorer (hill_climb.SCORER_CLIMBS_PATH, the second round) are fixed, so drawn
# as often as the climbs going on.
FAMILY_WEIGHTS: dict[str, int] = {"hill_climb": 2, "scorer_climb": 2}
HOLDOUT_SHARE = 0.25  # of a reference set: held out for the temperature and the model card's figures
HOLDOUT_MIN = 2
# A challenge's set trains the default size: at 8 channels, 120 folk tunes gave held-out AUC 0.30 for long notes
# (0.87 at 16) and real tunes' realness 0.45 either way; 1,500 steps take ~6 min on one shared core.
REFERENCE_SET_CONFIG = DiscriminatorConfig(channels=16)

Corruptor = Callable[[Piece, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class TrainConfig(training.TrainConfig):
    steps: int = 3000  # ~30 min on one shared CPU thread (the climbs included); piece-level AUCs saturate before
    batch_size: int = 32  # 16 real + 16 negative windows, one per family in turn
    lr: float = 2e-3  # AdamW; cosine decay to 5 % of it
    warmup_steps: int = 0  # none: a small CNN on a balanced task trains stably from the first step
    transpose_range: tuple[int, int] = (-6, 6)  # a fifth either way (a no-op for a model anchored at the lowest pitch)
    stretch_range: tuple[float, float] = (120 / 180, 120 / 50)  # tempo: the chorales' 120 bpm played at 50-180 bpm
    articulation_range: tuple[float, float] = (0.4, 1.0)  # each note sounds 40-100 % of its value (staccato-legato)
    jitter_steps: float = 0.24  # onsets moved up to +- 30 ms (0.24 of a 125-ms step)
    performed_share: float = 0.5  # of the windows get articulation and jitter (the rest are played as written)
    climbers: int = 16  # hill-climbs going on against the model (ClimbPool); 0 = no optimized negatives
    climb_tries: int = 4  # mutations tried per training step (each one forward pass over a 30-s piece)
    climb_length: int = 1500  # mutations before a climber starts again from a new scale (the attack)
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


def family_corruptors(extra: dict[str, Corruptor] | None = None,
                      corpus: list[Source] | None = None) -> dict[str, Corruptor]:
    """Every negative family as ``fn(piece, rng) -> (tracks, onsets)`` of the piece's length: the corruptions of
    FAMILIES first, then the trivial families, the recombinations (those that draw on several pieces only with a
    ``corpus``: the training pieces when training, held-out ones when measuring), then ``extra`` (a climb pool while
    training; models' outputs when re-measuring, as rows without a target)."""
    families: dict[str, Corruptor] = {
        "random_notes": _scratch(SCRATCH_FAMILIES["random_notes"]),
        "shuffled_pitches": lambda p, rng: shuffled_pitches(p.rolls, p.onsets, rng),
        "shuffled_bars": lambda p, rng: shuffled_bars(p.rolls, p.onsets, p.steps_per_bar, rng),
        "untrained_generator": untrained_generator,
    }
    assert tuple(families) == FAMILIES
    families.update({name: _scratch(fn) for name, fn in SCRATCH_FAMILIES.items() if name not in families})
    families.update({name: _derived(fn) for name, fn in DERIVED_FAMILIES.items()})
    families.update({name: _derived(fn) for name, fn in DERIVED.items()})
    if corpus:
        families.update({name: _from_corpus(fn, corpus) for name, fn in CORPUS.items()})
    families.update(extra or {})
    return families


def _from_corpus(family, corpus: list[Source]) -> Corruptor:
    return lambda piece, rng: family(corpus, piece.rolls.shape[1], rng)


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
def _crop(piece: Piece, steps: int, rng: np.random.Generator, shift: int) -> Piece:
    """A bar-aligned excerpt of ``steps`` steps (the whole piece when shorter), transposed by ``shift``."""
    n_bars = max(1, (piece.rolls.shape[1] - steps) // piece.steps_per_bar + 1)
    start = int(rng.integers(n_bars)) * piece.steps_per_bar
    rolls = transpose(piece.rolls[:, start : start + steps], shift)
    onsets = None if piece.onsets is None else transpose(piece.onsets[:, start : start + steps], shift)
    return Piece(piece.name, piece.split, rolls, piece.tempo_bpm, piece.time_signature, piece.steps_per_bar, onsets)


def perform(tracks: np.ndarray, onsets: np.ndarray | None, steps: int, factor: float, rng: np.random.Generator,
            tc: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """A window as a performer plays it: ``factor`` times as long, and (``tc.performed_share`` of the time) with a
    random articulation and onset jitter (TrainConfig's ranges)."""
    if rng.random() < tc.performed_share:
        articulation = float(rng.uniform(*tc.articulation_range))
        return performed(tracks, onsets, steps, factor=factor, articulation=articulation, spread=0.1,
                         jitter_steps=tc.jitter_steps if rng.random() < 0.5 else 0.0, rng=rng)
    return performed(tracks, onsets, steps, factor=factor)


def make_batch(pieces: list[Piece], families: dict[str, Corruptor], config: DiscriminatorConfig, batch_size: int,
               rng: np.random.Generator, tc: TrainConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(B, 6, W, P) features and (B,) labels: half real windows, half negative ones (families in turn), every one
    made at the source's tempo, then performed (`perform`) into W steps."""
    tc = tc or TrainConfig()
    w = config.window_steps
    names = [name for name in families for _ in range(tc.family_weights.get(name, 1))]
    offset = int(rng.integers(len(names)))  # every family in turn, from a random place: weights hold on average
    log_low, log_high = np.log(tc.stretch_range[0]), np.log(tc.stretch_range[1])
    xs, ys = [], []
    for i in range(batch_size):
        piece = pieces[int(rng.integers(len(pieces)))]
        shift = int(rng.integers(tc.transpose_range[0], tc.transpose_range[1] + 1))
        factor = float(np.exp(rng.uniform(log_low, log_high)))
        excerpt = _crop(piece, max(1, round(w / factor)), rng, shift)
        if i % 2 == 0:
            tracks, onsets, label = excerpt.rolls, excerpt.onsets, 1.0
        else:
            tracks, onsets = families[names[(offset + i // 2) % len(names)]](excerpt, rng)
            label = 0.0
        tracks, onsets = perform(tracks, onsets, min(w, round(tracks.shape[1] * factor)), factor, rng, tc)
        xs.append(feature_windows(piece_features(tracks, onsets), w, w)[0])
        ys.append(label)
    x = np.stack(xs)
    return (anchored(x, config.n_pitches) if config.n_pitches < 128 else x), np.array(ys, dtype=np.float32)


class ClimbPool:
    """Hill-climbs (hill_climb.Climber) going on against the model while it trains: every training step tries
    ``tries`` single-note mutations, kept when the model's realness of the whole piece does not drop; a climber
    starts again from a new parallel-harmony scale after ``length`` mutations. As a negative family it gives a
    window of a climber's current piece, so the model learns what the optimizer finds and the optimizer then climbs
    the new model, round after round."""

    SECONDS = 30

    def __init__(self, model: Discriminator, n: int, tries: int, length: int, seed: int) -> None:
        self.model, self.tries, self.length = model, tries, length
        self.rng = np.random.default_rng(seed)
        self.n_steps = self.SECONDS * 8
        self.climbers = [self._new(staggered=True) for _ in range(n)]
        self.finds: list[tuple[np.ndarray, np.ndarray]] = []  # finished climbs' pieces, as they were found

    def _new(self, staggered: bool = False) -> Climber:
        climber = Climber(start_piece(self.n_steps, self.rng), self.n_steps)
        if staggered:  # climbs of every age at once (a climber's age only decides when it starts again)
            climber.steps = int(self.rng.integers(self.length))
        return climber

    @torch.no_grad()
    def objective(self, tracks: np.ndarray, onsets: np.ndarray) -> float:
        cfg = self.model.config
        x = piece_windows(tracks, onsets, cfg.window_steps, cfg.hop_steps, n_pitches=cfg.n_pitches)
        return float(torch.sigmoid(self.model(torch.from_numpy(x))).mean())

    def advance(self) -> None:
        was_training = self.model.training
        self.model.eval()
        for _ in range(self.tries):
            i = int(self.rng.integers(len(self.climbers)))
            climber = self.climbers[i]
            climber.score = -np.inf  # the model has changed since its last step: score the piece again
            climber.step(self.objective, self.rng)
            if climber.steps >= self.length:
                self.finds.append(climber.piece())
                self.climbers[i] = self._new()
        self.model.train(was_training)

    def __call__(self, piece: Piece, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """An excerpt of the piece's length from a climber's piece (or an earlier find)."""
        k = int(rng.integers(len(self.climbers) + len(self.finds)))
        tracks, onsets = self.climbers[k].piece() if k < len(self.climbers) else self.finds[k - len(self.climbers)]
        return _excerpt(tracks, onsets, piece.rolls.shape[1], rng)


def _excerpt(tracks: np.ndarray, onsets: np.ndarray, n: int, rng: np.random.Generator):
    start = int(rng.integers(max(1, tracks.shape[1] - n + 1)))
    return tracks[:, start : start + n], onsets[:, start : start + n]


def stored_family(found: list[tuple[np.ndarray, np.ndarray]]) -> Corruptor:
    """A negative family of stored pieces (the climbs against the whole scorer): an excerpt of the piece's length."""

    def draw(piece: Piece, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return _excerpt(*found[int(rng.integers(len(found)))], piece.rolls.shape[1], rng)

    return draw


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
                x = piece_windows(tracks, onsets, cfg.window_steps, cfg.hop_steps, n_pitches=cfg.n_pitches)
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
                ) -> tuple[Discriminator, training.History, ClimbPool | None]:
    torch.manual_seed(train_config.seed)
    rng = np.random.default_rng(train_config.seed)
    model = build_model(config)
    climbs = None
    extra: dict[str, Corruptor] = {}
    if train_config.climbers:
        climbs = ClimbPool(model, train_config.climbers, train_config.climb_tries, train_config.climb_length,
                           train_config.seed + 1)
        extra["hill_climb"] = climbs
    found = load_pieces()  # the previous round's climbs against the whole automatic score (none: no such family)
    if found:
        extra["scorer_climb"] = stored_family(found)
    families = family_corruptors(extra, corpus=corpus_sources(pieces))

    def batch_loss(step: int) -> torch.Tensor:
        if climbs is not None:
            climbs.advance()
        x, y = make_batch(pieces, families, config, train_config.batch_size, rng, train_config)
        logits = model(torch.from_numpy(x).to(device))
        return functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y).to(device))

    result = training.fit(model, config=train_config, batch_loss=batch_loss, device=device, progress=progress,
                          on_progress=on_progress, desc="discriminator")
    return model, result.history, climbs


def train(*, data: str | Path | None = None, pieces: list[Piece] | None = None, steps: int | None = None,
          out: str | Path, device: str = "cpu", progress: bool = True,
          model_config: DiscriminatorConfig | None = None, eval_seed: int = 1234, max_eval_pieces: int | None = None,
          trained_on: str | None = None, on_progress: training.ProgressCallback | None = None) -> dict:
    """Train on the chorales, or on a reference set (``pieces`` on the sounded grid, or the MIDI files of ``data``),
    fit the temperature on held-out pieces, measure them, and write the checkpoint, loss.png and MODEL_CARD.md into
    ``out``. Returns the metrics (also in config.json). The arguments are the other trainers' (training module)."""
    started = time.time()
    training.check_device(device)
    config = model_config
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
    tc = training.with_steps(TrainConfig(), steps)
    model, history, climbs = train_model(train_pieces, config, tc, device=device, progress=progress,
                                         on_progress=on_progress)
    # measured on held-out pieces: the corpus families draw on them, the climbs' finds are scored as they are
    valid_families = family_corruptors(corpus=corpus_sources(valid or train_pieces[:20]))
    temperature = fit_temperature(piece_window_logits(model, valid or train_pieces[:20], valid_families, eval_seed))
    model.temperature.fill_(temperature)
    families = family_corruptors(corpus=corpus_sources(test or valid))
    logits = piece_window_logits(model, test or valid, families, eval_seed + 1)
    if climbs is not None and climbs.finds:
        cfg = model.config
        with torch.no_grad():
            logits["hill_climb"] = [model(torch.from_numpy(piece_windows(t, o, cfg.window_steps, cfg.hop_steps,
                                                                         n_pitches=cfg.n_pitches))).numpy()
                                    for t, o in climbs.finds[-len(logits["real"]):]]  # fmt: skip
    metrics = evaluate(logits, temperature)
    metrics.update(scorer_climb_pieces=len(load_pieces()))
    metrics.update(temperature=temperature, steps=tc.steps, final_loss=float(np.mean(history.train_loss[-100:])),
                   train_seconds=round(time.time() - started, 1), n_train_pieces=len(train_pieces),
                   families=list(logits)[1:], held_out=[p.name for p in test][:50])
    out = Path(out)
    save_checkpoint(model.cpu(), spec=spec, config=config_to_dict(model.config), out=out,
                    trained_on=trained_on, metrics=metrics)
    training.plot_history(history, out / "loss.png", title="Realness discriminator training",
                          ylabel="binary cross-entropy", log_y=True)
    write_model_card(out, config, tc, metrics, trained_on)
    return metrics
