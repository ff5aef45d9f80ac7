import subprocess
import sys

import pytest

from generation.engine import registry
from generation.engine.dataset import REPO_ROOT
from generation.engine.errors import ArchitectureUnavailableError, CheckpointError


def test_names_and_errors():
    assert {"arcnn", "discriminator"} <= set(registry.ARCHITECTURES)
    assert {"arcnn", "discriminator", "gan", "transformer"} <= set(registry.known_names())
    with pytest.raises(CheckpointError) as info:
        registry.get_architecture("vae")
    assert info.value.code == "unknown_architecture"
    assert "arcnn, discriminator, gan, transformer" in info.value.message
    with pytest.raises(ArchitectureUnavailableError) as info:
        registry.get_architecture("gan")
    assert info.value.code == "not_available"
    assert "available models: arcnn" in info.value.message
    with pytest.raises(ArchitectureUnavailableError) as info:
        registry.get_generator("discriminator")
    assert info.value.code == "not_a_generator"
    assert registry.get_generator("arcnn").is_generator


def test_registered_specs_match_a_fresh_model():
    for name, arch in registry.ARCHITECTURES.items():
        config = arch.config_from_dict({})
        model = arch.build_model(config)
        state = model.state_dict()
        specs = arch.tensor_specs(config)
        assert set(specs) == set(state), name
        for key, (shape, dtype) in specs.items():
            assert tuple(state[key].shape) == tuple(shape), key
            assert str(state[key].dtype).removeprefix("torch.") == dtype, key


def test_importing_the_registry_imports_no_model_code():
    code = (
        "import sys\n"
        "from generation.engine import registry\n"
        "registry.get_architecture('arcnn')\n"
        "assert not any(m.startswith(('torch', 'generation.engine.models.arcnn.model')) for m in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    assert result.returncode == 0, result.stderr


def test_register_and_load_default_model_once(tiny, tiny_checkpoint, monkeypatch):
    from dataclasses import replace

    arch = replace(tiny.ARCHITECTURE, default_checkpoint_dir=tiny_checkpoint)
    monkeypatch.setitem(registry.ARCHITECTURES, "tiny", arch)
    model, meta = registry.load_default_model("tiny")
    assert meta["architecture"] == "tiny"
    assert registry.load_default_model("tiny")[0] is model
    registry.register(arch)  # re-registering forgets the loaded model
    assert registry.load_default_model("tiny")[0] is not model
