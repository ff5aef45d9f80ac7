"""The registry of model architectures: the one place that maps a name to its code (no torch at import).

Every entry names its functions as "module:function" strings that are imported on first call, so importing the
registry (the web process does, to check uploaded checkpoints) never imports torch. Workers call
``load_default_model(name)``, which loads the shipped checkpoint from ``generation/checkpoints/<name>/`` once per
process.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generation.engine.errors import ArchitectureUnavailableError, CheckpointError

CHECKPOINTS_DIR = Path(__file__).resolve().parents[1] / "checkpoints"
PLANNED_ARCHITECTURES = ("transformer",)  # named by DESIGN section 4, not built yet

UNKNOWN_ARCHITECTURE_MESSAGE = "Unknown architecture {name!r}; known architectures: {known}."
NOT_AVAILABLE_MESSAGE = "The {name} model is not available yet; available models: {available}."
NO_CHECKPOINT_MESSAGE = "No default {name} checkpoint at {path}; train one with `manage.py train {name}`."
NOT_A_GENERATOR_MESSAGE = "The {name} architecture does not generate music; models that do: {generators}."


def _lazy(target: str) -> Callable[..., Any]:
    """A function that imports ``module:attribute`` on its first call (keeps torch out of importers)."""
    module_name, _, attribute = target.partition(":")
    resolved: list[Callable[..., Any]] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        if not resolved:
            resolved.append(getattr(importlib.import_module(module_name), attribute))
        return resolved[0](*args, **kwargs)

    call.__name__ = attribute
    call.__qualname__ = target
    return call


@dataclass(frozen=True)
class Architecture:
    name: str
    config_from_dict: Callable[[dict], Any]  # untrusted dict -> config dataclass; raises CheckpointError (no torch)
    tensor_specs: Callable[[Any], dict[str, tuple[tuple[int, ...], str]]]  # config -> {name: (shape, dtype)}
    build_model: Callable[[Any], Any]  # config -> torch.nn.Module (imports torch)
    train: Callable[[Path | None, int | None, Path, str], dict]  # (data_dir, steps, out_dir, device) -> metrics
    generate: Callable[..., Any] | None = None  # (model, pm, params, seed) -> PrettyMIDI; None = not a generator
    default_checkpoint_dir: Path | None = None
    description: str = ""

    @property
    def is_generator(self) -> bool:
        return self.generate is not None


def _train_discriminator(data_dir: Path | None, steps: int | None, out_dir: Path, device: str) -> dict:
    """train_discriminator.train takes keyword arguments and returns the weights path; metrics are in config.json."""
    import json

    from generation.engine.models.discriminator.train import train

    weights = Path(train(data=data_dir, steps=steps, out=out_dir, device=device))
    config = weights.parent / "config.json"
    return json.loads(config.read_text()).get("metrics", {}) if config.exists() else {}


ARCHITECTURES: dict[str, Architecture] = {
    "arcnn": Architecture(
        name="arcnn",
        config_from_dict=_lazy("generation.engine.models.arcnn.spec:config_from_dict"),
        tensor_specs=_lazy("generation.engine.models.arcnn.spec:tensor_specs"),
        build_model=_lazy("generation.engine.models.arcnn.model:build_model"),
        train=_lazy("generation.engine.models.arcnn.train:train"),
        generate=_lazy("generation.engine.models.arcnn.sampler:generate"),
        default_checkpoint_dir=CHECKPOINTS_DIR / "arcnn",
        description="AR-CNN editing: adds and removes notes so a track sounds more like Bach",
    ),
    "gan": Architecture(
        name="gan",
        config_from_dict=_lazy("generation.engine.models.gan.spec:config_from_dict"),
        tensor_specs=_lazy("generation.engine.models.gan.spec:tensor_specs"),
        build_model=_lazy("generation.engine.models.gan.model:build_model"),
        train=_lazy("generation.engine.models.gan.train:train"),
        generate=_lazy("generation.engine.models.gan.sampler:generate"),
        default_checkpoint_dir=CHECKPOINTS_DIR / "gan",
        description="GAN accompaniment: adds alto, tenor and bass tracks under a melody",
    ),
    "discriminator": Architecture(
        name="discriminator",
        config_from_dict=_lazy("generation.engine.models.discriminator.spec:config_from_dict"),
        tensor_specs=_lazy("generation.engine.models.discriminator.spec:tensor_specs"),
        build_model=_lazy("generation.engine.models.discriminator.model:build_model"),
        train=_train_discriminator,
        default_checkpoint_dir=CHECKPOINTS_DIR / "discriminator",
        description="realness discriminator used by scoring",
    ),
}


def known_names() -> list[str]:
    return sorted(set(ARCHITECTURES) | set(PLANNED_ARCHITECTURES))


def get_architecture(name: str) -> Architecture:
    """The registered architecture; CheckpointError(unknown_architecture) or ArchitectureUnavailableError."""
    if name in ARCHITECTURES:
        return ARCHITECTURES[name]
    if name in PLANNED_ARCHITECTURES:
        available = ", ".join(sorted(n for n, a in ARCHITECTURES.items() if a.is_generator))
        raise ArchitectureUnavailableError(
            "not_available", NOT_AVAILABLE_MESSAGE.format(name=name, available=available)
        )
    raise CheckpointError("unknown_architecture",
                          UNKNOWN_ARCHITECTURE_MESSAGE.format(name=name, known=", ".join(known_names())))


def get_generator(name: str) -> Architecture:
    arch = get_architecture(name)
    if not arch.is_generator:
        generators = ", ".join(sorted(n for n, a in ARCHITECTURES.items() if a.is_generator))
        raise ArchitectureUnavailableError(
            "not_a_generator", NOT_A_GENERATOR_MESSAGE.format(name=name, generators=generators)
        )
    return arch


def register(arch: Architecture) -> Architecture:
    """Add (or replace) an architecture: new models, and tiny test architectures."""
    ARCHITECTURES[arch.name] = arch
    _forget_default_models(arch.name)
    return arch


def unregister(name: str) -> None:
    ARCHITECTURES.pop(name, None)
    _forget_default_models(name)


_DEFAULT_MODELS: dict[str, tuple[Any, dict]] = {}
_LOCK = threading.Lock()


def _forget_default_models(name: str) -> None:
    for key in [k for k in _DEFAULT_MODELS if k.split("@")[0] == name]:
        del _DEFAULT_MODELS[key]


def load_default_model(name: str, device: str = "cpu") -> tuple[Any, dict]:
    """(model, meta) of the shipped checkpoint of ``name``, loaded once per process (workers keep it in memory)."""
    key = f"{name}@{device}"
    with _LOCK:
        if key not in _DEFAULT_MODELS:
            from generation.engine.checkpoint import load_checkpoint

            arch = get_architecture(name)
            folder = arch.default_checkpoint_dir
            if folder is None or not (folder / "model.safetensors").exists():
                message = NO_CHECKPOINT_MESSAGE.format(name=name, path=folder)
                raise ArchitectureUnavailableError("no_checkpoint", message)
            _DEFAULT_MODELS[key] = load_checkpoint(folder, architecture=name, device=device)
        return _DEFAULT_MODELS[key]
