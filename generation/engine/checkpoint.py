"""Checkpoint files: safetensors weights + a JSON config (docs/design.md section 4). Loading never unpickles.

The checks (``read_safetensors_header``, ``check_checkpoint``) use only the file's own header JSON and numpy, so the
web process runs them at upload time without torch. They take the model's spec module they are given (this module
knows no registry: ``generation.engine.loading`` looks the spec up by the config's architecture name).
``save_checkpoint`` and ``load_state_dict`` import safetensors' torch functions when called.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from generation.engine.config_bounds import MAX_CONFIG_BYTES, _json_depth, config_json_loads, config_too_large
from generation.engine.errors import CheckpointError

MAX_CHECKPOINT_BYTES = 200 * 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024 * 1024
WEIGHTS_FILENAME = "model.safetensors"
CONFIG_FILENAME = "config.json"
FINITE_CHUNK = 1 << 22  # elements checked at a time (bounded memory on 200 MiB files)

# safetensors dtype -> (our name, bytes per element)
DTYPES: dict[str, tuple[str, int]] = {
    "F64": ("float64", 8), "F32": ("float32", 4), "F16": ("float16", 2), "BF16": ("bfloat16", 2),
    "I64": ("int64", 8), "I32": ("int32", 4), "I16": ("int16", 2), "I8": ("int8", 1), "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}

NOT_FOUND_MESSAGE = "No checkpoint file at {path}."
TOO_LARGE_MESSAGE = "The checkpoint is {found:,} bytes; the limit is {limit:,} bytes."
PICKLE_MESSAGE = (
    "The file is a pickle/zip PyTorch file ({kind}); the platform never unpickles. Save the weights with "
    "safetensors (safetensors.torch.save_file(model.state_dict(), 'model.safetensors'))."
)
DTYPES_BY_NAME: dict[str, int] = dict(DTYPES.values())  # our name -> bytes per element

BAD_HEADER_MESSAGE = "The safetensors header is invalid: {detail}."
BAD_META_MESSAGE = 'The checkpoint config must be a JSON object {{"architecture": ..., "config": {{...}}}}: {detail}.'
BAD_CONFIG_MESSAGE = "The {architecture} config is invalid: {detail}."
MISSING_TENSOR_MESSAGE = "The checkpoint lacks tensor(s) the {architecture} config needs: {names}."
UNEXPECTED_TENSOR_MESSAGE = "The checkpoint holds tensor(s) the {architecture} config does not have: {names}."
SHAPE_MESSAGE = "Tensor {name} has shape {found}; the {architecture} config needs {expected}."
DTYPE_MESSAGE = "Tensor {name} is {found}; the {architecture} config needs {expected}."
NOT_FINITE_MESSAGE = "Tensor {name} holds {count:,} non-finite value(s) (NaN or infinity)."
# A trained model's weights are small (the shipped models' largest |value| is 3.5; batch-norm running variances of
# piano rolls stay far below this): finite but absurd values (3e38) only make a model slow or its output noise.
MAX_ABS_WEIGHT = 1e4
TOO_LARGE_VALUES_MESSAGE = ("Tensor {name} holds {count:,} value(s) larger than {limit:g} in magnitude; a trained "
                            "model's weights are far smaller.")
MAX_HEADER_DEPTH = 4  # a safetensors header: {name: {"shape": [...]}}, three levels
HEADER_TOO_DEEP = "the header is nested {depth:,} levels deep; a safetensors header has at most {limit}"
ARCH_MISMATCH_MESSAGE = "The checkpoint is a {found} model; a {expected} model was asked for."


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: str  # our name (float32, int64, ...)
    shape: tuple[int, ...]
    begin: int  # offsets into the data buffer (after the header)
    end: int


@dataclass(frozen=True)
class CheckpointInfo:
    architecture: str
    config: Any  # the architecture's config dataclass
    n_tensors: int
    n_parameters: int  # elements over all tensors
    n_bytes: int
    weights_path: Path


def _bad_header(detail: str) -> CheckpointError:
    return CheckpointError("bad_header", BAD_HEADER_MESSAGE.format(detail=detail))


def _pickle_kind(prefix: bytes) -> str | None:
    if prefix.startswith(b"PK\x03\x04"):
        return "a zip archive, as torch.save writes"
    if len(prefix) >= 2 and prefix[0] == 0x80 and 2 <= prefix[1] <= 5:
        return f"pickle protocol {prefix[1]}"
    return None


def read_safetensors_header(path: str | Path, *, max_bytes: int = MAX_CHECKPOINT_BYTES) -> dict[str, TensorEntry]:
    """Parse the 8-byte header length + JSON header ourselves; every tensor's offsets must match its dtype and shape
    and the tensors must tile the data buffer exactly (a header that lies about sizes or offsets is refused)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError("not_found", NOT_FOUND_MESSAGE.format(path=path))
    size = path.stat().st_size
    if size > max_bytes:
        raise CheckpointError("too_large", TOO_LARGE_MESSAGE.format(found=size, limit=max_bytes))
    with path.open("rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise _bad_header(f"the file is only {size} bytes")
        (n,) = struct.unpack("<Q", prefix)
        if n < 2 or n > MAX_HEADER_BYTES or 8 + n > size:
            kind = _pickle_kind(prefix)
            if kind:
                raise CheckpointError("pickle_refused", PICKLE_MESSAGE.format(kind=kind))
            raise _bad_header(f"it claims {n:,} header bytes in a {size:,}-byte file")
        raw = f.read(n)
    try:
        text = raw.decode("utf-8")
        depth = _json_depth(text)  # counted without recursion: json.loads would raise RecursionError
        if depth > MAX_HEADER_DEPTH:
            raise _bad_header(HEADER_TOO_DEEP.format(depth=depth, limit=MAX_HEADER_DEPTH))
        header = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        kind = _pickle_kind(prefix)
        if kind:
            raise CheckpointError("pickle_refused", PICKLE_MESSAGE.format(kind=kind)) from exc
        raise _bad_header("the header is not JSON") from exc
    if not isinstance(header, dict):
        raise _bad_header("the header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _bad_header("__metadata__ must map names to strings")
    entries = {name: _entry(name, spec) for name, spec in header.items()}
    _check_tiling(entries, size - 8 - n)
    return entries


def _entry(name: str, spec: Any) -> TensorEntry:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
        raise _bad_header(f"tensor {name} must have exactly dtype, shape and data_offsets")
    dtype, shape, offsets = spec["dtype"], spec["shape"], spec["data_offsets"]
    if dtype not in DTYPES:
        raise _bad_header(f"tensor {name} has unsupported dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                for d in shape):
        raise _bad_header(f"tensor {name} has an invalid shape {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)):
        raise _bad_header(f"tensor {name} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    our_dtype, itemsize = DTYPES[dtype]
    expected = math.prod(shape) * itemsize
    if end - begin != expected:
        raise _bad_header(f"tensor {name} spans {end - begin:,} bytes but {dtype}{shape} needs {expected:,}")
    return TensorEntry(name, our_dtype, tuple(shape), begin, end)


def _check_tiling(entries: dict[str, TensorEntry], buffer_bytes: int) -> None:
    position = 0
    for entry in sorted(entries.values(), key=lambda e: (e.begin, e.end)):
        if entry.begin != position:
            raise _bad_header(f"tensor {entry.name} starts at byte {entry.begin:,}, expected {position:,} "
                              "(tensors overlap or leave gaps)")
        position = entry.end
    if position != buffer_bytes:
        raise _bad_header(f"the tensors cover {position:,} bytes but the file holds {buffer_bytes:,} data bytes")


def parse_meta(meta: Any) -> tuple[str, dict]:
    """(architecture name, raw config dict) of a config.json's content; only its shape is checked here."""
    if not isinstance(meta, dict):
        raise CheckpointError("bad_config", BAD_META_MESSAGE.format(detail=f"found {type(meta).__name__}"))
    architecture, config = meta.get("architecture"), meta.get("config")
    if not isinstance(architecture, str):
        raise CheckpointError("bad_config", BAD_META_MESSAGE.format(detail="'architecture' must be a string"))
    if not isinstance(config, dict):
        raise CheckpointError("bad_config", BAD_META_MESSAGE.format(detail="'config' must be an object"))
    return architecture, config


def config_of(meta: Any, spec: ModuleType) -> Any:
    """The spec's config dataclass from a config.json's content (untrusted); CheckpointError names the problem."""
    architecture, config = parse_meta(meta)
    if architecture != spec.ARCHITECTURE:
        raise CheckpointError("unknown_architecture",
                              ARCH_MISMATCH_MESSAGE.format(found=architecture, expected=spec.ARCHITECTURE))
    try:
        return spec.config_from_dict(config)
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError("bad_config", BAD_CONFIG_MESSAGE.format(architecture=architecture, detail=exc)) from exc


def _normalize_dtype(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def _check_specs(entries: dict[str, TensorEntry], specs: dict[str, tuple[tuple[int, ...], Any]], arch: str) -> None:
    missing = sorted(set(specs) - set(entries))
    if missing:
        raise CheckpointError("missing_tensor", MISSING_TENSOR_MESSAGE.format(architecture=arch,
                                                                              names=", ".join(missing[:10])))
    unexpected = sorted(set(entries) - set(specs))
    if unexpected:
        raise CheckpointError("unexpected_tensor", UNEXPECTED_TENSOR_MESSAGE.format(architecture=arch,
                                                                                    names=", ".join(unexpected[:10])))
    for name, (shape, dtype) in specs.items():
        entry = entries[name]
        if entry.shape != tuple(shape):
            raise CheckpointError("shape_mismatch", SHAPE_MESSAGE.format(
                name=name, found=list(entry.shape), expected=list(shape), architecture=arch))
        if entry.dtype != _normalize_dtype(dtype):
            raise CheckpointError("dtype_mismatch", DTYPE_MESSAGE.format(
                name=name, found=entry.dtype, expected=_normalize_dtype(dtype), architecture=arch))


def _count_not_finite(data: np.ndarray, dtype: str) -> tuple[int, int]:
    """(non-finite values, finite values above MAX_ABS_WEIGHT in magnitude) of ``data``, the raw little-endian
    bytes (uint8) of one tensor chunk."""
    if dtype == "bfloat16":  # numpy has no bfloat16: its bits are a float32's upper half
        values = (data.view("<u2").astype(np.uint32) << 16).view(np.float32)
    else:
        values = data.view(np.dtype(dtype).newbyteorder("<"))
    finite = np.isfinite(values)
    too_large = np.count_nonzero(np.abs(values[finite]) > MAX_ABS_WEIGHT) if values.size else 0
    return int(values.size - np.count_nonzero(finite)), int(too_large)


def _check_finite(path: Path, entries: dict[str, TensorEntry]) -> None:
    floats = [e for e in entries.values() if e.dtype.startswith(("float", "bfloat")) and e.end > e.begin]
    if not floats:
        return
    with path.open("rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
    buffer = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    try:
        for entry in floats:
            itemsize = DTYPES_BY_NAME[entry.dtype]
            step = FINITE_CHUNK * itemsize
            bad = large = 0
            for start in range(entry.begin, entry.end, step):
                chunk = np.asarray(buffer[start:min(start + step, entry.end)])
                chunk_bad, chunk_large = _count_not_finite(chunk, entry.dtype)
                bad, large = bad + chunk_bad, large + chunk_large
            if bad:
                raise CheckpointError("not_finite", NOT_FINITE_MESSAGE.format(name=entry.name, count=bad))
            if large:
                raise CheckpointError("too_large_values", TOO_LARGE_VALUES_MESSAGE.format(
                    name=entry.name, count=large, limit=MAX_ABS_WEIGHT))
    finally:
        del buffer


def check_checkpoint(weights_path: str | Path, meta: dict, *, spec: ModuleType,
                     max_bytes: int = MAX_CHECKPOINT_BYTES) -> CheckpointInfo:
    """Validate weights + config the way the platform does (no torch) against ``spec``, the model's spec module:
    size cap, config bounds, header sanity, every tensor's name/shape/dtype, finite values. Raises CheckpointError."""
    weights_path = Path(weights_path)
    cfg = config_of(meta, spec)
    entries = read_safetensors_header(weights_path, max_bytes=max_bytes)
    _check_specs(entries, spec.tensor_specs(cfg), spec.ARCHITECTURE)
    _check_finite(weights_path, entries)
    return CheckpointInfo(
        architecture=spec.ARCHITECTURE, config=cfg, n_tensors=len(entries),
        n_parameters=sum(math.prod(e.shape) for e in entries.values()),
        n_bytes=weights_path.stat().st_size, weights_path=weights_path,
    )


# ------------------------------------------------------------------------------------------------ files and torch
def resolve_paths(path: str | Path, config_path: str | Path | None = None) -> tuple[Path, Path]:
    """(weights, config) for a checkpoint folder or a weights file (config.json beside it unless given)."""
    path = Path(path)
    weights = path / WEIGHTS_FILENAME if path.is_dir() else path
    config = Path(config_path) if config_path else weights.parent / CONFIG_FILENAME
    return weights, config


def read_config(config_path: str | Path) -> dict:
    """config.json within the limits an upload has (config_bounds: MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH)."""
    config_path = Path(config_path)
    if not config_path.is_file():
        raise CheckpointError("not_found", NOT_FOUND_MESSAGE.format(path=config_path))
    size = config_path.stat().st_size
    if size > MAX_CONFIG_BYTES:  # refuse before reading it
        raise config_too_large(size)
    meta = config_json_loads(config_path.read_bytes())
    parse_meta(meta)
    return meta


def read_checkpoint(path: str | Path, *, spec: ModuleType, config_path: str | Path | None = None,
                    max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[CheckpointInfo, dict]:
    """(info, meta) of a checkpoint folder or weights file of the model ``spec`` describes, every check applied."""
    weights, config = resolve_paths(path, config_path)
    meta = read_config(config)
    return check_checkpoint(weights, meta, spec=spec, max_bytes=max_bytes), meta


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def save_checkpoint(model, *, spec: ModuleType, config: dict, out: str | Path, trained_on: str = "",
                    metrics: dict | None = None) -> Path:
    """Write ``model.safetensors`` + ``config.json`` into ``out``, then check them as an upload would be."""
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS_FILENAME
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    save_file(state, str(weights), metadata={"architecture": spec.ARCHITECTURE})
    meta = {"architecture": spec.ARCHITECTURE, "config": config, "trained_on": trained_on, "metrics": metrics or {}}
    (out / CONFIG_FILENAME).write_text(json.dumps(meta, indent=2, default=_jsonable) + "\n")
    check_checkpoint(weights, meta, spec=spec)
    return weights


def load_state_dict(info: CheckpointInfo) -> dict:
    """The tensors of checked weights (safetensors: no pickle), on the CPU."""
    from safetensors.torch import load_file

    return load_file(str(info.weights_path), device="cpu")
