"""Re-measure a trained discriminator on the test split without retraining (torch).

The model card's figures depend on the shipped models as well as on the discriminator: the "arcnn" family is the
shipped AR-CNN's output, so when that checkpoint is replaced the card's arcnn row goes stale. `remeasure` recomputes
every family's ROC AUC, mean realness and the calibration error against the current shipped models with the same
seeds as training, then rewrites the metrics in config.json and MODEL_CARD.md. The weights, temperature included,
are left as they are.

    python -m generation.engine.models.discriminator.measure [--checkpoint DIR] [--data DIR] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from generation.engine.models.discriminator.train import DEFAULT_OUT


def remeasure(checkpoint_dir: str | Path = DEFAULT_OUT, *, data: str | Path | None = None,
              arcnn_dir: Path | None = None, max_pieces: int | None = None, eval_seed: int = 1234,
              write: bool = True) -> dict:
    """The checkpoint's metrics with the test-split figures measured anew (written back unless ``write`` is False).
    ``data``: the MIDI folder it was trained on (default: the chorales, with the arcnn family when one is shipped);
    ``arcnn_dir``: the AR-CNN checkpoint to run (default: the shipped one); ``max_pieces``: the first test pieces only;
    ``eval_seed``: the seed training used (the test split is built with ``eval_seed + 1``, as in training)."""
    from generation.engine.dataset import load_chorales, pieces_split
    from generation.engine.models.discriminator.model import load_discriminator
    from generation.engine.models.discriminator.card import write_model_card
    from generation.engine.models.discriminator.train import (
        TrainConfig,
        arcnn_family,
        arcnn_weights_sha256,
        evaluate,
        family_corruptors,
        holdout_split,
        piece_window_logits,
        sounded_folder,
    )

    directory = Path(checkpoint_dir)
    meta = json.loads((directory / "config.json").read_text())
    model = load_discriminator(directory)
    test = holdout_split(sounded_folder(data))[1] if data else pieces_split(load_chorales(), "test")
    test = test[:max_pieces]  # None keeps all
    arcnn = None if data else arcnn_family(arcnn_dir)
    families = family_corruptors({"arcnn": arcnn} if arcnn is not None else None)
    temperature = float(model.temperature)
    metrics = {**meta.get("metrics", {}), **evaluate(piece_window_logits(model, test, families, eval_seed + 1),
                                                      temperature)}
    metrics.update(temperature=temperature, families=list(families))
    metrics.pop("arcnn_sha256_measured", None)
    if arcnn is not None:
        metrics["arcnn_sha256_measured"] = arcnn_weights_sha256(arcnn_dir)
    if write:
        meta["metrics"] = metrics
        (directory / "config.json").write_text(json.dumps(meta, indent=2) + "\n")
        train_config = TrainConfig(steps=int(metrics.get("steps", TrainConfig.steps)))
        write_model_card(directory, model.config, train_config, metrics, meta.get("trained_on", ""))
    return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_OUT, help="discriminator checkpoint folder")
    parser.add_argument("--data", type=Path, help="the MIDI folder it was trained on (default: the chorales)")
    parser.add_argument("--dry-run", action="store_true", help="print the figures; leave the checkpoint as it is")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    metrics = remeasure(args.checkpoint, data=args.data, write=not args.dry_run)
    for family, auc in metrics["auc"].items():
        sys.stdout.write(f"{family:<20} ROC AUC {auc:.3f}  mean realness {metrics['mean_realness'][family]:.3f}\n")
    sys.stdout.write(f"real mean realness {metrics['mean_realness']['real']:.3f}; ECE {metrics['ece']:.3f} "
                     f"(uncalibrated {metrics['ece_uncalibrated']:.3f}); {metrics['n_test_pieces']} test pieces\n")


if __name__ == "__main__":
    main()
