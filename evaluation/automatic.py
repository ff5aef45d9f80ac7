"""The automatic score of DESIGN section 5: metrics and their closeness to the reference set (style), the
discriminator's realness, their weighted mean, and the originality check -- stored with every part.

Worker only (the discriminator imports torch lazily). ``score_midi_paths`` reads; it writes one thing: when a
``challenge`` and ``exclude_submission_id`` (the entry being scored) are given, the entry's originality fingerprint is
registered at the end of a successful score, so that later entries are checked against it (``originality_register``
replaces a previous run's fingerprint; it can also be called on its own).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pretty_midi

from evaluation.formula import automatic_score, closeness, effective_std, style_score
from evaluation.metrics import METRIC_NAMES, MetricsError, compute_metrics
from evaluation.originality import originality_check, originality_register
from evaluation.realness import realness_of
from evaluation.reference import ReferenceError, reference_stats_for
from generation.engine.errors import EngineError
from generation.engine.midi_io import load_midi

NO_MUSIC = "There is no MIDI file to score."
UNKNOWN_METRICS = "The challenge's style metrics include unknown name(s) {names}; choose from {choices}."
NO_METRICS = "The challenge chooses no style metric; choose at least one of {choices}."
OUTPUT_PREFIX = "Output {n}: {message}"
BAD_WEIGHTS_CODE = "bad_weights"


class ScoringError(Exception):
    """Music (or a challenge setting) that cannot be scored; ``message`` says what to change."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class AutomaticScore:
    automatic: float  # 0-100
    style: float  # 0-1
    realness: float  # 0-1
    parts: dict = field(default_factory=dict)  # JSON-able: everything that explains the score
    flagged_copy: bool = False


def _chosen_metrics(challenge) -> list[str]:
    names = list(challenge.metrics) if challenge is not None and challenge.metrics is not None else list(METRIC_NAMES)
    unknown = [n for n in names if n not in METRIC_NAMES]
    if unknown:
        raise ScoringError("bad_metrics", UNKNOWN_METRICS.format(names=unknown, choices=", ".join(METRIC_NAMES)))
    if not names:
        raise ScoringError("bad_metrics", NO_METRICS.format(choices=", ".join(METRIC_NAMES)))
    return names


def _each_output(items: list, fn, errors: tuple[type[Exception], ...]) -> list:
    """fn over each piece; a failure becomes a ScoringError that names the output when there are several."""
    results = []
    for i, item in enumerate(items):
        try:
            results.append(fn(item))
        except errors as exc:
            message = exc.message if len(items) == 1 else OUTPUT_PREFIX.format(n=i + 1, message=exc.message)
            raise ScoringError(exc.code, message) from exc
    return results


def _load(paths: list[Path]) -> list[pretty_midi.PrettyMIDI]:
    return _each_output(paths, load_midi, (EngineError,))


def _measure(pms: list[pretty_midi.PrettyMIDI]) -> list[dict[str, float]]:
    return _each_output(pms, compute_metrics, (MetricsError,))


def score_midi_paths(paths: list[Path], *, challenge=None, exclude_submission_id: int | None = None) -> AutomaticScore:
    """Score one piece, or the mean over a checkpoint entry's outputs. Raises ScoringError with a message a person
    can act on (unreadable or empty music, a challenge setting that cannot work)."""
    started = time.perf_counter()
    if not paths:
        raise ScoringError("no_music", NO_MUSIC)
    metric_names = _chosen_metrics(challenge)
    weight_style = float(challenge.weight_style) if challenge is not None else 1.0
    weight_real = float(challenge.weight_realness) if challenge is not None else 1.0
    pms = _load([Path(p) for p in paths])
    rows = _measure(pms)
    try:
        reference = reference_stats_for(challenge)
    except ReferenceError as exc:
        raise ScoringError(exc.code, exc.message) from exc
    ref = reference["metrics"]
    outputs = []
    for pm, row in zip(pms, rows, strict=True):
        closenesses = {n: closeness(row[n], ref[n]["mean"], ref[n]["std"]) for n in METRIC_NAMES}
        outputs.append({"values": row, "closeness": closenesses, "style": style_score(closenesses, metric_names),
                        "realness": realness_of(pm)})
    n = len(outputs)
    style = sum(o["style"] for o in outputs) / n
    realness = sum(o["realness"] for o in outputs) / n
    try:
        automatic = automatic_score(style, realness, weight_style, weight_real)
    except ValueError as exc:
        raise ScoringError(BAD_WEIGHTS_CODE, str(exc)) from exc
    originality = originality_check(pms, challenge=challenge, exclude_submission_id=exclude_submission_id)
    if challenge is not None and exclude_submission_id is not None:
        originality_register(submission_id=exclude_submission_id, pms=pms)
    metrics = {
        name: {
            "value": sum(o["values"][name] for o in outputs) / n,
            "mean": ref[name]["mean"],
            "std": ref[name]["std"],
            "std_used": effective_std(ref[name]["mean"], ref[name]["std"]),
            "closeness": sum(o["closeness"][name] for o in outputs) / n,
            "in_style": name in metric_names,
        }
        for name in METRIC_NAMES
    }
    parts = {
        "metrics": metrics,
        "style": style,
        "realness": realness,
        "weights": {"style": weight_style, "realness": weight_real},
        "automatic": automatic,
        "reference": {"source": reference.get("source", ""), "n_pieces": reference.get("n_pieces", 0)},
        "originality": originality,
        "n_outputs": n,
        "seconds": round(time.perf_counter() - started, 4),
    }
    if n > 1:
        parts["outputs"] = [{"style": o["style"], "realness": o["realness"],
                             "automatic": automatic_score(o["style"], o["realness"], weight_style, weight_real)}
                            for o in outputs]  # fmt: skip
    return AutomaticScore(automatic=automatic, style=style, realness=realness, parts=parts,
                          flagged_copy=originality["flagged"])
