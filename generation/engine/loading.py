"""Checkpoints by model name: the registry's spec + the checkpoint file checks, and the one place that knows where the
shipped checkpoints live (``generation/checkpoints/<name>/``).

The checks import no torch (the web process runs them on uploads); loading builds the model from its package's
``model.build_model`` and loads the checked weights with safetensors (never a pickle). Workers keep each shipped model
in memory once per process (``load_default_model``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from generation.engine import registry
from generation.engine.checkpoint import (
    ARCH_MISMATCH_MESSAGE,
    MAX_CHECKPOINT_BYTES,
    CheckpointInfo,
    check_checkpoint,
    load_state_dict,
    parse_meta,
    read_checkpoint,
    read_config,
    resolve_paths,
)
from generation.engine.errors import ArchitectureUnavailableError, CheckpointError

CHECKPOINTS_DIR = Path(__file__).resolve().parents[1] / "checkpoints"
NO_CHECKPOINT_MESSAGE = "No default {name} checkpoint at {path}; train one with `manage.py train {name}`."


def default_checkpoint_dir(name: str, variant: str | None = None) -> Path:
    """Where the shipped checkpoint of ``name`` lives (and where `manage.py train NAME` writes by default). A
    ``variant`` (a GAN style other than the default one) lives in a subfolder: ``generation/checkpoints/<name>/
    <variant>/``; None is the model's default checkpoint."""
    return CHECKPOINTS_DIR / name if variant is None else CHECKPOINTS_DIR / name / variant


def check_upload(weights_path: str | Path, meta: dict, *, max_bytes: int = MAX_CHECKPOINT_BYTES) -> CheckpointInfo:
    """Check weights + config.json content against the registered spec its ``architecture`` names (no torch)."""
    architecture, _config = parse_meta(meta)
    return check_checkpoint(weights_path, meta, spec=registry.get_spec(architecture), max_bytes=max_bytes)


def check_checkpoint_files(path: str | Path, config_path: str | Path | None = None, *,
                           max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[CheckpointInfo, dict]:
    """(info, meta) for a checkpoint folder or weights file (config.json beside it unless given)."""
    architecture, _config = parse_meta(read_config(resolve_paths(path, config_path)[1]))
    return read_checkpoint(path, spec=registry.get_spec(architecture), config_path=config_path, max_bytes=max_bytes)


def build_model(name: str, config: Any = None) -> Any:
    """A fresh, untrained model of ``name`` (its config dataclass, a dict, or None for the defaults)."""
    return registry.get_part(name, "model").build_model(config)


def load_checkpoint(path: str | Path, *, architecture: str | None = None, device: str = "cpu",
                    config_path: str | Path | None = None) -> tuple[Any, dict]:
    """(model in eval mode on ``device``, meta) after every check; weights loaded strictly."""
    info, meta = check_checkpoint_files(path, config_path)
    if architecture is not None and info.architecture != architecture:
        raise CheckpointError("unknown_architecture",
                              ARCH_MISMATCH_MESSAGE.format(found=info.architecture, expected=architecture))
    model = build_model(info.architecture, info.config)
    model.load_state_dict(load_state_dict(info), strict=True)
    return model.to(device).eval(), meta


_DEFAULT_MODELS: dict[tuple[str, str, str | None], tuple[Any, dict]] = {}
_LOCK = threading.Lock()


def forget_default_models(name: str | None = None) -> None:
    """Drop the loaded shipped models (of ``name``, or all): tests, and a retrained checkpoint in a live worker."""
    for key in [k for k in _DEFAULT_MODELS if name is None or k[0] == name]:
        del _DEFAULT_MODELS[key]


def load_default_model(name: str, device: str = "cpu", variant: str | None = None) -> tuple[Any, dict]:
    """(model, meta) of the shipped checkpoint of ``name`` (its ``variant``, e.g. a GAN style, when given), loaded
    once per process (workers keep it in memory)."""
    key = (name, device, variant)
    with _LOCK:
        if key not in _DEFAULT_MODELS:
            registry.get_spec(name)  # unknown / planned names fail with their own message first
            folder = default_checkpoint_dir(name, variant)
            if not (folder / "model.safetensors").exists():
                raise ArchitectureUnavailableError(
                    "no_checkpoint", NO_CHECKPOINT_MESSAGE.format(name=name, path=folder)
                )
            _DEFAULT_MODELS[key] = load_checkpoint(folder, architecture=name, device=device)
        return _DEFAULT_MODELS[key]
