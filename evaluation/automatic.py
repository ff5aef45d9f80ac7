"""The automatic score of docs/design.md section 5: minimum content, metrics and their closeness to the reference set
(style, lowered by repetition), the realness model of the challenge's style, their weighted mean, and the copy
penalty from the originality check -- returned with every part. Everything is read from the music as it sounds.

Worker only (the discriminator imports torch lazily). ``score_midi_paths`` and ``score_pieces`` only read: the scoring
service (evaluation.services.scoring) stores the score and registers the entry's originality fingerprint as steps of
its own.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

import pretty_midi

from chartbusters.metric_names import scoring_choice_errors
from evaluation.content import content_check
from evaluation.formula import automatic_score, closeness, copy_penalized, effective_std, style_score
from evaluation.metrics import METRIC_NAMES, MetricsError, compute_metrics
from evaluation.originality import originality_check
from evaluation.realness import realness_model_for, realness_windows
from evaluation.reference import ReferenceError, reference_stats_for
from evaluation.scorer import scorer_parts, scorer_version
from generation.engine.errors import EngineError
from generation.engine.midi_io import load_midi
from generation.engine.representation import sounded_rolls

NO_MUSIC = "There is no MIDI file to score."
OUTPUT_PREFIX = "Output {n}: {message}"
BAD_CHOICE_CODES = {"metrics": "bad_metrics", "weight_style": "bad_weights", "weight_realness": "bad_weights"}
AUDIBLE_VELOCITY = 10  # notes struck softer than this are not heard: the scorer reads them as silence
LOW_WINDOW = 0.5  # a passage whose realness is below this is named on the entry page (the style's own: ~0.9)
LOW_WINDOWS_NAMED = 2
Z_P10 = 1.2816  # the normal 10th/90th percentile in stds: ranges of reference figures stored before percentiles were


class ScoringError(Exception):
    """Music (or a challenge setting) that cannot be scored; ``message`` says what to change."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class AutomaticScore:
    automatic: float  # 0-100, after the copy penalty
    style: float  # 0-1
    realness: float  # 0-1
    parts: dict = field(default_factory=dict)  # JSON-able: everything that explains the score
    flagged_copy: bool = False
    copy_penalty: float = 1.0  # the factor applied: 1 - the copied share of the notes when flagged
    automatic_unpenalized: float = 0.0  # 0-100, before the copy penalty
    scorer_version: str = ""  # evaluation.scorer: what computed it (the parts are in parts["scorer"])


def _scoring_choice(challenge) -> tuple[list[str], tuple[float, float]]:
    """The challenge's style metrics (all when it names none) and (style, realness) weights, after the one rule
    challenge validation uses too (chartbusters.metric_names.scoring_choice_errors): a realness-only challenge (no
    metric, style weight 0) scores."""
    if challenge is None:
        return list(METRIC_NAMES), (1.0, 1.0)
    names = list(METRIC_NAMES) if challenge.metrics is None else challenge.metrics
    errors = scoring_choice_errors(metrics=names, weight_style=challenge.weight_style,
                                   weight_realness=challenge.weight_realness)
    if errors:
        raise ScoringError(BAD_CHOICE_CODES[next(iter(errors))], " ".join(m for ms in errors.values() for m in ms))
    return list(names), (float(challenge.weight_style), float(challenge.weight_realness))


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


def load_pieces(paths: list[Path]) -> list[pretty_midi.PrettyMIDI]:
    """Parse each file (the engine's limits apply); a refusal is a ScoringError naming the output."""
    if not paths:
        raise ScoringError("no_music", NO_MUSIC)
    return _each_output([Path(p) for p in paths], load_midi, (EngineError,))


def heard(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """The piece as it is heard: notes with velocity below AUDIBLE_VELOCITY removed (the one place the scorer drops
    them; every measure reads the result). The piece itself is left as it is."""
    if all(n.velocity >= AUDIBLE_VELOCITY for inst in pm.instruments for n in inst.notes):
        return pm
    out = copy.copy(pm)
    out.instruments = []
    for inst in pm.instruments:
        kept = copy.copy(inst)
        kept.notes = [n for n in inst.notes if n.velocity >= AUDIBLE_VELOCITY]
        out.instruments.append(kept)
    return out


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def realness_passages(probs, spans: list[tuple[float, float]], duration: float) -> dict:
    """What the entry page says about realness: every window's figure and span, and the (at most LOW_WINDOWS_NAMED)
    lowest windows below LOW_WINDOW named in a sentence an entrant can act on."""
    windows = [{"start": round(a, 2), "end": round(b, 2), "realness": round(float(p), 4)}
               for p, (a, b) in zip(probs, spans, strict=True)]  # fmt: skip
    low = sorted((w for w in windows if w["realness"] < LOW_WINDOW), key=lambda w: w["realness"])[:LOW_WINDOWS_NAMED]
    low.sort(key=lambda w: w["start"])
    if not low:
        text = ("Every passage sounds like the style to the realness model (each 8-s window at least "
                f"{LOW_WINDOW:.1f})." if windows else "")
    else:
        where = " and ".join(f"{_clock(w['start'])}-{_clock(w['end'])} (realness {w['realness']:.2f})" for w in low)
        rest = [w["realness"] for w in windows if w not in low]
        tail = f"; the rest averages {sum(rest) / len(rest):.2f}" if rest else ""
        text = (f"The passages least like the style are {where}{tail}. Listen to them first: their harmony, voice "
                "leading or rhythm is the least like the reference pieces (marked on the piano roll).")
    return {"windows": windows, "lowest": low, "text": text, "duration": round(float(duration), 3)}


def _range(ref_metric: dict) -> tuple[float, float, str]:
    """The reference set's 10th-90th percentile of a metric (from mean and std when older figures lack them)."""
    if "p10" in ref_metric and "p90" in ref_metric:
        return float(ref_metric["p10"]), float(ref_metric["p90"]), "percentiles"
    mean, std = float(ref_metric["mean"]), float(ref_metric["std"])
    return mean - Z_P10 * std, mean + Z_P10 * std, "normal approximation"


def _direction(value: float, low: float, high: float) -> str:
    return "below" if value < low else ("above" if value > high else "within")


def _measure(pms: list[pretty_midi.PrettyMIDI]) -> list[dict[str, float]]:
    return _each_output(pms, compute_metrics, (MetricsError,))


def score_midi_paths(paths: list[Path], *, challenge=None, exclude_submission_id: int | None = None) -> AutomaticScore:
    """Score one piece, or the mean over a checkpoint entry's outputs. Raises ScoringError with a message a person
    can act on (unreadable or empty music, a challenge setting that cannot work). Reads only."""
    return score_pieces(load_pieces(paths), challenge=challenge, exclude_submission_id=exclude_submission_id)


def _score_one(pm: pretty_midi.PrettyMIDI, row: dict, ref: dict, metric_names: list[str], model,
               weights: tuple[float, float]) -> dict:
    rolls = sounded_rolls(pm)  # read once: the content check and realness both hear the piece on this grid
    content = content_check(pm, rolls)
    closenesses = {n: closeness(row[n], ref[n]["mean"], ref[n]["std"]) for n in METRIC_NAMES}
    factor = content.repetition_factor  # a loop is neither the style's music nor real beyond its first pass
    style = style_score(closenesses, metric_names) * factor
    probs, spans = realness_windows(pm, model, rolls)
    model_realness = float(probs.mean())
    realness = model_realness * factor
    unpenalized = automatic_score(style, realness, *weights) if content.ok else 0.0
    return {"values": row, "closeness": closenesses, "style": style, "realness": realness,
            "model_realness": model_realness, "content": content.to_dict(), "automatic_unpenalized": unpenalized,
            "passages": realness_passages(probs, spans, pm.get_end_time())}


def score_pieces(pms: list[pretty_midi.PrettyMIDI], *, challenge=None,
                 exclude_submission_id: int | None = None) -> AutomaticScore:
    """The automatic score of parsed pieces (a checkpoint entry: the mean over its outputs). Reads only."""
    started = time.perf_counter()
    if not pms:
        raise ScoringError("no_music", NO_MUSIC)
    pms = [heard(pm) for pm in pms]
    metric_names, weights = _scoring_choice(challenge)
    rows = _measure(pms)
    try:
        reference = reference_stats_for(challenge)
    except ReferenceError as exc:
        raise ScoringError(exc.code, exc.message) from exc
    ref = reference["metrics"]
    versions = scorer_parts(challenge)  # read before the model is chosen: a model landing meanwhile rescores
    model, model_info = realness_model_for(challenge)
    outputs = [_score_one(pm, row, ref, metric_names, model, weights) for pm, row in zip(pms, rows, strict=True)]
    n = len(outputs)
    style = sum(o["style"] for o in outputs) / n
    realness = sum(o["realness"] for o in outputs) / n
    unpenalized = sum(o["automatic_unpenalized"] for o in outputs) / n
    originality = originality_check(pms, challenge=challenge, exclude_submission_id=exclude_submission_id)
    penalty = float(originality.get("copy_penalty", 1.0))
    automatic = copy_penalized(unpenalized, penalty)
    metrics = {}
    for name in METRIC_NAMES:
        value = sum(o["values"][name] for o in outputs) / n
        low, high, how = _range(ref[name])
        metrics[name] = {
            "value": value,
            "mean": ref[name]["mean"],
            "std": ref[name]["std"],
            "std_used": effective_std(ref[name]["mean"], ref[name]["std"]),
            "closeness": sum(o["closeness"][name] for o in outputs) / n,
            "in_style": name in metric_names,
            "p10": low,
            "p90": high,
            "range_from": how,
            "direction": _direction(value, low, high),  # below / within / above the reference's 10th-90th pct
        }
    refused = [o["content"]["reason"] for o in outputs if not o["content"]["ok"]]
    parts = {
        "metrics": metrics,
        "style": style,
        "realness": realness,
        "realness_model": {**model_info, "realness": sum(o["model_realness"] for o in outputs) / n},
        "realness_passages": outputs[0]["passages"],
        "content": outputs[0]["content"] if n == 1 else {"ok": not refused, "reason": "; ".join(refused)},
        "weights": {"style": weights[0], "realness": weights[1]},
        "automatic_unpenalized": unpenalized,
        "copy_penalty": penalty,
        "automatic": automatic,
        "reference": {"source": reference.get("source", ""), "n_pieces": reference.get("n_pieces", 0)},
        "originality": originality,
        "n_outputs": n,
        "seconds": round(time.perf_counter() - started, 4),
        "scorer": versions,
    }
    if n > 1:
        parts["outputs"] = [{"style": o["style"], "realness": o["realness"], "content": o["content"],
                             "automatic": o["automatic_unpenalized"], "realness_passages": o["passages"],
                             "metrics": {name: {"value": o["values"][name], "closeness": o["closeness"][name]}
                                         for name in METRIC_NAMES}}
                            for o in outputs]  # fmt: skip
    return AutomaticScore(automatic=automatic, style=style, realness=realness, parts=parts,
                          flagged_copy=bool(originality["flagged"]), copy_penalty=penalty,
                          automatic_unpenalized=unpenalized, scorer_version=scorer_version(versions))
