"""Training a registered model by name: what `manage.py train` (and later the studio's training jobs) call.

The model's own ``train.py`` does the work; this adds what no model may do itself: a model that learns from other
models' outputs (the realness discriminator, spec ``TRAINS_ON_GENERATED``) gets every registered generator's output
passed in (``negatives.generated_families``) when it trains on the chorales.
"""

from __future__ import annotations

from pathlib import Path

from generation.engine import loading, registry
from generation.engine.training import ProgressCallback


def train_model(name: str, *, data: str | Path | None = None, steps: int | None = None, out: str | Path | None = None,
                device: str = "cpu", progress: bool = True, on_progress: ProgressCallback | None = None) -> dict:
    """Train ``name`` on the chorales (or the MIDI folder ``data``) into ``out`` (default: the shipped checkpoint's
    folder) and return the metrics its train function reports."""
    spec = registry.get_spec(name)
    extra: dict = {}
    if getattr(spec, "TRAINS_ON_GENERATED", False) and data is None:
        from generation.engine.negatives import generated_families

        extra["generated"], extra["generated_from"] = generated_families()
    train = registry.get_part(name, "train").train
    return train(data=data, steps=steps, out=Path(out) if out is not None else loading.default_checkpoint_dir(name),
                 device=device, progress=progress, on_progress=on_progress, **extra)
