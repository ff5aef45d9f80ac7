"""Training a registered model by name: what `manage.py train` and the studio's training jobs call.

The model's own ``train.py`` does the work; this adds what no model may do itself: a user's training parameters (spec
``TRAIN_PARAMS``, the Train page's) are checked, and ``start=shipped`` becomes the shipped checkpoint's folder to
fine-tune from (loading is a layer above the models).
"""

from __future__ import annotations

from pathlib import Path

from generation.engine import loading, registry, training
from generation.engine.errors import ParamError
from generation.engine.params import START_SHIPPED, validate_train_params

NO_STYLES_MESSAGE = "--style is for the GAN only; {name} has no styles."


def default_out_dir(name: str, style: str | None = None) -> Path:
    """The shipped checkpoint folder `manage.py train NAME [--style S]` writes to (ParamError for a style that is
    unknown, or given to a model without styles)."""
    if style is None:
        return loading.default_checkpoint_dir(name)
    spec = registry.get_spec(name)
    if getattr(spec, "VARIANT_PARAM", None) != "style":
        raise ParamError("bad_param_value", NO_STYLES_MESSAGE.format(name=name))
    spec.check_style(style)
    return loading.default_checkpoint_dir(name, None if style == spec.DEFAULT_STYLE else style)


def train_options(name: str, params: dict | None) -> dict:
    """``params`` (raw: strings or numbers) checked against ``name``'s TRAIN_PARAMS, defaults filled (ParamError,
    ArchitectureUnavailableError name the problem)."""
    spec = registry.get_trainable_spec(name)
    return validate_train_params(spec.TRAIN_PARAMS, params, model=name)


def train_model(name: str, *, data: str | Path | None = None, steps: int | None = None, out: str | Path | None = None,
                device: str = "cpu", progress: bool = True, on_progress: training.ProgressCallback | None = None,
                params: dict | None = None, on_metrics: training.MetricsCallback | None = None,
                max_seconds: float | None = None, style: str | None = None) -> dict:
    """Train ``name`` on the chorales (or the MIDI folder ``data``) into ``out`` (default: the shipped checkpoint's
    folder) and return the metrics its train function reports. ``params``: training parameters (TRAIN_PARAMS;
    ``steps`` overrides theirs); ``on_metrics`` gets the curves as they come in and may raise to stop the run;
    ``max_seconds``: the run stops there and keeps its best weights. ``style`` (GAN only): the corpus to train on,
    written by default into that style's checkpoint folder."""
    registry.get_spec(name)  # an unknown name is refused here, before any work
    default_out_dir(name, style)  # a bad style is refused before any data is read
    training.check_device(device)  # and a CUDA device on a machine without one
    extra: dict = {}
    if params is not None:
        options = train_options(name, params)
        if steps is not None:
            options["steps"], steps = int(steps), None
        extra["options"] = options
        if options.get("start") == START_SHIPPED:
            extra["init_from"] = loading.default_checkpoint_dir(name)
    if on_metrics is not None:
        extra["on_metrics"] = on_metrics
    if max_seconds is not None:
        extra["max_seconds"] = max_seconds
    if style is not None:
        extra["style"] = style
    train = registry.get_part(name, "train").train
    return train(data=data, steps=steps, out=Path(out) if out is not None else default_out_dir(name, style),
                 device=device, progress=progress, on_progress=on_progress, **extra)
