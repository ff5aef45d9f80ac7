import pytest

from generation.engine import params, registry
from tests.engine import tiny_arch


@pytest.fixture
def tiny(monkeypatch):
    """The tiny test architecture, registered (with the AR-CNN's parameter names) for one test."""
    monkeypatch.setitem(registry.ARCHITECTURES, tiny_arch.NAME, tiny_arch.ARCHITECTURE)
    monkeypatch.setitem(params.PARAM_SPECS, tiny_arch.NAME, params.PARAM_SPECS["arcnn"])
    yield tiny_arch
    registry._forget_default_models(tiny_arch.NAME)


@pytest.fixture
def tiny_checkpoint(tiny, tmp_path):
    """A trained (5 steps) tiny checkpoint folder: model.safetensors + config.json."""
    out = tmp_path / "tiny-ckpt"
    tiny.train(None, 5, out, "cpu")
    return out
