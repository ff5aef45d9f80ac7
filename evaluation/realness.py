"""Realness: the discriminator's probability that a piece is real music of the challenge's style (docs/design.md §5).

Worker only: torch is imported inside the functions. Which model: a challenge with its own reference set uses its own
model (``evaluation.RealnessModel``, trained by a worker when the set changes) once it is ready for the current files;
until then, and for challenges without a reference set, the shipped Bach model (generation/checkpoints/discriminator/),
and the score records which model gave the figure and why. Models are loaded once per process. Pieces are read as
they sound (representation.sounded_rolls), so notation does not change the figure.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from pathlib import Path

import numpy as np
import pretty_midi

from generation.engine.representation import SOUNDED_STEPS_PER_SECOND, sounded_rolls

TORCH_THREADS = 1  # a scoring worker scores one piece at a time; one thread leaves the other core to the next task
DEFAULT_SOURCE = "default: Bach chorales (shipped)"
MAX_CHALLENGE_MODELS = 8  # challenge models kept in a worker's memory (each ~0.1 MB of weights)
_LOCK = threading.Lock()
_CHALLENGE_MODELS: dict[tuple[int, str], object] = {}


def _limit_threads() -> None:
    import torch

    if torch.get_num_threads() > TORCH_THREADS:
        torch.set_num_threads(TORCH_THREADS)


@functools.lru_cache(maxsize=1)
def load_model():
    """The default discriminator, loaded once per process."""
    _limit_threads()
    from generation.engine.loading import load_default_model

    model, _meta = load_default_model("discriminator")
    return model


def _load_challenge_model(row) -> object:
    """A ready RealnessModel's weights, checked and loaded like any checkpoint (copied from storage first)."""
    import json

    from generation.engine.checkpoint import CONFIG_FILENAME, WEIGHTS_FILENAME
    from generation.engine.loading import load_checkpoint

    key = (row.pk, row.files_digest)
    with _LOCK:
        if key not in _CHALLENGE_MODELS:
            _limit_threads()
            with tempfile.TemporaryDirectory(prefix="chartbusters-realness-") as tmp:
                with row.weights.open("rb") as src:
                    (Path(tmp) / WEIGHTS_FILENAME).write_bytes(src.read())
                (Path(tmp) / CONFIG_FILENAME).write_text(json.dumps(row.config))
                model, _meta = load_checkpoint(tmp, architecture="discriminator")
            if len(_CHALLENGE_MODELS) >= MAX_CHALLENGE_MODELS:
                _CHALLENGE_MODELS.pop(next(iter(_CHALLENGE_MODELS)))
            _CHALLENGE_MODELS[key] = model
        return _CHALLENGE_MODELS[key]


def realness_model_for(challenge=None) -> tuple[object, dict]:
    """(model, info) for a challenge: info says which model (``source``), its held-out AUCs and any warning."""
    if challenge is None or not challenge.reference_files.exists():
        return load_model(), {"source": DEFAULT_SOURCE, "warning": ""}
    from evaluation.models import REALNESS_NOT_READY_WARNING, RealnessModel
    from evaluation.reference import reference_files_digest

    row = RealnessModel.objects.filter(challenge=challenge).first()
    digest = reference_files_digest(challenge.reference_files.all())
    if row is None or row.status != RealnessModel.Status.READY or row.files_digest != digest:
        status = "not trained yet" if row is None else (
            "out of date (the reference set changed)" if row.status == RealnessModel.Status.READY
            else row.get_status_display().lower())  # fmt: skip
        return load_model(), {"source": DEFAULT_SOURCE, "warning": REALNESS_NOT_READY_WARNING.format(status=status)}
    info = {"source": f"challenge {challenge.slug}: trained on its {row.metrics.get('n_pieces', '?')} reference "
                      f"pieces", "warning": "", "held_out_auc": row.metrics.get("auc", {})}  # fmt: skip
    return _load_challenge_model(row), info


def realness_of(pm: pretty_midi.PrettyMIDI, model=None) -> float:
    return float(realness_windows(pm, model)[0].mean())


Rolls = tuple[np.ndarray, np.ndarray]


def realness_windows(pm: pretty_midi.PrettyMIDI, model=None,
                     rolls: Rolls | None = None) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Each window's realness and its (start, end) in seconds; the piece's realness is their mean. ``rolls``: the
    piece's sounded_rolls when the caller has them already."""
    from generation.engine.realness import window_realness

    model = model or load_model()
    tracks, onsets = rolls if rolls is not None else sounded_rolls(pm)
    probs, starts = window_realness(model, tracks, onsets)
    n, steps = tracks.shape[1], model.config.window_steps
    spans = [(s / SOUNDED_STEPS_PER_SECOND, min(n, s + steps) / SOUNDED_STEPS_PER_SECOND) for s in starts]
    return probs, spans


def model_identity(model=None) -> str:
    """A stable name for a realness model's weights (sha256 of its state, first 16 hex digits): a score can record
    which model gave its realness (the default model unless one is passed)."""
    import hashlib

    model = model or load_model()
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]
