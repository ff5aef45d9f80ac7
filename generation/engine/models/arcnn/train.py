"""Train the AR-CNN (`manage.py train arcnn` calls `train` through the registry).

Data: every voice of every chorale (soprano, alto, tenor, bass) as its own one-voice roll, and the four voices OR-ed
into one roll (DeepComposer's setting: one piano track), cut into 8-bar (128-step) windows starting every bar-length
hop; empty windows are skipped. A `merged_fraction` share of each batch is drawn from the merged windows, the rest
from the single voices. Train windows are transposed by a random shift in -5..+6 semitones each time they are drawn
(train split only). Pairs are made on the fly by `make_training_pairs`. The validation loss is computed every
`eval_every` steps on the valid split (single-voice and merged windows) with a fixed corruption seed; the weights
with the best validation loss are the ones saved. A tqdm bar shows progress and a loss-curve PNG is written.

The default procedure (DEFAULT_RECIPE) has two stages: PRETRAIN_RECIPE (the first mixed model's recipe) from scratch,
then fine-tuning on corruptions nearer the sampler's test-time states (more merged rows; their random cells inside
the window's pitch span). `train(init_from=DIR)` skips stage 1 and fine-tunes the weights in DIR.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from generation.engine.models.arcnn.model import ARCNN, arcnn_loss, make_edit_pairs, make_training_pairs
from generation.engine.models.arcnn.spec import ARCHITECTURE, ARCNNConfig, n_parameters
from generation.engine.dataset import Piece, load_chorales, load_midi_folder, pieces_split, transpose

DEFAULT_OUT_DIR = Path(__file__).resolve().parents[3] / "checkpoints" / "arcnn"  # generation/checkpoints/arcnn


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 3000  # stage 1's length (PRETRAIN_RECIPE): ~18 min on one busy CPU core at batch 16
    batch_size: int = 16  # small batches, many updates: the CPU budget buys few samples, so updates matter more
    lr: float = 2e-3  # AdamW peak learning rate
    weight_decay: float = 1e-4
    warmup_steps: int = 100  # linear warm-up, then cosine decay to 5 % of lr
    eval_every: int = 500  # validation loss every this many steps (and at the end)
    hop: int = 16  # train windows start every 16 steps (one 4/4 bar): overlapping windows = more data
    valid_hop: int = 64  # validation windows every 4 bars
    max_transpose: int = 6  # train-only augmentation: shift in -(max-1)..+max semitones
    remove_pct: tuple[float, float] = (0.0, 100.0)  # the reference's corruption: remove 0-100 % of note cells ...
    add_pct: tuple[float, float] = (1.0, 1.5)  # ... and add 1-1.5 % of the empty cells at random
    focus_fraction: float = 0.5  # this share of each batch is corrupted like the states the sampler walks through
    focus_remove_pct: tuple[float, float] = (30.0, 70.0)  # around the benchmark's 50 % removal ...
    focus_add_pct: tuple[float, float] = (0.25, 1.25)  # ... and fewer random cells, as after some removals
    merged_fraction: float = 0.5  # share of each batch drawn from four-voice merged rolls (DeepComposer edits a
    #                               merged piano track; a single-voice-only model breaks chords apart there)
    span_adds_merged: bool = False  # merged rows of the focus share add their random cells inside the window's
    #                                 pitch span (the merged benchmark's corruption), not anywhere in 128 pitches
    pretrain_steps: int = 0  # > 0: first train PRETRAIN_RECIPE from scratch for this many steps, then this recipe
    edit_kinds: tuple[float, float, float] = (0.0, 0.0, 0.0)  # > 0: every row is a merged window of the voices,
    #   paired by model.make_edit_pairs in these shares: whole notes removed (remove_pct of the notes) + short random
    #   notes (add_pct of the span's empty cells), whole voices removed but the melody, cell-level (the reference's);
    #   the single-voice / merged_fraction / focus settings above are then unused
    keep_voice: float = 0.3  # edit pairs "voices removed": each voice but the melody is kept with this probability
    seed: int = 0


# Stage 1 of the default procedure: the first mixed model's recipe (shipped 2026-11-26, merged span gain 0.081).
PRETRAIN_RECIPE = TrainConfig(steps=3000)
# The default procedure: PRETRAIN_RECIPE for 3,000 steps, then 1,800 fine-tuning steps at half the peak lr with
# 70 % of each batch corrupted like the sampler's states (30-70 % removed, 0.5-1.5 % added: the benchmarks add 1 %),
# merged rows adding inside their pitch span. Chosen on the valid split against merged_fraction 0.7 / focus 0.5.
# The default procedure (issue 10): PRETRAIN_RECIPE for 3,000 steps, then 300 steps at batch 8 on make_edit_pairs
# (40 % whole notes removed + short random notes, 35 % a melody without its other voices, 25 % the reference's
# cell-level corruption), all on merged windows; the sampler's pitch range, key mask and flips per pass go into the
# config. Short because the shared CPU allowed no more (see the model card).
DEFAULT_RECIPE = TrainConfig(steps=300, batch_size=8, lr=1e-3, warmup_steps=50, eval_every=100,
                             remove_pct=(0.0, 100.0), add_pct=(0.5, 1.5), edit_kinds=(0.4, 0.35, 0.25), keep_voice=0.3,
                             pretrain_steps=3000)
# Sampler settings written into every trained config (chosen on the valid split, benchmarks/arcnn_quality.py):
FLIPS_PER_PASS = 2  # flips per network pass (100 edits = at most 50 passes)
SUSTAIN_STEPS = 8  # an added cell is held as a note up to the input's next onset, 8 steps (half a bar) at most
KEY_MASK = True  # notes are added only in the input's key (or at pitch classes it uses)


@dataclass
class WindowSet:
    """Windows as (roll index, start) pairs into a list of (T, 128) one-voice rolls; gathered per batch."""

    rolls: list[np.ndarray]
    index: np.ndarray  # int64 (N, 2): roll number, start step

    def __len__(self) -> int:
        return len(self.index)

    def gather(self, rows: np.ndarray, steps: int) -> np.ndarray:
        out = np.zeros((len(rows), steps, 128), dtype=bool)
        for k, (roll_no, start) in enumerate(self.index[rows].tolist()):
            part = self.rolls[roll_no][start : start + steps]
            out[k, : len(part)] = part
        return out


def build_windows(pieces: list[Piece], steps: int, hop: int, *, merged: bool = False) -> WindowSet:
    """Every voice of every piece (merged: the piece's voices OR-ed into one roll), cut every `hop` steps into
    `steps`-long windows that hold at least one note."""
    rolls, index = [], []
    for piece in pieces:
        for voice in ([piece.rolls.any(axis=0)] if merged else piece.rolls):  # (T, 128) each
            if not voice.any():
                continue
            roll_no = len(rolls)
            rolls.append(voice)
            active = voice.any(axis=1)
            last_start = max(voice.shape[0] - steps, 0)
            for start in range(0, last_start + 1, hop):
                if active[start : start + steps].any():
                    index.append((roll_no, start))
    return WindowSet(rolls=rolls, index=np.array(index, dtype=np.int64).reshape(-1, 2))


@dataclass
class VoiceWindows:
    """Windows of whole pieces (every voice, with onsets) as (piece index, start) pairs; gathered per batch."""

    rolls: list[np.ndarray]  # (V, T, 128) each
    onsets: list[np.ndarray]
    index: np.ndarray  # int64 (N, 2)

    def __len__(self) -> int:
        return len(self.index)

    def gather(self, rows: np.ndarray, steps: int, shifts: np.ndarray | None = None) -> tuple[torch.Tensor, ...]:
        """((B, V, steps, 128) voices, onsets), each window transposed by shifts[k] semitones (train only)."""
        n_voices = self.rolls[0].shape[0]
        voices = np.zeros((len(rows), n_voices, steps, 128), dtype=bool)
        onsets = np.zeros_like(voices)
        for k, (piece_no, start) in enumerate(self.index[rows].tolist()):
            part = self.rolls[piece_no][:, start : start + steps]
            starts = self.onsets[piece_no][:, start : start + steps]
            shift = 0 if shifts is None else int(shifts[k])
            voices[k, :, : part.shape[1]] = transpose(part, shift)
            onsets[k, :, : part.shape[1]] = transpose(starts, shift)
        return torch.from_numpy(voices), torch.from_numpy(onsets)


def build_voice_windows(pieces: list[Piece], steps: int, hop: int) -> VoiceWindows:
    """Every piece's voices, cut every `hop` steps into `steps`-long windows that hold at least one note."""
    rolls, onsets, index = [], [], []
    for piece in pieces:
        piece_onsets = piece.onsets if piece.onsets is not None else np.zeros_like(piece.rolls)
        active = piece.rolls.any(axis=(0, 2))
        for start in range(0, max(piece.rolls.shape[1] - steps, 0) + 1, hop):
            if active[start : start + steps].any():
                index.append((len(rolls), start))
        rolls.append(piece.rolls)
        onsets.append(piece_onsets)
    return VoiceWindows(rolls=rolls, onsets=onsets, index=np.array(index, dtype=np.int64).reshape(-1, 2))


def pitch_range(pieces: list[Piece], max_transpose: int) -> tuple[int, int]:
    """Lowest and highest pitch of the pieces, widened by the training transpositions (-(max-1)..+max)."""
    sounding = np.flatnonzero(np.any([p.rolls.any(axis=(0, 1)) for p in pieces], axis=0))
    if len(sounding) == 0:
        return 0, 127
    return max(int(sounding[0]) - (max_transpose - 1), 0), min(int(sounding[-1]) + max_transpose, 127)


def _edit_kinds(cfg: TrainConfig, n: int, rng: np.random.Generator) -> torch.Tensor:
    shares = np.asarray(cfg.edit_kinds, dtype=np.float64)
    return torch.from_numpy(rng.choice(3, n, p=shares / shares.sum()))


def concat_windows(first: WindowSet, second: WindowSet) -> WindowSet:
    offset = np.array([len(first.rolls), 0], dtype=np.int64)
    return WindowSet(rolls=first.rolls + second.rolls, index=np.concatenate([first.index, second.index + offset]))


def load_pieces(data_dir: str | Path | None) -> tuple[list[Piece], list[Piece], str]:
    """(train pieces, valid pieces, description). A folder without valid pieces validates on its train pieces."""
    if data_dir is None:
        pieces = load_chorales()
        trained_on = "music21 Bach chorales, train split (r % 10 not in {0, 1}), 4 voices"
    else:
        pieces = load_midi_folder(data_dir)
        trained_on = f"MIDI folder {Path(data_dir).name}, train split (stable name hash), up to 4 tracks"
    train_pieces, valid_pieces = pieces_split(pieces, "train"), pieces_split(pieces, "valid")
    if not train_pieces:
        train_pieces = valid_pieces or pieces_split(pieces, "test")
    if not valid_pieces:
        valid_pieces = train_pieces
    return train_pieces, valid_pieces, trained_on


def _lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0))))


@torch.no_grad()
def validation_loss(model: ARCNN, valid: WindowSet | VoiceWindows, steps: int, cfg: TrainConfig,
                    device: str) -> float:
    """Mean loss over every valid window, corrupted with a fixed seed (comparable across evaluations)."""
    model.eval()
    generator = torch.Generator().manual_seed(1234)
    kinds = _edit_kinds(cfg, len(valid), np.random.default_rng(1234)) if isinstance(valid, VoiceWindows) else None
    total, count = 0.0, 0
    for lo in range(0, len(valid), 64):
        rows = np.arange(lo, min(lo + 64, len(valid)))
        if kinds is not None:
            voices, onsets = valid.gather(rows, steps)
            corrupted, target = make_edit_pairs(voices, onsets, kinds[rows], remove_pct=cfg.remove_pct,
                                                add_pct=cfg.add_pct, keep_voice=cfg.keep_voice, generator=generator)
        else:
            clean = torch.from_numpy(valid.gather(rows, steps))
            corrupted, target = make_training_pairs(clean, remove_pct=cfg.remove_pct, add_pct=cfg.add_pct,
                                                    generator=generator)
        loss = arcnn_loss(model(corrupted.to(device)), target.to(device))
        total += loss.item() * len(rows)
        count += len(rows)
    model.train()
    return total / max(count, 1)


def _random_batch(train: WindowSet, merged: WindowSet, steps: int, cfg: TrainConfig,
                  rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """((batch_size, steps, 128) bool, (batch_size,) bool is-merged): single-voice and (a merged_fraction share)
    merged windows, shuffled together, each transposed at random."""
    n_merged = round(cfg.merged_fraction * cfg.batch_size) if len(merged) else 0
    batch = np.concatenate([train.gather(rng.integers(0, len(train), cfg.batch_size - n_merged), steps),
                            merged.gather(rng.integers(0, len(merged), n_merged), steps)])
    order = rng.permutation(cfg.batch_size)
    batch = batch[order]  # merged rows land in both corruption recipes
    is_merged = torch.from_numpy(order >= cfg.batch_size - n_merged)
    shifts = rng.integers(-cfg.max_transpose + 1, cfg.max_transpose + 1, cfg.batch_size)
    for k, shift in enumerate(shifts.tolist()):
        batch[k] = transpose(batch[k], shift)
    return torch.from_numpy(batch), is_merged


def _training_batch(
    clean: torch.Tensor, is_merged: torch.Tensor, cfg: TrainConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(corrupted, target): the reference's corruption, plus a `focus_fraction` share near the sampler's states."""
    n_focus = round(cfg.focus_fraction * len(clean))
    parts = [make_training_pairs(clean[n_focus:], remove_pct=cfg.remove_pct, add_pct=cfg.add_pct,
                                 generator=generator)]
    if n_focus:
        parts.append(make_training_pairs(clean[:n_focus], remove_pct=cfg.focus_remove_pct,
                                         add_pct=cfg.focus_add_pct, generator=generator,
                                         span_rows=is_merged[:n_focus] if cfg.span_adds_merged else None))
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def save_loss_plot(history: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    train_steps, train_loss = history["train_steps"], history["train_loss"]
    if train_loss:
        k = max(1, len(train_loss) // 100)
        smooth = np.convolve(train_loss, np.ones(k) / k, mode="valid")
        ax.plot(train_steps[k - 1 :], smooth, label=f"train (moving mean of {k})", alpha=0.8)
    ax.plot(history["valid_steps"], history["valid_loss"], "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("KL loss (nats)")
    ax.set_title("AR-CNN training")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _edit_recipe_lines(cfg: TrainConfig, trained_on: str) -> list[str]:
    notes, voices, cells = (100 * share / sum(cfg.edit_kinds) for share in cfg.edit_kinds)
    return [
        f"- data: {trained_on}; every row is an 8-bar (128-step) window of a piece's voices merged into one roll, "
        f"windows every {cfg.hop} steps, transposed -{cfg.max_transpose - 1}..+{cfg.max_transpose} semitones (train "
        f"only); validation on the valid split windows every {cfg.valid_hop} steps, same pairs with a fixed seed",
        f"- training pairs (model.make_edit_pairs): {notes:.0f} % whole notes removed (each with a probability "
        f"uniform in {cfg.remove_pct[0]:g}-{cfg.remove_pct[1]:g} %) plus short random notes (1-4 steps) on "
        f"{cfg.add_pct[0]:g}-{cfg.add_pct[1]:g} % of the empty cells within the pitch span; {voices:.0f} % the "
        f"melody (top voice) kept and each other voice kept with probability {cfg.keep_voice:g}, the rest removed "
        f"(a tune to harmonize), plus up to half as many random notes; {cells:.0f} % the reference's cell-level "
        f"corruption (random cells within the span); target = XOR; loss = per-sample KL",
    ]


def write_model_card(out_dir: Path, model_config: ARCNNConfig, cfg: TrainConfig, metrics: dict, trained_on: str,
                     command: str) -> None:
    lines = [
        "# AR-CNN default checkpoint",
        "",
        "A U-Net that edits a piano roll, one voice or several merged (DeepComposer's AR-CNN task), trained by:",
        "",
        f"    {command}",
        "",
        *(_edit_recipe_lines(cfg, trained_on) if sum(cfg.edit_kinds) > 0 else [
        f"- data: {trained_on} ({100 * cfg.merged_fraction:g} % of each batch merged); 8-bar (128-step) windows "
        f"every {cfg.hop} steps, transposed -"
        f"{cfg.max_transpose - 1}..+{cfg.max_transpose} semitones (train only); validation on the valid split "
        f"(r % 10 == 1) windows every {cfg.valid_hop} steps, single-voice and merged",
        f"- training pairs: remove {cfg.remove_pct[0]:g}-{cfg.remove_pct[1]:g} % of note cells, add "
        f"{cfg.add_pct[0]:g}-{cfg.add_pct[1]:g} % of empty cells (the reference's), for "
        f"{100 * (1 - cfg.focus_fraction):g} % of each batch; the rest remove {cfg.focus_remove_pct[0]:g}-"
        f"{cfg.focus_remove_pct[1]:g} % and add {cfg.focus_add_pct[0]:g}-{cfg.focus_add_pct[1]:g} %"
        + (" (merged rows: of the empty cells within the window's pitch span, placed there)"
           if cfg.span_adds_merged else "") + "; target = XOR; loss = per-sample KL"]),
        f"- started from: {metrics['started_from']}"
        + (f" ({metrics['pretrain_seconds']:.0f} s)" if metrics["pretrain_seconds"] else ""),
        f"- steps: {metrics['steps']} at batch {cfg.batch_size}, AdamW lr {cfg.lr:g} (warm-up + cosine); "
        f"training time {metrics['train_seconds']:.0f} s on {metrics['device']} (torch threads: {metrics['threads']})",
        f"- best validation loss: {metrics['best_valid_loss']:.4f} at step {metrics['best_step']} "
        + (f"(train windows {metrics['n_train_voice_windows']} merged, valid windows {metrics['n_valid_windows']})"
           if sum(cfg.edit_kinds) > 0 else
           f"(train windows {metrics['n_train_windows']} single-voice + {metrics['n_train_merged_windows']} merged, "
           f"valid windows {metrics['n_valid_windows']})"),
        f"- model: {metrics['n_parameters']:,} parameters; config: `{json.dumps(asdict(model_config))}`",
        f"- sampler: notes are added only at pitches {model_config.pitch_low}..{model_config.pitch_high} (the "
        f"training data's range, transpositions included)" + (", in the input's key" if model_config.key_mask else "")
        + f"; {model_config.flips_per_pass} cells sampled per network pass (Gumbel top-k, without replacement)"
        + (f"; an added cell is held as a note up to the input's next onset, {model_config.sustain_steps} steps at "
           "most" if model_config.sustain_steps > 1 else ""),
        f"- sampling prior add_logit_bias = {model_config.add_logit_bias:g} (a config default, not trained: added to "
        "the logits of empty cells at inference, chosen on the valid split; restoring a removed cell is worth more "
        "than deleting a stray one)",
        "",
        "Quality and speed: see benchmarks/README.md, section AR-CNN (`benchmarks/arcnn_quality.py`,",
        "`benchmarks/arcnn_speed.py`).",
        "",
    ]
    (out_dir / "MODEL_CARD.md").write_text("\n".join(lines))


def _fit(model: ARCNN, data: tuple, cfg: TrainConfig, device: str,
         progress: bool, desc: str) -> tuple[dict, tuple[float, int, dict], float]:
    """Train `model` in place with `cfg` (seeded from cfg.seed); returns (loss history, (best valid loss, its step,
    its weights), seconds). data: (train single-voice, train merged, valid, train voice windows, valid voice windows)
    windows."""
    train_set, merged_set, valid_set, voice_set, voice_valid = data
    n_steps = model.config.window_steps
    rng = np.random.default_rng(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    history: dict[str, list] = {"train_steps": [], "train_loss": [], "valid_steps": [], "valid_loss": []}
    best = (math.inf, 0, copy.deepcopy(model.state_dict()))
    started = time.perf_counter()
    bar = tqdm(range(cfg.steps), desc=desc, unit="step", disable=not progress)
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, cfg)
        if sum(cfg.edit_kinds) > 0:  # merged windows of the voices, make_edit_pairs
            voices, onsets = voice_set.gather(rng.integers(0, len(voice_set), cfg.batch_size), n_steps,
                                              rng.integers(-cfg.max_transpose + 1, cfg.max_transpose + 1,
                                                           cfg.batch_size))
            corrupted, target = make_edit_pairs(voices, onsets, _edit_kinds(cfg, cfg.batch_size, rng),
                                                remove_pct=cfg.remove_pct, add_pct=cfg.add_pct,
                                                keep_voice=cfg.keep_voice, generator=generator)
        else:
            clean, is_merged = _random_batch(train_set, merged_set, n_steps, cfg, rng)
            corrupted, target = _training_batch(clean, is_merged, cfg, generator)
        loss = arcnn_loss(model(corrupted.to(device)), target.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history["train_steps"].append(step + 1)
        history["train_loss"].append(loss.item())
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            val = validation_loss(model, voice_valid if sum(cfg.edit_kinds) > 0 else valid_set, n_steps, cfg,
                                  device)
            history["valid_steps"].append(step + 1)
            history["valid_loss"].append(val)
            if val < best[0]:
                best = (val, step + 1, copy.deepcopy(model.state_dict()))
            bar.set_postfix(loss=f"{loss.item():.3f}", valid=f"{val:.3f}", best=f"{best[0]:.3f}")
        elif step % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}", best=f"{best[0]:.3f}")
    return history, best, time.perf_counter() - started


def scaled_to_steps(cfg: TrainConfig, total: int) -> TrainConfig:
    """`train --steps N` is the whole run: with a pre-training stage, both stages keep the recipe's proportions
    (DEFAULT_RECIPE: 3,000 + 1,800 steps; --steps 80 gives 50 + 30)."""
    if cfg.pretrain_steps <= 0 or total < 2:
        return TrainConfig(**{**asdict(cfg), "steps": max(total, 1), "pretrain_steps": 0})
    pre = round(total * cfg.pretrain_steps / (cfg.pretrain_steps + cfg.steps))
    pre = min(max(pre, 1), total - 1)
    return TrainConfig(**{**asdict(cfg), "steps": total - pre, "pretrain_steps": pre})


def train(
    data_dir: str | Path | None = None,
    steps: int | None = None,
    out_dir: str | Path | None = None,
    device: str = "cpu",
    *,
    model_config: ARCNNConfig | None = None,
    train_config: TrainConfig | None = None,
    init_from: str | Path | None = None,
    progress: bool = True,
) -> dict:
    """Train an AR-CNN and write model.safetensors, config.json, loss.png and MODEL_CARD.md to `out_dir`.

    The defaults (DEFAULT_RECIPE: PRETRAIN_RECIPE from scratch, then the fine-tuning recipe) reproduce the shipped
    checkpoint (generation/checkpoints/arcnn). `init_from` (a checkpoint folder) skips the pre-training stage and
    starts from those weights instead. `steps` is the whole run's length (see scaled_to_steps). Returns the metrics.
    """
    from generation.engine.checkpoint import load_checkpoint, save_checkpoint

    model_config = model_config or ARCNNConfig()
    cfg = train_config or DEFAULT_RECIPE
    if steps is not None:
        cfg = scaled_to_steps(cfg, int(steps))
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)

    train_pieces, valid_pieces, trained_on = load_pieces(data_dir)
    n_steps = model_config.window_steps
    merged_valid = cfg.merged_fraction > 0 or cfg.pretrain_steps > 0
    valid_set = build_windows(valid_pieces, n_steps, cfg.valid_hop)
    if merged_valid:
        valid_set = concat_windows(valid_set, build_windows(valid_pieces, n_steps, cfg.valid_hop, merged=True))
    data = (build_windows(train_pieces, n_steps, cfg.hop), build_windows(train_pieces, n_steps, cfg.hop, merged=True),
            valid_set, build_voice_windows(train_pieces, n_steps, cfg.hop),
            build_voice_windows(valid_pieces, n_steps, cfg.valid_hop))

    pretrain_seconds, started_from = 0.0, "scratch"
    if init_from is not None:
        model = load_checkpoint(init_from, architecture=ARCHITECTURE)[0].to(device).train()
        model_config, started_from = model.config, str(init_from)
    else:
        model = ARCNN(model_config).to(device)
        if cfg.pretrain_steps > 0:
            stage1 = TrainConfig(**{**asdict(PRETRAIN_RECIPE), "steps": cfg.pretrain_steps, "seed": cfg.seed})
            _history, best, pretrain_seconds = _fit(model, data, stage1, device, progress, "train arcnn (stage 1)")
            model.load_state_dict(best[2])
            started_from = f"stage 1: PRETRAIN_RECIPE, {cfg.pretrain_steps} steps"
    history, best, train_seconds = _fit(model, data, cfg, device, progress, "train arcnn")

    model.load_state_dict(best[2])
    low, high = pitch_range(train_pieces, cfg.max_transpose)  # the sampler adds no note outside what it saw
    model_config = replace(model_config, pitch_low=low, pitch_high=high, flips_per_pass=FLIPS_PER_PASS,
                           sustain_steps=SUSTAIN_STEPS, key_mask=KEY_MASK)
    model.config = model_config
    model.to("cpu").eval()
    metrics = {
        "best_valid_loss": round(best[0], 5),
        "best_step": best[1],
        "final_valid_loss": round(history["valid_loss"][-1], 5),
        "steps": cfg.steps,
        "started_from": started_from,
        "pretrain_seconds": round(pretrain_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        "device": device,
        "threads": torch.get_num_threads(),
        "n_train_windows": len(data[0]),
        "n_train_merged_windows": len(data[1]),
        "n_valid_windows": len(data[4]) if sum(cfg.edit_kinds) > 0 else len(valid_set),
        "n_train_voice_windows": len(data[3]),
        "n_parameters": n_parameters(model_config),
        "train_config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()},
    }
    save_checkpoint(model, architecture=ARCHITECTURE, config=asdict(model_config), out_dir=out,
                    trained_on=trained_on, metrics=metrics)
    save_loss_plot(history, out / "loss.png")
    command = "python manage.py train arcnn" + (f" --data {data_dir}" if data_dir else "") + (
        f" --steps {cfg.steps}" if cfg.steps != DEFAULT_RECIPE.steps else "")
    write_model_card(out, model_config, cfg, metrics, trained_on, command)
    return metrics
