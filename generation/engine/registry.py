"""The registry of models: the one place that maps a model's name to its spec module, and nothing else.

A model is one package, ``generation/engine/models/<name>/``, registered here once by its torch-free ``spec`` module.
The package's other parts are found by convention beside the spec (``model.py``: ``build_model``; ``sampler.py``:
``generate``; ``train.py``: ``train``) and imported only when asked for, so importing the registry, or a spec, never
imports torch (the web process checks uploaded checkpoints with the specs alone).

A spec module holds: ``ARCHITECTURE`` (its name), ``DESCRIPTION`` (one line: what it does to the music),
``IS_GENERATOR``, the config dataclass with ``config_from_dict`` / ``config_to_dict`` / ``tensor_specs`` /
``n_parameters``, and for generators ``PARAMS``, the user parameters (``generation.engine.params``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from generation.engine.errors import ArchitectureUnavailableError, CheckpointError

SPEC_MODULES: dict[str, str] = {
    "arcnn": "generation.engine.models.arcnn.spec",
    "discriminator": "generation.engine.models.discriminator.spec",
    "gan": "generation.engine.models.gan.spec",
    "transformer": "generation.engine.models.transformer.spec",
}
PLANNED_ARCHITECTURES: tuple[str, ...] = ()  # docs/design.md section 4's three models are all built
PARTS = ("model", "sampler", "train")  # a model package's modules beside its spec

UNKNOWN_ARCHITECTURE_MESSAGE = "Unknown architecture {name!r}; known architectures: {known}."
NOT_AVAILABLE_MESSAGE = "The {name} model is not available yet; available models: {available}."
NOT_A_GENERATOR_MESSAGE = "The {name} architecture does not generate music; models that do: {generators}."
NOT_TRAINABLE_MESSAGE = "The {name} model cannot be trained from the studio; models that can: {names}."


def known_names() -> list[str]:
    return sorted(set(SPEC_MODULES) | set(PLANNED_ARCHITECTURES))


def generator_names() -> list[str]:
    return sorted(name for name in SPEC_MODULES if get_spec(name).IS_GENERATOR)


def trainable_names() -> list[str]:
    """Generators a user can train from the studio's Train page: those whose spec lists TRAIN_PARAMS."""
    return [name for name in generator_names() if getattr(get_spec(name), "TRAIN_PARAMS", None)]


def get_trainable_spec(name: str) -> ModuleType:
    """The spec of a generator users can train (TRAIN_PARAMS); ArchitectureUnavailableError names those that are."""
    if name not in trainable_names():
        raise ArchitectureUnavailableError(
            "not_trainable", NOT_TRAINABLE_MESSAGE.format(name=name, names=", ".join(trainable_names())))
    return get_spec(name)


def get_spec(name: str) -> ModuleType:
    """The registered model's spec module; CheckpointError(unknown_architecture) or ArchitectureUnavailableError."""
    if name in SPEC_MODULES:
        return importlib.import_module(SPEC_MODULES[name])
    if name in PLANNED_ARCHITECTURES:
        raise ArchitectureUnavailableError(
            "not_available", NOT_AVAILABLE_MESSAGE.format(name=name, available=", ".join(generator_names()))
        )
    raise CheckpointError("unknown_architecture",
                          UNKNOWN_ARCHITECTURE_MESSAGE.format(name=name, known=", ".join(known_names())))


def get_generator_spec(name: str) -> ModuleType:
    spec = get_spec(name)
    if not spec.IS_GENERATOR:
        raise ArchitectureUnavailableError(
            "not_a_generator", NOT_A_GENERATOR_MESSAGE.format(name=name, generators=", ".join(generator_names()))
        )
    return spec


def get_part(name: str, part: str) -> ModuleType:
    """``model``, ``sampler`` or ``train`` of a registered model (imports torch): the module beside its spec."""
    if part not in PARTS:
        raise ValueError(f"a model package's parts are {', '.join(PARTS)}; got {part!r}")
    package = get_spec(name).__name__.rpartition(".")[0]
    return importlib.import_module(f"{package}.{part}")


def register(name: str, spec_module: str) -> None:
    """Add (or replace) a model by its spec module's dotted path (new models, and tiny test models)."""
    SPEC_MODULES[name] = spec_module


def unregister(name: str) -> None:
    SPEC_MODULES.pop(name, None)
