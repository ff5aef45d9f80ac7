"""Re-measure a trained discriminator on held-out pieces without retraining (torch).

`remeasure` recomputes every family's ROC AUC, mean realness and the calibration error with the same seeds as
training, then rewrites the metrics in config.json and MODEL_CARD.md; the weights, temperature included, are left as
they are. Generators' outputs are never negatives, but the card may show how the shipped models' outputs score (rows
without a target): they are passed in (models never import each other), `python -m generation.engine.negatives
--remeasure` runs it with every registered generator.
"""

from __future__ import annotations

import json
from pathlib import Path

from generation.engine.checkpoint import load_state_dict, read_checkpoint
from generation.engine.dataset import Piece
from generation.engine.models.discriminator import spec
from generation.engine.models.discriminator.card import write_model_card
from generation.engine.models.discriminator.model import Discriminator
from generation.engine.models.discriminator.train import (
    Corruptor,
    TrainConfig,
    evaluate,
    family_corruptors,
    piece_window_logits,
)
from generation.engine.recombined_music import corpus_sources


def remeasure(checkpoint_dir: str | Path, *, test: list[Piece], generated: dict[str, Corruptor] | None = None,
              generated_from: dict[str, str] | None = None, eval_seed: int = 1234, write: bool = True) -> dict:
    """The checkpoint's metrics with the held-out figures measured anew on ``test`` (written back unless ``write``
    is False); ``eval_seed``: the seed training used (figures are built with ``eval_seed + 1``, as in training)."""
    directory = Path(checkpoint_dir)
    info, meta = read_checkpoint(directory, spec=spec)
    model = Discriminator(info.config)
    model.load_state_dict(load_state_dict(info), strict=True)
    families = family_corruptors(generated, corpus=corpus_sources(test))
    temperature = float(model.temperature)
    old = meta.get("metrics", {})
    new = evaluate(piece_window_logits(model.eval(), test, families, eval_seed + 1), temperature)
    metrics = {**old, **new}
    for key in ("auc", "mean_realness"):  # rows this run cannot rebuild (the training's hill-climbs) are kept
        metrics[key] = {**new[key], **{k: v for k, v in old.get(key, {}).items() if k == "hill_climb"}}
    metrics.update(temperature=temperature, families=[k for k in metrics["auc"] if k not in (generated or {})],
                   generated_measured=dict(generated_from or {}), hop_steps=model.config.hop_steps)
    if write:
        meta["metrics"] = metrics
        (directory / "config.json").write_text(json.dumps(meta, indent=2) + "\n")
        train_config = TrainConfig(steps=int(metrics.get("steps", TrainConfig.steps)))
        write_model_card(directory, model.config, train_config, metrics, meta.get("trained_on", ""))
    return metrics
