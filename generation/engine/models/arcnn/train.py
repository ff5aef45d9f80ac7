"""Train the AR-CNN (`manage.py train arcnn` calls `train` through the registry).

Data: every voice of every chorale (soprano, alto, tenor, bass) as its own one-voice roll, and the four voices OR-ed
into one roll (DeepComposer's setting: one piano track), cut into 8-bar (128-step) windows starting every bar-length
hop; empty windows are skipped. A `merged_fraction` share of each batch is drawn from the merged windows, the rest
from the single voices. Train windows are transposed by a random shift in -5..+6 semitones each time they are drawn
(train split only). Pairs are made on the fly by `make_training_pairs`. The validation loss is computed every
`eval_every` steps on the valid split (single-voice and merged windows) with a fixed corruption seed; the weights
with the best validation loss are the ones saved. A tqdm bar shows progress and a loss-curve PNG is written.

The default procedure (DEFAULT_RECIPE) has two stages: PRETRAIN_RECIPE (the first mixed model's recipe) from scratch,
then fine-tuning on `make_edit_pairs` (TrainConfig.edit_kinds): merged windows of the voices with whole notes removed
and short random notes added, a melody without its other voices (to learn to harmonize a tune), and the reference's
cell-level corruption. The trained config also carries the sampler's settings: the training data's pitch range
(transpositions included), the key mask, notes held to the next onset, flips per pass. `train(init_from=DIR)` skips
stage 1 and fine-tunes the weights in DIR.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from generation.engine import training
from generation.engine.checkpoint import load_state_dict, read_checkpoint, save_checkpoint
from generation.engine.dataset import Piece, transpose
from generation.engine.models.arcnn import spec
from generation.engine.models.arcnn.model import ARCNN, arcnn_loss, make_edit_pairs, make_training_pairs
from generation.engine.models.arcnn.spec import ARCHITECTURE, ARCNNConfig, n_parameters


@dataclass(frozen=True)
class TrainConfig(training.TrainConfig):
    steps: int = 3000  # stage 1's length (PRETRAIN_RECIPE): ~18 min on one busy CPU core at batch 16
    lr: float = 2e-3  # AdamW peak learning rate
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
    voice_span: float = 0.0  # edit pairs "voices removed": a removed voice goes only over a random span (>= a bar)
    #                          with this probability, else whole (harmony missing in places, as in a user's file)
    clean_fraction: float = 0.0  # edit pairs: this share of the rows is left uncorrupted, its target the model's
    #                              "nothing to change" outcome (config stop_logit): the sampler learns when to stop


# Stage 1 of the default procedure: the first mixed model's recipe (shipped 2026-11-26, merged span gain 0.081).
PRETRAIN_RECIPE = TrainConfig(steps=3000)
# The default procedure (issue 21): PRETRAIN_RECIPE for 3,000 steps, then 900 steps at batch 8 on make_edit_pairs,
# all on merged windows: 55 % a melody with its lower voices removed (each kept with probability 0.25; a removed voice
# goes whole, or over a random span of bars half the time) -- the target is Bach's real notes under that melody, so
# the model learns to add his harmony, not notes anywhere in the key; 30 % whole notes removed + short random notes
# (to learn removals); 15 % the reference's cell-level corruption.
DEFAULT_RECIPE = TrainConfig(steps=900, batch_size=8, lr=1e-3, warmup_steps=50, eval_every=150,
                             remove_pct=(0.0, 100.0), add_pct=(0.5, 1.5), edit_kinds=(0.3, 0.55, 0.15),
                             keep_voice=0.25, voice_span=0.5, clean_fraction=0.1, pretrain_steps=3000)
# Sampler settings written into every trained config (chosen on the valid split, benchmarks/arcnn_quality.py):
FLIPS_PER_PASS = 2  # flips per network pass (100 edits = at most 50 passes)
SUSTAIN_STEPS = 8  # an added cell is held as a note up to the input's next onset, 8 steps (half a bar) at most
KEY_MASK = True  # notes are added only in the input's key (or at pitch classes it uses)
STOP_LOGIT = True  # the model learns a "nothing to change" outcome (uncorrupted rows, clean_fraction)
CONFIDENCE = -3.0  # the sampler flips only cells whose logit beats the stop outcome's by this (log odds): chosen on
#                   the valid split (benchmarks/arcnn_quality.py --split valid --confidence X)
# The musician's decoding rules (issue 21, chosen on the valid split with the shipped weights; spec.ARCNNConfig says
# what each does): additions only of the beat's chord tones (chords.beat_chords, with the melody-degree prior),
# under a sounding note, at least an eighth long, where fewer than 4 notes sound, the chord's missing tones first;
# a bare melody's additions need 3 log-odds less than a removal.
CHORD_SAMPLER = {"chord_rule": True, "chord_prior_weight": 0.3, "complete_bias": 3.0, "min_add_steps": 2,
                 "max_voices": 4, "add_confidence_offset": -3.0, "tie_added": True, "removals_first": True}


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


def _keep_clean(corrupted: torch.Tensor, target: torch.Tensor, cfg: TrainConfig,
                rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A clean_fraction share of the rows back to their uncorrupted roll, with an empty target (nothing to change)."""
    rows = torch.from_numpy(rng.random(len(corrupted)) < cfg.clean_fraction)
    if not bool(rows.any()):
        return corrupted, target
    corrupted, target = corrupted.clone(), target.clone()
    corrupted[rows] = corrupted[rows] ^ target[rows]
    target[rows] = False
    return corrupted, target


def _uses_edit_pairs(cfg: TrainConfig) -> bool:
    return sum(cfg.edit_kinds) > 0


def concat_windows(first: WindowSet, second: WindowSet) -> WindowSet:
    offset = np.array([len(first.rolls), 0], dtype=np.int64)
    return WindowSet(rolls=first.rolls + second.rolls, index=np.concatenate([first.index, second.index + offset]))


def describe_data(corpus: training.Corpus) -> str:
    """What the card says the model was trained on."""
    if corpus.folder is None:
        return "music21 Bach chorales, train split (r % 10 not in {0, 1}), 4 voices"
    return f"MIDI folder {corpus.folder}, train split (stable name hash), up to 4 tracks"


@torch.no_grad()
def validation_loss(model: ARCNN, valid: WindowSet | VoiceWindows, steps: int, cfg: TrainConfig,
                    device: str) -> float:
    """Mean loss over every valid window, corrupted with a fixed seed (comparable across evaluations)."""
    generator = torch.Generator().manual_seed(1234)
    kinds = _edit_kinds(cfg, len(valid), np.random.default_rng(1234)) if isinstance(valid, VoiceWindows) else None
    clean_rng = np.random.default_rng(4321)
    total, count = 0.0, 0
    for lo in range(0, len(valid), 64):
        rows = np.arange(lo, min(lo + 64, len(valid)))
        if kinds is not None:
            voices, onsets = valid.gather(rows, steps)
            corrupted, target = make_edit_pairs(voices, onsets, kinds[rows], remove_pct=cfg.remove_pct,
                                                add_pct=cfg.add_pct, keep_voice=cfg.keep_voice,
                                                voice_span=cfg.voice_span, generator=generator)
            corrupted, target = _keep_clean(corrupted, target, cfg, clean_rng)
        else:
            clean = torch.from_numpy(valid.gather(rows, steps))
            corrupted, target = make_training_pairs(clean, remove_pct=cfg.remove_pct, add_pct=cfg.add_pct,
                                                    generator=generator)
        loss = arcnn_loss(model(corrupted.to(device)), target.to(device), stop=model.config.stop_logit)
        total += loss.item() * len(rows)
        count += len(rows)
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


def _edit_recipe_facts(cfg: TrainConfig, trained_on: str) -> list[str]:
    notes, voices, cells = (100 * share / sum(cfg.edit_kinds) for share in cfg.edit_kinds)
    return [
        f"data: {trained_on}; every row is an 8-bar (128-step) window of a piece's voices merged into one roll, "
        f"windows every {cfg.hop} steps, transposed -{cfg.max_transpose - 1}..+{cfg.max_transpose} semitones (train "
        f"only); validation on the valid split windows every {cfg.valid_hop} steps, same pairs with a fixed seed",
        f"training pairs (model.make_edit_pairs): {notes:.0f} % whole notes removed (each with a probability "
        f"uniform in {cfg.remove_pct[0]:g}-{cfg.remove_pct[1]:g} %) plus short random notes (1-4 steps) on "
        f"{cfg.add_pct[0]:g}-{cfg.add_pct[1]:g} % of the empty cells within the pitch span; {voices:.0f} % the "
        f"melody (top voice) kept and each other voice kept with probability {cfg.keep_voice:g}, the rest removed "
        f"(a tune to harmonize; a removed voice goes over a random span of at least a bar with probability "
        f"{cfg.voice_span:g}, else whole), plus up to half as many random notes; {cells:.0f} % the reference's "
        f"cell-level corruption (random cells within the span); target = XOR; loss = per-sample KL",
    ]


def _card_facts(model_config: ARCNNConfig, cfg: TrainConfig, metrics: dict, trained_on: str) -> list[str]:
    return [*(_edit_recipe_facts(cfg, trained_on) if _uses_edit_pairs(cfg) else [
        f"data: {trained_on} ({100 * cfg.merged_fraction:g} % of each batch merged); 8-bar (128-step) windows "
        f"every {cfg.hop} steps, transposed -{cfg.max_transpose - 1}..+{cfg.max_transpose} semitones (train only); "
        f"validation on the valid split windows every {cfg.valid_hop} steps, single-voice and merged",
        f"training pairs: remove {cfg.remove_pct[0]:g}-{cfg.remove_pct[1]:g} % of note cells, add "
        f"{cfg.add_pct[0]:g}-{cfg.add_pct[1]:g} % of empty cells (the reference's), for "
        f"{100 * (1 - cfg.focus_fraction):g} % of each batch; the rest remove {cfg.focus_remove_pct[0]:g}-"
        f"{cfg.focus_remove_pct[1]:g} % and add {cfg.focus_add_pct[0]:g}-{cfg.focus_add_pct[1]:g} %"
        + (" (merged rows: of the empty cells within the window's pitch span, placed there)"
           if cfg.span_adds_merged else "") + "; target = XOR; loss = per-sample KL"]),
        f"started from: {metrics['started_from']}"
        + (f" ({metrics['pretrain_seconds']:.0f} s)" if metrics["pretrain_seconds"] else ""),
        f"steps: {metrics['pretrain_steps'] + metrics['steps']} in all ({metrics['pretrain_steps']} stage 1 + "
        f"{metrics['steps']}) at batch {cfg.batch_size}, AdamW lr {cfg.lr:g} (warm-up + cosine); training time "
        f"{metrics['train_seconds']:.0f} s on {metrics['device']} (torch threads: {metrics['threads']})",
        f"best validation loss: {metrics['best_valid_loss']:.4f} at step {metrics['best_step']} "
        + (f"(the starting weights: {metrics['initial_valid_loss']:.4f}) "
           if metrics.get("initial_valid_loss") is not None else "")
        + (f"(train windows {metrics['n_train_voice_windows']} merged, " if _uses_edit_pairs(cfg) else
           f"(train windows {metrics['n_train_windows']} single-voice + {metrics['n_train_merged_windows']} merged, ")
        + f"valid windows {metrics['n_valid_windows']}); loss curve: loss.png",
        f"model: {metrics['n_parameters']:,} parameters; config: `{json.dumps(asdict(model_config))}`",
        f"sampler: notes are added only at pitches {model_config.pitch_low}..{model_config.pitch_high} (the "
        f"training data's range, transpositions included)" + (", in the input's key" if model_config.key_mask else "")
        + f"; {model_config.flips_per_pass} cells sampled per network pass (Gumbel top-k, without replacement)"
        + (f"; an added cell is held as a note up to the input's next onset, {model_config.sustain_steps} steps at "
           "most" if model_config.sustain_steps > 1 else ""),
        f"stopping: a 'nothing to change' outcome (logit 0) learned on {100 * cfg.clean_fraction:g} % uncorrupted "
        f"rows; the sampler edits only cells whose logit is at least {model_config.confidence:g} (log odds against "
        "it, chosen on the valid split) and stops when none is",
        f"sampling prior add_logit_bias = {model_config.add_logit_bias:g} (a config default, not trained: added to "
        "the logits of empty cells at inference, chosen on the valid split)",
        "quality and speed: benchmarks/README.md, section AR-CNN (`benchmarks/arcnn_quality.py`, "
        "`benchmarks/arcnn_speed.py`)",
    ]


def _fit(model: ARCNN, data: tuple, cfg: TrainConfig, device: str, progress: bool, desc: str,
         on_progress: training.ProgressCallback | None = None, on_metrics: training.MetricsCallback | None = None,
         max_seconds: float | None = None) -> training.FitResult:
    """Train `model` in place with `cfg` (seeded from cfg.seed) through the shared loop. data: (train single-voice,
    train merged, valid, train voice windows, valid voice windows)."""
    train_set, merged_set, valid_set, voice_set, voice_valid = data
    n_steps = model.config.window_steps
    rng = np.random.default_rng(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)

    def batch_loss(step: int) -> torch.Tensor:
        if _uses_edit_pairs(cfg):  # merged windows of the voices, make_edit_pairs
            voices, onsets = voice_set.gather(rng.integers(0, len(voice_set), cfg.batch_size), n_steps,
                                              rng.integers(-cfg.max_transpose + 1, cfg.max_transpose + 1,
                                                           cfg.batch_size))
            corrupted, target = make_edit_pairs(voices, onsets, _edit_kinds(cfg, cfg.batch_size, rng),
                                                remove_pct=cfg.remove_pct, add_pct=cfg.add_pct,
                                                keep_voice=cfg.keep_voice, voice_span=cfg.voice_span,
                                                generator=generator)
            corrupted, target = _keep_clean(corrupted, target, cfg, rng)
        else:
            clean, is_merged = _random_batch(train_set, merged_set, n_steps, cfg, rng)
            corrupted, target = _training_batch(clean, is_merged, cfg, generator)
        return arcnn_loss(model(corrupted.to(device)), target.to(device), stop=model.config.stop_logit)

    return training.fit(model, config=cfg, batch_loss=batch_loss, device=device, progress=progress, desc=desc,
                        validate=lambda: validation_loss(model, voice_valid if _uses_edit_pairs(cfg) else valid_set,
                                                         n_steps, cfg, device),
                        on_progress=on_progress, on_metrics=on_metrics, max_seconds=max_seconds)


def recipe_for_options(options: dict, *, fine_tune: bool) -> tuple[ARCNNConfig | None, TrainConfig]:
    """A user's TRAIN_PARAMS (spec.TRAIN_PARAMS, validated) as (model config, training recipe). Fine-tuning runs the
    default recipe's second stage (make_edit_pairs) on the shipped weights; from scratch, one stage of the first
    mixed recipe (cell-level corruption on single voices and merged rolls), which learns a usable editor fastest."""
    common = {**training.options_recipe(options), **training.schedule_for_steps(int(options["steps"]))}
    if fine_tune:
        return None, replace(DEFAULT_RECIPE, pretrain_steps=0, **common)
    size = options.get("model_size")
    model_config = ARCNNConfig() if size is None else replace(ARCNNConfig(), base_channels=int(size))
    return model_config, replace(PRETRAIN_RECIPE, **common)


def scaled_to_steps(cfg: TrainConfig, total: int) -> TrainConfig:
    """`train --steps N` is the whole run: with a pre-training stage, both stages keep the recipe's proportions
    (DEFAULT_RECIPE: 3,000 + 900 steps; --steps 78 gives 60 + 18)."""
    if cfg.pretrain_steps <= 0 or total < 2:
        return TrainConfig(**{**asdict(cfg), "steps": max(total, 1), "pretrain_steps": 0})
    pre = round(total * cfg.pretrain_steps / (cfg.pretrain_steps + cfg.steps))
    pre = min(max(pre, 1), total - 1)
    return TrainConfig(**{**asdict(cfg), "steps": total - pre, "pretrain_steps": pre})


def train(
    *,
    data: str | Path | None = None,
    steps: int | None = None,
    out: str | Path,
    device: str = "cpu",
    progress: bool = True,
    on_progress: training.ProgressCallback | None = None,
    model_config: ARCNNConfig | None = None,
    train_config: TrainConfig | None = None,
    init_from: str | Path | None = None,
    options: dict | None = None,
    on_metrics: training.MetricsCallback | None = None,
    max_seconds: float | None = None,
) -> dict:
    """Train an AR-CNN and write model.safetensors, config.json, loss.png and MODEL_CARD.md to `out`.

    The defaults (DEFAULT_RECIPE: PRETRAIN_RECIPE from scratch, then the fine-tuning recipe) reproduce the shipped
    checkpoint (generation/checkpoints/arcnn). `init_from` (a checkpoint folder) skips the pre-training stage and
    starts from those weights instead. `steps` is the whole run's length (see scaled_to_steps). `options`: a user's
    TRAIN_PARAMS (recipe_for_options; with `init_from` = fine-tuning). `on_metrics` gets the curves as they come in,
    `max_seconds` stops the run early (its best weights are kept). Returns the metrics.
    """
    if options is not None:
        model_config, train_config = recipe_for_options(options, fine_tune=init_from is not None)
    model_config = replace(model_config or ARCNNConfig(), stop_logit=STOP_LOGIT)
    cfg = train_config or DEFAULT_RECIPE
    if steps is not None:
        cfg = scaled_to_steps(cfg, int(steps))
    run = training.start(config=cfg, out=out, data=data, device=device)
    out, train_pieces, valid_pieces = run.out, run.corpus.train, run.corpus.valid
    trained_on = describe_data(run.corpus)
    n_steps = model_config.window_steps
    merged_valid = cfg.merged_fraction > 0 or cfg.pretrain_steps > 0
    valid_set = build_windows(valid_pieces, n_steps, cfg.valid_hop)
    if merged_valid:
        valid_set = concat_windows(valid_set, build_windows(valid_pieces, n_steps, cfg.valid_hop, merged=True))
    windows = (build_windows(train_pieces, n_steps, cfg.hop),
               build_windows(train_pieces, n_steps, cfg.hop, merged=True), valid_set,
               build_voice_windows(train_pieces, n_steps, cfg.hop),
               build_voice_windows(valid_pieces, n_steps, cfg.valid_hop))

    pretrain_seconds, started_from = 0.0, "scratch"
    if init_from is not None:
        info, _meta = read_checkpoint(init_from, spec=spec)
        model_config, started_from = replace(info.config, stop_logit=STOP_LOGIT), str(init_from)
        model = ARCNN(model_config)
        model.load_state_dict(load_state_dict(info), strict=True)
    else:
        model = ARCNN(model_config)
        if cfg.pretrain_steps > 0:
            stage1 = TrainConfig(**{**asdict(PRETRAIN_RECIPE), "steps": cfg.pretrain_steps, "seed": cfg.seed})
            first = _fit(model, windows, stage1, device, progress, "train arcnn (stage 1)")
            model.load_state_dict(first.best_state)
            pretrain_seconds = first.seconds
            started_from = f"stage 1: PRETRAIN_RECIPE, {cfg.pretrain_steps} steps"
    initial_valid_loss = None
    if init_from is not None:  # where fine-tuning starts: the shipped weights on this data's validation windows
        model.to(device).eval()
        initial_valid_loss = float(validation_loss(model, windows[4] if _uses_edit_pairs(cfg) else valid_set,
                                                   n_steps, cfg, device))
        if on_metrics is not None:
            on_metrics(0, {"valid_loss": initial_valid_loss})
    result = _fit(model, windows, cfg, device, progress, "train arcnn", on_progress, on_metrics, max_seconds)

    model.load_state_dict(result.best_state)
    model.to("cpu").eval()
    low, high = pitch_range(train_pieces, cfg.max_transpose)  # the sampler adds no note outside what it saw
    model_config = replace(model_config, pitch_low=low, pitch_high=high, flips_per_pass=FLIPS_PER_PASS,
                           sustain_steps=SUSTAIN_STEPS, key_mask=KEY_MASK, confidence=CONFIDENCE, **CHORD_SAMPLER)
    model.config = model_config
    metrics = {
        "best_valid_loss": round(result.best_loss, 5),
        "best_step": result.best_step,
        "final_valid_loss": round(result.history.valid_loss[-1], 5),
        "initial_valid_loss": None if initial_valid_loss is None else round(initial_valid_loss, 5),
        "steps": len(result.history.train_steps),
        "planned_steps": cfg.steps,
        "pretrain_steps": cfg.pretrain_steps if init_from is None else 0,
        "started_from": started_from,
        "pretrain_seconds": round(pretrain_seconds, 1),
        "train_seconds": round(result.seconds, 1),
        "device": device,
        "threads": torch.get_num_threads(),
        "n_train_windows": len(windows[0]),
        "n_train_merged_windows": len(windows[1]),
        "n_valid_windows": len(windows[4]) if _uses_edit_pairs(cfg) else len(valid_set),
        "n_train_voice_windows": len(windows[3]),
        "n_parameters": n_parameters(model_config),
        "train_config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()},
    }
    save_checkpoint(model, spec=spec, config=asdict(model_config), out=out, trained_on=trained_on,
                    metrics=metrics)
    training.plot_history(result.history, out / "loss.png", title="AR-CNN training", ylabel="KL loss (nats)")
    default = data is None and steps is None and train_config is None and init_from is None
    training.write_model_card(
        out, title=training.card_title("AR-CNN", data=data, default=default),
        summary="A U-Net that edits a piano roll, one voice or several merged (DeepComposer's AR-CNN task).",
        command=training.reproduce_command(ARCHITECTURE, data=data, steps=steps, options=options),
        facts=_card_facts(model_config, cfg, metrics, trained_on),
    )
    return metrics
