"""The training toolkit every model's ``train.py`` uses: the base training config, the set-up every run shares
(``start``: a user's options as recipe fields, the step budget, the device, the output folder, the seeds, the data and
its splits), the LR schedule (torch.optim.lr_scheduler), the loop (tqdm, progress callback, validation every N steps,
best weights kept), the loss-curve plot and the model card (title, reproduce command, facts). Torch is imported when
a function needs it.

Every trainer's ``train`` takes the same arguments: ``data`` (a MIDI folder, None: the default corpus), ``steps``
(the whole run's budget), ``out`` (the folder written), ``device``, ``progress`` (a tqdm bar), ``on_progress``,
``on_metrics``, ``max_seconds``, ``options`` (a user's TRAIN_PARAMS), ``model_config``, ``train_config`` and, where
the model can fine-tune, ``init_from`` (docs/design.md section 4).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from generation.engine.dataset import Piece, load_chorales, load_midi_folder, pieces_split
from generation.engine.errors import EngineError

ProgressCallback = Callable[[int, int], None]  # (steps done, steps in all)
# (step, {series: value}): the curves as they come in (the studio's training jobs draw them live). A callback may
# raise to stop the run (a user's Cancel): the train functions let the exception through and write nothing more.
MetricsCallback = Callable[[int, dict[str, float]], None]
REPORT_EVERY = 10  # steps between two reports of the mean training loss (and between progress calls)


@dataclass(frozen=True)
class TrainConfig:
    """The fields every model's training config has (a model's own config subclasses this and adds its fields)."""

    steps: int = 1000  # optimizer updates
    batch_size: int = 16  # small batches, many updates: a CPU budget buys few samples, so updates matter more
    lr: float = 1e-3  # AdamW peak learning rate
    weight_decay: float = 1e-4
    warmup_steps: int = 50  # linear warm-up from lr/warmup, then cosine decay to `lr_floor` x lr
    lr_floor: float = 0.05
    eval_every: int = 250  # validation every this many steps (and at the end)
    seed: int = 0


NO_CUDA_MESSAGE = "--device cuda was asked for but this machine has no CUDA GPU (torch.cuda.is_available() is False)."


def options_recipe(options: dict) -> dict:
    """The training-config fields a user's TRAIN_PARAMS (the Train page's, ``--param``) set in every model: steps,
    lr (``learning_rate``), batch_size, seed."""
    return {"steps": int(options["steps"]), "lr": float(options["learning_rate"]),
            "batch_size": int(options["batch_size"]), "seed": int(options["seed"])}


def with_steps(config: Any, steps: int | None) -> Any:
    """``config`` (a frozen training-config dataclass) with the step budget ``steps`` (at least 1), or as is."""
    return config if steps is None else replace(config, steps=max(1, int(steps)))


def check_device(device: str) -> str:
    """``device`` if this machine has it (EngineError ``no_cuda`` for a CUDA device without a GPU)."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise EngineError("no_cuda", NO_CUDA_MESSAGE)
    return device


@dataclass(frozen=True)
class Corpus:
    """A run's pieces by split. A folder lacking a split falls back: train on valid (or test) pieces, validate on
    the train pieces, test on the valid ones."""

    train: list[Piece]
    valid: list[Piece]
    test: list[Piece]
    folder: str | None  # the MIDI folder's name; None: the model's default corpus


def load_corpus(data: str | Path | None, *, default: Callable[[], list[Piece]] = load_chorales) -> Corpus:
    """The pieces of the MIDI folder ``data``, or of the default corpus (the chorales), split by ``pieces_split``."""
    pieces = default() if data is None else load_midi_folder(data)
    train = pieces_split(pieces, "train") or pieces_split(pieces, "valid") or pieces_split(pieces, "test")
    valid = pieces_split(pieces, "valid") or train
    test = pieces_split(pieces, "test") or valid
    return Corpus(train, valid, test, None if data is None else Path(data).name)


@dataclass(frozen=True)
class Start:
    """What every run has before its first step: the output folder (made), a NumPy generator and torch seeded from
    the recipe's seed, the device (checked), the corpus."""

    out: Path
    rng: np.random.Generator
    device: str
    corpus: Corpus


def start(*, config: Any, out: str | Path, data: str | Path | None, device: str = "cpu",
          default: Callable[[], list[Piece]] = load_chorales) -> Start:
    """The set-up every trainer shares, in one order: device checked, ``out`` made, torch and NumPy seeded from
    ``config.seed``, the corpus loaded (``load_corpus``)."""
    import torch

    check_device(device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    return Start(out=out, rng=rng, device=device, corpus=load_corpus(data, default=default))


def progress_bar(steps: int, *, desc: str, progress: bool) -> Any:
    """The tqdm bar over a run's steps (none when ``progress`` is False)."""
    from tqdm import tqdm

    return tqdm(range(steps), desc=desc, unit="step", disable=not progress, mininterval=2)


def schedule_for_steps(steps: int) -> dict:
    """A user's run of ``steps`` (the Train page): validation about 8 times and a warm-up of a tenth (at most 50), so a
    short run still shows a validation curve and is not all warm-up. TrainConfig fields, for ``replace``."""
    return {"steps": steps, "eval_every": max(10, steps // 8), "warmup_steps": min(50, steps // 10)}


def lr_scheduler(optimizer: Any, *, steps: int, warmup_steps: int, lr_floor: float = 0.05) -> Any:
    """Linear warm-up for ``warmup_steps``, then cosine decay to ``lr_floor`` x the peak over the rest (stepped once
    per update). Built from torch.optim.lr_scheduler (LinearLR, CosineAnnealingLR, SequentialLR)."""
    from torch.optim import lr_scheduler as sched

    warmup_steps = max(0, min(warmup_steps, steps - 1))
    peak = optimizer.param_groups[0]["lr"]
    cosine = sched.CosineAnnealingLR(optimizer, T_max=max(1, steps - warmup_steps), eta_min=peak * lr_floor)
    if warmup_steps == 0:
        return cosine
    warmup = sched.LinearLR(optimizer, start_factor=1.0 / warmup_steps, end_factor=1.0, total_iters=warmup_steps)
    return sched.SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])


@dataclass
class History:
    """Loss curves: the training loss every step, validation (and any other series) when measured."""

    train_steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    valid_steps: list[int] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)


@dataclass
class FitResult:
    history: History
    best_loss: float  # the best validation loss (the last training loss without validation)
    best_step: int
    best_state: dict  # state_dict at best_step (copied)
    seconds: float


def fit(
    model: Any,
    *,
    config: TrainConfig,
    batch_loss: Callable[[int], Any],
    validate: Callable[[], float] | None = None,
    device: str = "cpu",
    progress: bool = True,
    on_progress: ProgressCallback | None = None,
    desc: str = "train",
    max_seconds: float | None = None,
    on_metrics: MetricsCallback | None = None,
) -> FitResult:
    """Train ``model`` in place: AdamW + ``lr_scheduler``; ``batch_loss(step)`` returns the loss tensor of one batch;
    ``validate()`` (model in eval mode, no grad) every ``config.eval_every`` steps and at the end; the state at the
    best validation loss is kept. One code path for CPU and GPU (the caller puts batches on ``device``).
    ``max_seconds``: a safety stop on a shared machine; the step that passes it is the last (validated), and the
    history shows how many were done. ``on_metrics`` gets the mean training loss every REPORT_EVERY steps and each
    validation loss as it is measured."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = lr_scheduler(optimizer, steps=config.steps, warmup_steps=config.warmup_steps,
                             lr_floor=config.lr_floor)
    history = History()
    best = (math.inf, 0, copy.deepcopy(model.state_dict()))
    started = time.perf_counter()
    bar = progress_bar(config.steps, desc=desc, progress=progress)
    model.to(device).train()
    for step in bar:
        out_of_time = max_seconds is not None and time.perf_counter() - started > max_seconds
        loss = batch_loss(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        history.train_steps.append(step + 1)
        history.train_loss.append(float(loss.detach()))
        last = step + 1 == config.steps or out_of_time
        if validate is not None and ((step + 1) % config.eval_every == 0 or last):
            model.eval()
            with torch.no_grad():
                val = float(validate())
            model.train()
            history.valid_steps.append(step + 1)
            history.valid_loss.append(val)
            if on_metrics is not None:
                on_metrics(step + 1, {"valid_loss": val})
            if val < best[0]:
                best = (val, step + 1, copy.deepcopy(model.state_dict()))
            bar.set_postfix(loss=f"{history.train_loss[-1]:.3f}", valid=f"{val:.3f}", best=f"{best[0]:.3f}")
        elif step % 10 == 0:
            bar.set_postfix(loss=f"{history.train_loss[-1]:.3f}")
        if (step + 1) % REPORT_EVERY == 0 or last:
            if on_metrics is not None:
                recent = history.train_loss[-((step % REPORT_EVERY) + 1):]
                on_metrics(step + 1, {"train_loss": float(np.mean(recent))})
            if on_progress is not None:
                on_progress(step + 1, config.steps)
        if out_of_time:
            break
    if validate is None:
        best = (float(np.mean(history.train_loss[-50:])), config.steps, copy.deepcopy(model.state_dict()))
    return FitResult(history, best[0], best[1], best[2], time.perf_counter() - started)


def plot_history(history: History, path: str | Path, *, title: str, ylabel: str, log_y: bool = False) -> Path:
    """loss.png: the training loss (a moving mean when long) and the validation loss."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if history.train_loss:
        k = max(1, len(history.train_loss) // 100)
        smooth = np.convolve(history.train_loss, np.ones(k) / k, mode="valid")
        label = f"train (moving mean of {k})" if k > 1 else "train"
        ax.plot(history.train_steps[k - 1:], smooth, label=label, alpha=0.8)
    if history.valid_loss:
        ax.plot(history.valid_steps, history.valid_loss, "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def reproduce_command(name: str, *, data: str | Path | None, steps: int | None,
                      options: dict | None = None) -> str:
    """The command that retrains this checkpoint: the data folder, the ``--steps`` and the training parameters
    (``--param NAME=VALUE``, the Train page's) that were given, as given."""
    command = f"python manage.py train {name}"
    if data is not None:
        command += f" --data {data}"
    if steps is not None:
        command += f" --steps {steps}"
    for key, value in (options or {}).items():
        if value is not None:
            command += f" --param {key}={value:g}" if isinstance(value, float) else f" --param {key}={value}"
    return command


def card_title(model_title: str, *, data: str | Path | None, default: bool) -> str:
    """"<model> default checkpoint" for the shipped recipe; a custom model is titled with its data folder."""
    if data is not None:
        return f"{model_title} trained on {Path(data).name}"
    return f"{model_title} default checkpoint" if default else f"{model_title} trained on the Bach chorales"


def write_model_card(out: str | Path, *, title: str, summary: str, command: str, facts: list[str],
                     extra: str = "") -> Path:
    """MODEL_CARD.md: title, what the model is, the reproduce command, a list of facts (data, steps, time, ...)."""
    lines = [f"# {title}", "", summary, "", "Reproduce:", "", f"    {command}", ""]
    lines += [f"- {fact}" for fact in facts]
    text = "\n".join(lines) + "\n" + (f"\n{extra.strip()}\n" if extra.strip() else "")
    path = Path(out) / "MODEL_CARD.md"
    path.write_text(text)
    return path
