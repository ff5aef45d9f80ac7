import pytest

from generation.engine import loading, registry
from tests.engine.tiny_model import spec as tiny_spec


@pytest.fixture
def tiny(monkeypatch):
    """The tiny test model package, registered for one test (spec module by name, as every model is)."""
    monkeypatch.setitem(registry.SPEC_MODULES, tiny_spec.NAME, tiny_spec.SPEC_MODULE)
    yield tiny_spec
    loading.forget_default_models(tiny_spec.NAME)


@pytest.fixture
def tiny_checkpoint(tiny, tmp_path):
    """A trained (5 steps) tiny checkpoint folder: model.safetensors + config.json."""
    from tests.engine.tiny_model.train import train

    out = tmp_path / "tiny-ckpt"
    train(steps=5, out=out)
    return out
