import json
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file as save_numpy

from generation.engine import registry
from generation.engine.checkpoint import PICKLE_MESSAGE, read_safetensors_header
from generation.engine.dataset import REPO_ROOT
from generation.engine.errors import ArchitectureUnavailableError, CheckpointError
from generation.engine.loading import check_checkpoint_files, load_checkpoint
from generation.engine.loading import check_upload as check_checkpoint


def _meta(folder):
    return json.loads((folder / "config.json").read_text())


def _state(folder):
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def _refusal(weights, meta, **kwargs) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        check_checkpoint(weights, meta, **kwargs)
    return info.value


def test_a_good_checkpoint_is_accepted_and_loads_strictly(tiny_checkpoint):
    meta = _meta(tiny_checkpoint)
    assert meta["architecture"] == "tiny"
    assert meta["metrics"]["steps"] == 5
    info = check_checkpoint(tiny_checkpoint / "model.safetensors", meta)
    assert info.architecture == "tiny"
    assert info.n_tensors == 4
    assert info.n_parameters == 4 * 128 + 4 + 128 * 4 + 1
    model, loaded_meta = load_checkpoint(tiny_checkpoint, architecture="tiny")
    assert loaded_meta == meta
    assert not model.training
    assert int(model.trained_steps) == 5
    saved = _state(tiny_checkpoint)
    assert np.array_equal(model.proj.weight.detach().numpy(), saved["proj.weight"])


def test_checks_run_without_torch(tiny_checkpoint):
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from generation.engine import registry\n"
        "from generation.engine.loading import check_checkpoint_files\n"
        "registry.register('tiny', 'tests.engine.tiny_model.spec')\n"
        f"info, meta = check_checkpoint_files(Path({str(tiny_checkpoint)!r}))\n"
        "assert info.n_tensors == 4\n"
        "assert 'torch' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    assert result.returncode == 0, result.stderr


def test_pickles_are_refused_and_never_unpickled(tiny_checkpoint, tmp_path):
    meta = _meta(tiny_checkpoint)
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"w": Payload()}, protocol=4))
    model = tiny_checkpoint / "model.safetensors"
    zipped = tmp_path / "zipped.safetensors"
    torch.save({"proj.weight": torch.zeros(4, 128)}, zipped)
    legacy = tmp_path / "legacy.safetensors"
    torch.save({"proj.weight": torch.zeros(4, 128)}, legacy, _use_new_zipfile_serialization=False)
    for path in (evil, zipped, legacy):
        error = _refusal(path, meta)
        assert error.code == "pickle_refused"
        assert "never unpickles" in error.message
    assert "zip" in _refusal(zipped, meta).message
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "model.safetensors").write_bytes(evil.read_bytes())
    (tmp_path / "ckpt" / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "ckpt")
    assert not marker.exists()
    assert model.exists()
    assert PICKLE_MESSAGE.startswith("The file is a pickle")


def test_wrong_shapes_dtypes_and_names_are_refused(tiny_checkpoint, tmp_path):
    meta = _meta(tiny_checkpoint)
    state = _state(tiny_checkpoint)
    wider = {**meta, "config": {"width": 8}}
    error = _refusal(tiny_checkpoint / "model.safetensors", wider)
    assert error.code == "shape_mismatch"
    assert "proj.weight" in error.message
    assert "[4, 128]" in error.message
    assert "[8, 128]" in error.message

    half = tmp_path / "half.safetensors"
    save_numpy({**state, "proj.bias": state["proj.bias"].astype(np.float16)}, str(half))
    assert _refusal(half, meta).code == "dtype_mismatch"

    missing = tmp_path / "missing.safetensors"
    save_numpy({k: v for k, v in state.items() if k != "out.weight"}, str(missing))
    error = _refusal(missing, meta)
    assert error.code == "missing_tensor"
    assert "out.weight" in error.message

    extra = tmp_path / "extra.safetensors"
    save_numpy({**state, "backdoor": np.zeros(3, dtype=np.float32)}, str(extra))
    assert _refusal(extra, meta).code == "unexpected_tensor"


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(tiny_checkpoint, tmp_path, bad):
    state = _state(tiny_checkpoint)
    state["out.weight"][3, 2] = bad
    path = tmp_path / "nan.safetensors"
    save_numpy(state, str(path))
    error = _refusal(path, _meta(tiny_checkpoint))
    assert error.code == "not_finite"
    assert "out.weight" in error.message


@pytest.mark.parametrize("huge", [3e38, -2e5])
def test_finite_but_absurd_weights_are_refused(tiny_checkpoint, tmp_path, huge):
    """Issue 24: a bias filled with 3e38 (finite) made every studio job run its full time limit."""
    state = _state(tiny_checkpoint)
    state["out.weight"][:] = huge
    path = tmp_path / "huge.safetensors"
    save_numpy(state, str(path))
    error = _refusal(path, _meta(tiny_checkpoint))
    assert error.code == "too_large_values"
    assert "out.weight" in error.message
    assert "10000" in error.message


def test_a_header_nested_deep_is_refused_without_recursion(tmp_path):
    """Issue 24: a header nested 100,001 deep raised RecursionError (a 500 on the API)."""
    header = ("[" * 100_001 + "]" * 100_001).encode()
    path = tmp_path / "deep.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(CheckpointError) as caught:
        read_safetensors_header(path)
    assert caught.value.code == "bad_header"
    assert "nested 100,001 levels deep" in caught.value.message


def _rewrite_header(source, target, edit):
    data = source.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    edit(header)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    target.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])


def test_a_lying_header_is_refused(tiny_checkpoint, tmp_path):
    good = tiny_checkpoint / "model.safetensors"
    meta = _meta(tiny_checkpoint)
    lies = {
        "offsets past the end": lambda h: h["proj.bias"].update(data_offsets=[0, 10**9]),
        "overlapping tensors": lambda h: h["out.weight"].update(data_offsets=h["proj.weight"]["data_offsets"]),
        "shape bigger than its bytes": lambda h: h["proj.bias"].update(shape=[400]),
        "unknown dtype": lambda h: h["proj.bias"].update(dtype="F128"),
        "negative offset": lambda h: h["proj.bias"].update(data_offsets=[-4, 12]),
        "extra key": lambda h: h["proj.bias"].update(evil=1),
    }
    for name, edit in lies.items():
        path = tmp_path / f"{name}.safetensors"
        _rewrite_header(good, path, edit)
        assert _refusal(path, meta).code == "bad_header", name
    data = good.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[:-16])
    assert _refusal(truncated, meta).code == "bad_header"
    claims_more = tmp_path / "claims.safetensors"
    claims_more.write_bytes(struct.pack("<Q", len(data) * 4) + data[8:])
    assert _refusal(claims_more, meta).code == "bad_header"
    tiny_file = tmp_path / "tiny.safetensors"
    tiny_file.write_bytes(b"\x01\x02")
    assert _refusal(tiny_file, meta).code == "bad_header"
    assert set(read_safetensors_header(good)) == {"proj.weight", "proj.bias", "out.weight", "trained_steps"}


def test_oversize_is_refused_before_reading(tiny_checkpoint):
    weights = tiny_checkpoint / "model.safetensors"
    size = weights.stat().st_size
    error = _refusal(weights, _meta(tiny_checkpoint), max_bytes=size - 1)
    assert error.code == "too_large"
    assert f"{size:,} bytes" in error.message
    assert f"{size - 1:,} bytes" in error.message


def test_unknown_and_unavailable_architectures(tiny_checkpoint, monkeypatch):
    weights = tiny_checkpoint / "model.safetensors"
    error = _refusal(weights, {"architecture": "vae", "config": {}})
    assert error.code == "unknown_architecture"
    assert "arcnn" in error.message
    monkeypatch.setattr(registry, "PLANNED_ARCHITECTURES", ("musicvae",))  # named, not built yet
    with pytest.raises(ArchitectureUnavailableError) as info:
        check_checkpoint(weights, {"architecture": "musicvae", "config": {}})
    assert info.value.code == "not_available"
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tiny_checkpoint, architecture="arcnn")
    assert info.value.code == "unknown_architecture"


@pytest.mark.parametrize(
    "meta",
    [
        {"architecture": "tiny", "config": {"width": 1000}},
        {"architecture": "tiny", "config": {"width": 4, "layers": 2}},
        {"architecture": "tiny", "config": {"width": "4"}},
        {"architecture": "tiny", "config": [4]},
        {"architecture": "tiny"},
        {"config": {"width": 4}},
        [1, 2],
    ],
)
def test_bad_configs_are_refused(tiny_checkpoint, meta):
    assert _refusal(tiny_checkpoint / "model.safetensors", meta).code == "bad_config"


def test_check_checkpoint_files_reads_the_config_beside_the_weights(tiny_checkpoint, tmp_path):
    _info, meta = check_checkpoint_files(tiny_checkpoint / "model.safetensors")
    assert meta["architecture"] == "tiny"
    (tmp_path / "elsewhere.json").write_text("{not json")
    with pytest.raises(CheckpointError) as error:
        check_checkpoint_files(tiny_checkpoint, tmp_path / "elsewhere.json")
    assert error.value.code == "bad_config"
    with pytest.raises(CheckpointError) as error:
        check_checkpoint_files(tmp_path / "nothing-here")
    assert error.value.code == "not_found"
