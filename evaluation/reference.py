"""Reference statistics: each metric's mean, standard deviation and 10th/90th percentiles over a reference set
(docs/design.md section 5).

The default reference is the Bach train split; its figures ship in ``evaluation/data/bach_reference.json`` (rebuilt by
``build_bach_reference()``; scoring never parses music21). A challenge with its own reference files gets its figures
computed on first use and stored in ``ReferenceStats``, keyed by a digest of the files, so changing them recomputes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pretty_midi
from django.db import transaction

from evaluation.metrics import METRIC_NAMES, MetricsError, compute_metrics
from evaluation.scorer import METRICS_VERSION
from generation.engine.errors import EngineError
from generation.engine.midi_io import load_midi

logger = logging.getLogger(__name__)

BACH_REFERENCE_PATH = Path(__file__).resolve().parent / "data" / "bach_reference.json"
BACH_SOURCE = "Bach chorales, train split"
NO_USABLE_REFERENCE = (
    "None of the challenge's {n} reference files could be measured (all empty, drums only or unreadable); "
    "upload at least one reference file with pitched notes."
)


class ReferenceError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def compute_reference_stats(pieces: Iterable[pretty_midi.PrettyMIDI]) -> dict:
    """``{"metrics": {name: {"mean", "std", "p10", "p90"}}, "n_pieces", "n_refused"}`` over the pieces that can be
    measured (the 10th-90th percentiles are the range the entry page shows beside each metric)."""
    rows, refused = [], 0
    for pm in pieces:
        try:
            rows.append(compute_metrics(pm))
        except MetricsError:
            refused += 1
    if not rows:
        return {"metrics": {}, "n_pieces": 0, "n_refused": refused}
    stats = {}
    for name in METRIC_NAMES:
        values = np.array([row[name] for row in rows], dtype=np.float64)
        stats[name] = {"mean": float(values.mean()), "std": float(values.std()),
                       "p10": float(np.percentile(values, 10)), "p90": float(np.percentile(values, 90))}
    return {"metrics": stats, "n_pieces": len(rows), "n_refused": refused}


def build_bach_reference(path: Path = BACH_REFERENCE_PATH) -> dict:
    """Measure the Bach train split (loads the chorale cache, parsing music21 once if needed) and write the JSON."""
    from generation.engine.dataset import DATA_VERSION, load_chorales, pieces_split

    train = pieces_split(load_chorales(), "train")
    result = compute_reference_stats(piece.to_midi() for piece in train)
    result.update(source=BACH_SOURCE, data_version=DATA_VERSION)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    load_bach_reference.cache_clear()
    return result


@functools.lru_cache(maxsize=1)
def load_bach_reference() -> dict:
    return json.loads(BACH_REFERENCE_PATH.read_text())


# --------------------------------------------------------------------------------------------- per challenge
_CONTENT_DIGESTS: dict[tuple[int, str], str] = {}


def reference_file_sha256(f) -> str:
    """sha256 of a stored file's bytes, read once per process (a stored name is never rewritten in place)."""
    key = (f.pk, f.midi.name)
    if key not in _CONTENT_DIGESTS:
        h = hashlib.sha256()
        with f.midi.open("rb") as src:
            for block in iter(lambda: src.read(1 << 20), b""):
                h.update(block)
        _CONTENT_DIGESTS[key] = h.hexdigest()
    return _CONTENT_DIGESTS[key]


def reference_files_digest(files) -> str:
    """sha256 over the sorted content hashes of the files: the set as it sounds. Saving the form again, renaming a
    file or uploading the same bytes again changes nothing; a new, removed or different file changes it."""
    h = hashlib.sha256()
    for digest in sorted(reference_file_sha256(f) for f in files):
        h.update(f"{digest}\n".encode())
    return h.hexdigest()


def _read_reference(files) -> Iterable[pretty_midi.PrettyMIDI]:
    for f in files:
        try:
            with f.midi.open("rb") as src:
                yield load_midi(src.read())
        except (EngineError, OSError) as exc:
            logger.warning("Reference file %s of challenge %s refused: %s", f.name, f.challenge_id, exc)


@transaction.atomic
def reference_stats_compute(*, challenge) -> dict:
    """Measure the challenge's reference files and store the figures (replacing stale ones); the realness-model
    task runs it whenever the set changes."""
    from evaluation.models import ReferenceStats

    files = list(challenge.reference_files.all())
    result = compute_reference_stats(_read_reference(files))
    if not result["n_pieces"]:
        raise ReferenceError("no_usable_reference", NO_USABLE_REFERENCE.format(n=len(files)))
    ReferenceStats.objects.update_or_create(
        challenge=challenge,
        defaults={"files_digest": reference_files_digest(files), "stats": result["metrics"],
                  "n_files": result["n_pieces"], "n_refused": len(files) - result["n_pieces"],
                  "metrics_version": METRICS_VERSION},
    )
    return {"metrics": result["metrics"], "n_pieces": result["n_pieces"], "source": f"challenge {challenge.slug}"}


def reference_stats_fresh(stored, files) -> bool:
    """Stored figures still hold: the same reference files, measured by the metrics as they are now (a new metric or
    a changed one -- ``METRICS_VERSION`` -- makes every stored set stale)."""
    return (stored is not None and stored.metrics_version == METRICS_VERSION
            and stored.files_digest == reference_files_digest(files))


def reference_stats_refresh(*, challenge) -> bool:
    """Store the challenge's figures again when they are stale (a rescoring run calls it once before its entries,
    so that they do not each measure the set). Returns whether it measured."""
    from evaluation.models import ReferenceStats

    files = list(challenge.reference_files.all())
    if not files or reference_stats_fresh(ReferenceStats.objects.filter(challenge=challenge).first(), files):
        return False
    reference_stats_compute(challenge=challenge)
    return True


def reference_stats_for(challenge=None) -> dict:
    """The figures the style score compares with: ``{"metrics": {...}, "n_pieces", "source"}``."""
    if challenge is None:
        return load_bach_reference()
    from evaluation.models import ReferenceStats

    files = list(challenge.reference_files.all())
    if not files:
        return load_bach_reference()
    stored = ReferenceStats.objects.filter(challenge=challenge).first()
    if reference_stats_fresh(stored, files):
        return {"metrics": stored.stats, "n_pieces": stored.n_files, "source": f"challenge {challenge.slug}"}
    # Not stored yet (the realness-model task stores it): measured here and not written, so scoring only reads.
    result = compute_reference_stats(_read_reference(files))
    if not result["n_pieces"]:
        raise ReferenceError("no_usable_reference", NO_USABLE_REFERENCE.format(n=len(files)))
    return {"metrics": result["metrics"], "n_pieces": result["n_pieces"], "source": f"challenge {challenge.slug}"}
