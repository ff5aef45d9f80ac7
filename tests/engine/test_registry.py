"""The registry maps a name to a spec module and nothing else; model parts are found beside the spec."""

import subprocess
import sys

import pytest

from generation.engine import loading, registry
from generation.engine.dataset import REPO_ROOT
from generation.engine.errors import ArchitectureUnavailableError, CheckpointError


def test_names_and_errors():
    assert {"arcnn", "discriminator"} <= set(registry.SPEC_MODULES)
    assert {"arcnn", "discriminator", "gan", "transformer"} <= set(registry.known_names())
    with pytest.raises(CheckpointError) as info:
        registry.get_spec("vae")
    assert info.value.code == "unknown_architecture"
    assert "arcnn, discriminator" in info.value.message
    planned = [name for name in registry.PLANNED_ARCHITECTURES if name not in registry.SPEC_MODULES]
    for name in planned:
        with pytest.raises(ArchitectureUnavailableError) as info:
            registry.get_spec(name)
        assert info.value.code == "not_available"
        assert "available models: arcnn" in info.value.message
    with pytest.raises(ArchitectureUnavailableError) as info:
        registry.get_generator_spec("discriminator")
    assert info.value.code == "not_a_generator"
    assert registry.get_generator_spec("arcnn").IS_GENERATOR


@pytest.mark.parametrize("name", sorted(registry.SPEC_MODULES))
def test_every_registered_model_is_one_package_with_the_four_parts(name):
    spec = registry.get_spec(name)
    package = spec.__name__.rpartition(".")[0]
    assert package == f"generation.engine.models.{name}"
    assert name == spec.ARCHITECTURE
    assert spec.DESCRIPTION
    for part in ("model", "train") + (("sampler",) if spec.IS_GENERATOR else ()):
        assert registry.get_part(name, part).__name__ == f"{package}.{part}"
    assert callable(registry.get_part(name, "model").build_model)
    assert callable(registry.get_part(name, "train").train)
    if spec.IS_GENERATOR:
        assert callable(registry.get_part(name, "sampler").generate)
        assert spec.EDITS in {"melody", "all", "none"}
        assert spec.PARAMS[-1].name == "seed"


@pytest.mark.parametrize("name", sorted(registry.SPEC_MODULES))
def test_tensor_specs_equal_a_fresh_models_state_dict(name):
    spec = registry.get_spec(name)
    config = spec.config_from_dict({})
    model = loading.build_model(name, config)
    state = model.state_dict()
    specs = spec.tensor_specs(config)
    assert set(specs) == set(state), name
    for key, (shape, dtype) in specs.items():
        assert tuple(state[key].shape) == tuple(shape), key
        assert str(state[key].dtype).removeprefix("torch.") == dtype, key
    assert spec.n_parameters(config) == sum(p.numel() for p in model.parameters())


def test_importing_the_registry_and_specs_imports_no_torch():
    code = (
        "import sys\n"
        "from generation.engine import registry\n"
        "for name in registry.SPEC_MODULES: registry.get_spec(name)\n"
        "assert not any(m.startswith('torch') for m in sys.modules), 'torch imported'\n"
        "assert not any(m.endswith(('.model', '.sampler', '.train')) and m.startswith('generation.engine.models')\n"
        "               for m in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    assert result.returncode == 0, result.stderr


def test_default_model_loads_once_per_process(tiny, tiny_checkpoint, monkeypatch):
    monkeypatch.setattr(loading, "CHECKPOINTS_DIR", tiny_checkpoint.parent)
    (tiny_checkpoint.parent / "tiny").symlink_to(tiny_checkpoint, target_is_directory=True)
    model, meta = loading.load_default_model("tiny")
    assert meta["architecture"] == "tiny"
    assert loading.load_default_model("tiny")[0] is model
    loading.forget_default_models("tiny")
    assert loading.load_default_model("tiny")[0] is not model
