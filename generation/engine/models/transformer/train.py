"""Train the Transformer (`manage.py train transformer` calls `train` through the registry).

Data: the chorales' four voices merged into one Performance event stream (events.py, 310 tokens), at a fixed
100 bpm (a sixteenth = 150 ms = 15 time steps of 10 ms; music21's chorales carry no tempo) and velocity 80; with
probability `single_voice_fraction` a piece is drawn as one of its voices alone instead, so that a one-track prompt
(a melody) is in the training distribution too. A user folder (`--data DIR`) keeps each file's own tempo. Each time a
train piece is drawn it is transposed by -3..+3 semitones and its timing stretched by 0.95-1.05 (train split only).

Packing: the drawn pieces' token streams (each starting with <S>) are concatenated into one stream and cut into
`batch_size` rows of `context + 1` tokens: no padding, every drawn token is trained on once. Validation every
`eval_every` steps: NLL per token on the valid split's merged chorales at 100 bpm (each piece from its <S>, windows
of `context` tokens advancing by `eval_stride`, each token scored once with as much context as the window gives);
the best weights are kept. The card reports the same NLL on the test split with the best weights.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pretty_midi
import torch
from torch.nn import functional

from generation.engine import events, training
from generation.engine.checkpoint import load_state_dict, read_checkpoint, save_checkpoint
from generation.engine.dataset import Piece
from generation.engine.models.transformer import spec
from generation.engine.models.transformer.model import Transformer
from generation.engine.models.transformer.spec import ARCHITECTURE, TransformerConfig, n_parameters
from generation.engine.representation import DEFAULT_VELOCITY, STEPS_PER_BEAT, roll_to_notes

CHORALE_TEMPO_BPM = spec.TRAINING_TEMPO_BPM  # the chorales' fixed tempo when tokenized (prompts are played at it)
REFERENCE_TEST_NLL = 0.968  # DeepComposer's Transformer-XL on the JSB chorales, test split (docs/design.md section 4)


@dataclass(frozen=True)
class TrainConfig(training.TrainConfig):
    steps: int = 1400  # the shipped run: 25 min, 4.3 M tokens on the shared 2-core CPU (one thread; ~2.9 k tokens/s)
    batch_size: int = 12  # rows of context + 1 tokens: 12 x 257 = 3.1 k tokens an update (a CPU budget buys few
    #                       tokens, so more, smaller updates)
    lr: float = 2e-3  # AdamW peak learning rate: small model, short run
    weight_decay: float = 0.01
    warmup_steps: int = 50  # linear warm-up, then cosine decay to 5 % of lr
    eval_every: int = 100  # validation NLL every this many steps (and at the end)
    max_transpose: int = 3  # train-only augmentation: -3..+3 semitones (the issue's)
    stretch: tuple[float, float] = (0.95, 1.05)  # train-only augmentation: timing scaled by a factor in this range
    single_voice_fraction: float = 0.2  # share of drawn pieces given as one voice alone (melody prompts)
    eval_stride: int = 128  # validation/test windows advance by this many tokens (tokens scored once each)
    max_minutes: float | None = 40.0  # safety stop on the shared CPU (the step that passes it is the last); the
    #                                   steps actually done are in the card. None: no limit


@dataclass
class TokenPiece:
    """One piece's notes, ready to be tokenized with or without augmentation."""

    name: str
    voices: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # per non-empty voice: pitches, start and end steps
    seconds_per_step: float


def token_pieces(pieces: list[Piece], *, tempo_bpm: float | None) -> list[TokenPiece]:
    """Pieces' voices as note arrays; ``tempo_bpm`` fixes the tempo (None: each piece's own)."""
    out = []
    for piece in pieces:
        voices = []
        for k in range(piece.rolls.shape[0]):
            notes = roll_to_notes(piece.rolls[k], None if piece.onsets is None else piece.onsets[k])
            if len(notes[0]):
                voices.append(notes)
        if voices:
            bpm = tempo_bpm or piece.tempo_bpm
            out.append(TokenPiece(piece.name, voices, 60.0 / (bpm * STEPS_PER_BEAT)))
    return out


def encode_notes(pitches: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, velocity: int = DEFAULT_VELOCITY,
                 add_start: bool = True) -> list[int]:
    """Notes in seconds -> Performance tokens (events.encode, the sampler's tokenizer)."""
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    inst.notes = [pretty_midi.Note(velocity, int(p), float(s), float(e))
                  for p, s, e in zip(pitches.tolist(), starts.tolist(), ends.tolist(), strict=True)]
    pm.instruments.append(inst)
    return events.encode(pm, add_start=add_start)


def piece_tokens(piece: TokenPiece, *, voice: int | None = None, shift: int = 0, stretch: float = 1.0) -> list[int]:
    """The piece (all voices merged, or one voice) as tokens, transposed by ``shift`` and time-scaled by ``stretch``."""
    chosen = piece.voices if voice is None else [piece.voices[voice]]
    pitches = np.concatenate([v[0] for v in chosen]) + shift
    starts = np.concatenate([v[1] for v in chosen]) * piece.seconds_per_step * stretch
    ends = np.concatenate([v[2] for v in chosen]) * piece.seconds_per_step * stretch
    return encode_notes(pitches, starts, ends)


class PackedStream:
    """Random augmented train pieces, tokenized and concatenated; ``batch`` cuts (rows, context + 1) from it."""

    def __init__(self, pieces: list[TokenPiece], cfg: TrainConfig, context: int, rng: np.random.Generator) -> None:
        self.pieces, self.cfg, self.context, self.rng = pieces, cfg, context, rng
        self.buffer: list[int] = []
        self.tokens_drawn = 0

    def _draw(self) -> list[int]:
        piece = self.pieces[int(self.rng.integers(len(self.pieces)))]
        voice = None
        if self.rng.random() < self.cfg.single_voice_fraction:
            voice = int(self.rng.integers(len(piece.voices)))
        shift = int(self.rng.integers(-self.cfg.max_transpose, self.cfg.max_transpose + 1))
        stretch = float(self.rng.uniform(*self.cfg.stretch))
        return piece_tokens(piece, voice=voice, shift=shift, stretch=stretch)

    def batch(self, rows: int) -> torch.Tensor:
        need = rows * (self.context + 1)
        while len(self.buffer) < need:
            self.buffer.extend(self._draw())
        chunk, self.buffer = self.buffer[:need], self.buffer[need:]
        self.tokens_drawn += need
        return torch.tensor(chunk, dtype=torch.long).view(rows, self.context + 1)


def eval_windows(streams: list[list[int]], context: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sliding windows over each stream: (inputs (N, context), targets (N, context)); targets already scored by an
    earlier window, and padding, are -100 (ignored). Every token after each stream's first is scored exactly once."""
    inputs, targets = [], []
    for tokens in streams:
        n = len(tokens)
        scored_to = 1  # tokens[1:] are predicted; tokens[:scored_to] are done
        begin = 0
        while scored_to < n:
            end = min(begin + context, n - 1)  # inputs tokens[begin:end] predict tokens[begin + 1:end + 1]
            x = tokens[begin:end]
            y = [t if begin + 1 + i >= scored_to else -100 for i, t in enumerate(tokens[begin + 1:end + 1])]
            scored_to = end + 1
            inputs.append(x + [events.PAD] * (context - len(x)))
            targets.append(y + [-100] * (context - len(y)))
            begin += stride
    return torch.tensor(inputs, dtype=torch.long), torch.tensor(targets, dtype=torch.long)


@torch.no_grad()
def nll_per_token(model: Transformer, windows: tuple[torch.Tensor, torch.Tensor], device: str,
                  batch_size: int = 32) -> float:
    """Mean NLL (nats) per scored token over ``eval_windows``' output."""
    was_training = model.training
    model.eval()
    inputs, targets = windows
    total, count = 0.0, 0
    for lo in range(0, len(inputs), batch_size):
        x, y = inputs[lo:lo + batch_size].to(device), targets[lo:lo + batch_size].to(device)
        logits = model(x)
        total += functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1),
                                          ignore_index=-100, reduction="sum").item()
        count += int((y != -100).sum())
    model.train(was_training)
    return total / max(count, 1)


def describe_data(corpus: training.Corpus) -> tuple[str, float | None]:
    """(what the card says the model was trained on, the fixed tempo or None): the chorales are read at one tempo."""
    if corpus.folder is None:
        return (f"music21 Bach chorales, train split (r % 10 not in {{0, 1}}), 4 voices merged into one event "
                f"stream at a fixed {CHORALE_TEMPO_BPM:g} bpm"), CHORALE_TEMPO_BPM
    return f"MIDI folder {corpus.folder}, train split (stable name hash), up to 4 tracks merged", None


def _card_facts(model_config: TransformerConfig, cfg: TrainConfig, metrics: dict, trained_on: str) -> list[str]:
    curve = ", ".join(f"{s}: {v:.3f}" for s, v in metrics["valid_curve"])
    gap = metrics["test_nll"] - REFERENCE_TEST_NLL
    return [
        f"data: {trained_on}; {100 * cfg.single_voice_fraction:g} % of drawn pieces are one voice alone; each draw "
        f"transposed -{cfg.max_transpose}..+{cfg.max_transpose} semitones and time-stretched "
        f"{cfg.stretch[0]:g}-{cfg.stretch[1]:g} (train only); streams packed into rows of {model_config.context + 1} "
        "tokens with no padding",
        f"tokens: the Performance events of generation/engine/events.py ({model_config.vocab_size} tokens: <S>, "
        "<PAD>, 100 time shifts of 10 ms, 88 note-ons, 88 note-offs, 32 velocities), velocity 80",
        f"steps: {metrics['steps']}"
        + (f" (of {metrics['steps_planned']} planned: stopped at the time limit)"
           if metrics["steps"] < metrics["steps_planned"] else "")
        + f" at batch {cfg.batch_size} x {model_config.context + 1} tokens, AdamW lr "
        f"{cfg.lr:g} (warm-up {cfg.warmup_steps}, cosine), weight decay {cfg.weight_decay:g}; tokens seen "
        f"{metrics['tokens_seen']:,} ({metrics['tokens_per_second']:,.0f} tokens/s)",
        f"training time {metrics['train_seconds']:.0f} s on {metrics['machine']}",
        f"**test NLL {metrics['test_nll']:.3f} nats/token** (test split, {metrics['n_test_tokens']:,} tokens scored, "
        f"merged voices at {CHORALE_TEMPO_BPM:g} bpm); the reference's (DeepComposer Transformer-XL, JSB chorales) "
        f"is {REFERENCE_TEST_NLL}: " + (f"met by {-gap:.3f}" if gap < 0 else f"**not met: {gap:.3f} above it**"),
        f"best validation NLL {metrics['best_valid_nll']:.4f} at step {metrics['best_step']}; validation curve "
        f"(step: NLL) {curve}; loss curve: loss.png",
        f"model: decoder-only Transformer, rotary attention, tied embeddings, {metrics['n_parameters']:,} "
        f"parameters; config: `{json.dumps(asdict(model_config))}`",
        "speed: benchmarks/README.md, section Transformer (`benchmarks/transformer_speed.py`)",
    ]


def recipe_for_options(options: dict) -> tuple[TransformerConfig | None, TrainConfig]:
    """A user's TRAIN_PARAMS (spec.TRAIN_PARAMS, validated) as (model config or None, training recipe)."""
    recipe = {**training.options_recipe(options), **training.schedule_for_steps(int(options["steps"]))}
    cfg = replace(TrainConfig(), **recipe, max_minutes=None)
    size = options.get("model_size")
    if size is None:
        return None, cfg
    return replace(TransformerConfig(), d_model=max(32, 32 * round(int(size) / 32))), cfg


def machine_name(device: str) -> str:
    """What the card names as the machine: CHARTBUSTERS_MACHINE when set (e.g. "shared 2-core x86_64 CPU"), else
    what Python sees; with the torch threads used."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return os.environ.get("CHARTBUSTERS_MACHINE") or f"{torch.cuda.get_device_name(0)} (cuda)"
    threads = torch.get_num_threads()
    name = os.environ.get("CHARTBUSTERS_MACHINE") or f"{os.cpu_count()}-core {platform.machine()} CPU"
    return f"{name}, {threads} torch thread{'s' if threads > 1 else ''}"


def train(
    *,
    data: str | Path | None = None,
    steps: int | None = None,
    out: str | Path,
    device: str = "cpu",
    progress: bool = True,
    on_progress: training.ProgressCallback | None = None,
    model_config: TransformerConfig | None = None,
    train_config: TrainConfig | None = None,
    machine: str | None = None,
    init_from: str | Path | None = None,
    options: dict | None = None,
    on_metrics: training.MetricsCallback | None = None,
    max_seconds: float | None = None,
) -> dict:
    """Train a Transformer and write model.safetensors, config.json, loss.png and MODEL_CARD.md to ``out``.

    The defaults reproduce the shipped checkpoint (generation/checkpoints/transformer); ``steps`` overrides the
    run's length (the schedule follows it). ``machine`` names the computer in the card. ``init_from`` (a checkpoint
    folder) starts from those weights (fine-tuning); ``options``: a user's TRAIN_PARAMS (recipe_for_options);
    ``on_metrics`` gets the curves as they come in; ``max_seconds`` stops early, keeping the best weights.
    Returns the metrics."""
    if options is not None:
        model_config, train_config = recipe_for_options(options)
    initial_state = None
    if init_from is not None:
        info, _meta = read_checkpoint(init_from, spec=spec)
        model_config, initial_state = info.config, load_state_dict(info)
    model_config = model_config or TransformerConfig()
    cfg = training.with_steps(train_config or TrainConfig(), steps)
    run = training.start(config=cfg, out=out, data=data, device=device)
    out, rng = run.out, run.rng
    train_pieces, valid_pieces, test_pieces = run.corpus.train, run.corpus.valid, run.corpus.test
    trained_on, tempo = describe_data(run.corpus)
    context = model_config.context
    stream = PackedStream(token_pieces(train_pieces, tempo_bpm=tempo), cfg, context, rng)

    def fixed_streams(pieces: list[Piece]) -> list[list[int]]:
        return [piece_tokens(p) for p in token_pieces(pieces, tempo_bpm=tempo)]

    valid_windows = eval_windows(fixed_streams(valid_pieces), context, cfg.eval_stride)
    test_windows = eval_windows(fixed_streams(test_pieces), context, cfg.eval_stride)

    model = Transformer(model_config)
    if initial_state is not None:
        model.load_state_dict(initial_state, strict=True)
    model.to(device)
    initial_nll = None
    if initial_state is not None:  # where fine-tuning starts, on this data's validation pieces
        model.eval()
        initial_nll = float(nll_per_token(model, valid_windows, device))
        if on_metrics is not None:
            on_metrics(0, {"valid_loss": initial_nll})

    def batch_loss(step: int) -> torch.Tensor:
        return model.loss(stream.batch(cfg.batch_size).to(device))

    result = training.fit(model, config=cfg, batch_loss=batch_loss, device=device, progress=progress,
                          desc="train transformer", on_progress=on_progress,
                          validate=lambda: nll_per_token(model, valid_windows, device),
                          on_metrics=on_metrics,
                          max_seconds=max_seconds if max_seconds is not None
                          else None if cfg.max_minutes is None else 60.0 * cfg.max_minutes)
    model.load_state_dict(result.best_state)
    started = time.perf_counter()
    test_nll = nll_per_token(model, test_windows, device)
    test_seconds = time.perf_counter() - started
    model.to("cpu").eval()
    history = result.history
    metrics = {
        "test_nll": round(test_nll, 4),
        "reference_test_nll": REFERENCE_TEST_NLL,
        "best_valid_nll": round(result.best_loss, 4),
        "initial_valid_nll": None if initial_nll is None else round(initial_nll, 4),
        "best_step": result.best_step,
        "valid_curve": [[s, round(v, 4)] for s, v in zip(history.valid_steps, history.valid_loss, strict=True)],
        "steps": len(history.train_steps),
        "steps_planned": cfg.steps,
        "tokens_seen": stream.tokens_drawn,
        "tokens_per_second": round(stream.tokens_drawn / max(result.seconds, 1e-9), 1),
        "train_seconds": round(result.seconds, 1),
        "test_seconds": round(test_seconds, 1),
        "device": device,
        "threads": torch.get_num_threads(),
        "machine": machine or machine_name(device),
        "tempo_bpm": tempo,
        "n_train_pieces": len(train_pieces),
        "n_test_tokens": int((test_windows[1] != -100).sum()),
        "n_parameters": n_parameters(model_config),
        "train_config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()},
    }
    if not math.isfinite(test_nll):
        raise FloatingPointError(f"the test NLL is {test_nll}")
    save_checkpoint(model, spec=spec, config=asdict(model_config), out=out, trained_on=trained_on,
                    metrics=metrics)
    training.plot_history(history, out / "loss.png", title="Transformer training", ylabel="NLL (nats/token)")
    default = (data is None and steps is None and train_config is None and init_from is None
               and model_config == TransformerConfig())
    training.write_model_card(
        out, title=training.card_title("Transformer", data=data, default=default),
        summary=("A decoder-only Transformer over Performance events that continues a track (DeepComposer's "
                 "Transformer task), sampled with a key/value cache."),
        command=training.reproduce_command(ARCHITECTURE, data=data, steps=steps, options=options),
        facts=_card_facts(model_config, cfg, metrics, trained_on),
    )
    return metrics
