"""The scorer version of docs/design.md section 5: which metrics, realness model, originality index and reference set a
score was computed with, so that a board never mixes versions (Judge III item 8).

``scorer_parts(challenge)`` names the parts the current scorer would use for the challenge -- read from files and
rows, without loading a model (the web process calls it: the admin, publication, the leaderboard):

- ``metrics``: the metric and formula version below (raise ``METRICS_VERSION`` when a metric or the formula changes);
- ``realness``: the first 16 hex digits of the sha256 of the realness model's weights file (the challenge's own
  model when it is ready for the current reference set, else the shipped default); hashed once per file and process;
- ``originality``: the index, token and check format and the commonplace table's sha256;
- ``reference``: the content digest of the challenge's reference files ("bach" without them).

``scorer_version(parts)`` is the first 16 hex digits of the sha256 of those parts: what ``Score.scorer_version``
stores (the parts themselves go in ``Score.parts["scorer"]``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from evaluation.metrics import METRIC_NAMES

METRICS_VERSION = 3  # raise when a metric's computation, the closeness formula or the automatic formula changes
#                     (2: notes read at their written value, metrics.written_ends; 3: outer_voice_step_rate added)
HASH_CHARS = 16
_CHUNK = 1 << 20


def _sha256_of(readable) -> str:
    h = hashlib.sha256()
    for block in iter(lambda: readable.read(_CHUNK), b""):
        h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=32)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as f:
        return _sha256_of(f)


def file_sha256(path: Path) -> str:
    """sha256 of a local file, computed once per process for each (path, modification time, size)."""
    stat = Path(path).stat()
    return _file_sha256(str(path), stat.st_mtime_ns, stat.st_size)


def default_realness_hash() -> str:
    from generation.engine.loading import default_checkpoint_dir

    path = default_checkpoint_dir("discriminator") / "model.safetensors"
    return file_sha256(path)[:HASH_CHARS] if path.exists() else "missing"


def realness_model_hash(row) -> str:
    """The weights hash of a challenge's RealnessModel row: stored when it was trained, else computed once and
    stored."""
    if row.weights_sha256:
        return row.weights_sha256[:HASH_CHARS]
    with row.weights.open("rb") as src:
        digest = _sha256_of(src)
    type(row).objects.filter(pk=row.pk).update(weights_sha256=digest)
    row.weights_sha256 = digest
    return digest[:HASH_CHARS]


def ready_realness_model(challenge):
    """The challenge's own RealnessModel row when it is ready for the current reference files, else None (the
    default model applies)."""
    from evaluation.models import RealnessModel
    from evaluation.reference import reference_files_digest

    if challenge is None:
        return None
    files = list(challenge.reference_files.all())
    if not files:
        return None
    row = RealnessModel.objects.filter(challenge=challenge, status=RealnessModel.Status.READY).first()
    if row is None or not row.weights or row.files_digest != reference_files_digest(files):
        return None
    return row


def originality_version() -> str:
    from evaluation.originality import CHECK_VERSION, COMMON_PATH, INDEX_VERSION, NGRAM, TOKEN_VERSION

    common = file_sha256(COMMON_PATH)[:8] if COMMON_PATH.exists() else "none"
    return f"index {INDEX_VERSION}, tokens {TOKEN_VERSION}, n-gram {NGRAM}, check {CHECK_VERSION}, common {common}"


def scorer_parts(challenge=None) -> dict:
    from evaluation.reference import reference_files_digest

    row = ready_realness_model(challenge)
    files = list(challenge.reference_files.all()) if challenge is not None else []
    return {
        "metrics": f"{METRICS_VERSION}: " + hashlib.sha256(",".join(METRIC_NAMES).encode()).hexdigest()[:8],
        "realness": ("challenge " if row is not None else "default ")
        + (realness_model_hash(row) if row is not None else default_realness_hash()),
        "originality": originality_version(),
        "reference": reference_files_digest(files)[:HASH_CHARS] if files else "bach",
    }


def scorer_version(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:HASH_CHARS]


def current_scorer_version(challenge=None) -> str:
    return scorer_version(scorer_parts(challenge))
