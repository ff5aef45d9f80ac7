"""The arithmetic of human judging (docs/judging.md), on plain numbers: no Django.

- ``assign``: k judges per entry, judges' loads within one of each other, no judge on an entry of someone they are
  connected to. First a greedy pass (the most constrained entries first, to the least-loaded free judges, random
  among equals: milliseconds for thousands of entries); when its answer breaks a rule, or when some pairs are to be
  avoided (the final round), a min-cost flow (networkx's network simplex) with random costs, so that the draw is
  random but the rules always hold, and it says so when they cannot (too few judges free of conflicts).
- ``standardize``: leniency adjustment. Each judge's scores (evaluation.formula.mark_score, 0-100) are turned into
  z-scores with the judge's own mean and spread, then put back on the scale of all the challenge's scores:
  ``adjusted = clip(M + S * (x - m_j) / s_j, 0, 100)``; a judge with fewer than MIN_FOR_ADJUSTMENT scores keeps raw
  scores, one whose scores all agree (s_j = 0) gets the mean M.
- ``agreement``: spread per entry, Krippendorff's alpha (interval) for the challenge, judges whose scores lie
  OUTLIER_POINTS or more from the median score of the same entries on average (the median, so that one harsh judge
  does not make the others look lenient).
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

MIN_FOR_ADJUSTMENT = 2
OUTLIER_POINTS = 15.0  # 0.75 of a rubric mark on the 0-100 scale, on average against the entries' medians
_AVOID_COST = 1_000_000  # final round: a judge who already reviewed the entry, only when no one else can
TOO_FEW_JUDGES = "Each entry needs {k} judges but the challenge has {m}; add judges or lower the judges per entry."
NOT_ENOUGH_FREE = (
    "Entry #{entry} needs {k} judges but only {free} of the challenge's judges are free of conflicts with its "
    "entrant; add judges, remove a conflict or lower the judges per entry."
)
NO_BALANCED = (
    "No assignment gives every entry {k} judges with loads within one ({low}-{high} entries each) under the "
    "conflicts marked; add judges or remove a conflict."
)


class AssignmentImpossibleError(ValueError):
    """The rules cannot all hold: the message says what to change."""


def assign(
    *,
    entries: list[Hashable],
    judges: list[Hashable],
    k: int,
    forbidden: set[tuple[Hashable, Hashable]] = frozenset(),
    avoid: set[tuple[Hashable, Hashable]] = frozenset(),
    labels: dict | None = None,
    seed: int = 0,
    fast: bool = True,
) -> dict[Hashable, list[Hashable]]:
    """{entry: [k judges]}: every entry k distinct judges, no (entry, judge) in ``forbidden``, each judge's load
    floor(n k / m) or ceil(n k / m); pairs in ``avoid`` only when nothing else works. ``fast`` False: the flow
    only. Raises AssignmentImpossibleError."""
    import networkx as nx

    n, m = len(entries), len(judges)
    if n == 0:
        return {}
    if k > m:
        raise AssignmentImpossibleError(TOO_FEW_JUDGES.format(k=k, m=m))
    for entry in entries:
        free = sum((entry, judge) not in forbidden for judge in judges)
        if free < k:
            label = (labels or {}).get(entry, entry)
            raise AssignmentImpossibleError(NOT_ENOUGH_FREE.format(entry=label, k=k, free=free))
    low, high = (n * k) // m, -(-(n * k) // m)
    rng = random.Random(seed)
    if fast and not avoid:
        plan = _greedy(entries=entries, judges=judges, k=k, forbidden=forbidden, high=high, rng=rng)
        if plan is not None:
            return plan
    graph = nx.DiGraph()
    graph.add_node("source", demand=-n * k)
    graph.add_node("sink", demand=n * k)
    for i, entry in enumerate(entries):
        graph.add_edge("source", ("e", i), capacity=k, weight=0)
        for j, judge in enumerate(judges):
            if (entry, judge) in forbidden:
                continue
            cost = rng.randrange(1000) + (_AVOID_COST if (entry, judge) in avoid else 0)
            graph.add_edge(("e", i), ("j", j), capacity=1, weight=cost)
    for j in range(m):
        # A lower bound of ``low`` on judge -> sink: ``low`` units are sent up front (node demands), the rest of the
        # edge carries at most high - low.
        graph.add_node(("j", j), demand=low)
        graph.nodes["sink"]["demand"] -= low
        graph.add_edge(("j", j), "sink", capacity=high - low, weight=0)
    try:
        _, flow = nx.network_simplex(graph)
    except (nx.NetworkXUnfeasible, nx.NetworkXError) as exc:
        raise AssignmentImpossibleError(NO_BALANCED.format(k=k, low=low, high=high)) from exc
    result: dict[Hashable, list[Hashable]] = {}
    for i, entry in enumerate(entries):
        result[entry] = [judges[j] for j in range(m) if flow[("e", i)].get(("j", j), 0) == 1]
    return result


def _greedy(*, entries: list, judges: list, k: int, forbidden, high: int, rng: random.Random) -> dict | None:
    """The fast path: the most constrained entries first, each to its k least-loaded free judges (random among
    equals, none above ``high``). None when the result breaks a rule; the flow then finds the assignment."""
    loads = dict.fromkeys(judges, 0)
    free = {entry: [j for j in judges if (entry, j) not in forbidden] for entry in entries}
    order = list(entries)
    rng.shuffle(order)
    order.sort(key=lambda entry: len(free[entry]))
    plan: dict = {}
    for entry in order:
        candidates = [j for j in free[entry] if loads[j] < high]
        if len(candidates) < k:
            return None
        rng.shuffle(candidates)
        candidates.sort(key=loads.__getitem__)
        plan[entry] = candidates[:k]
        for judge in plan[entry]:
            loads[judge] += 1
    if max(loads.values()) - min(loads.values()) > 1:
        return None
    return {entry: plan[entry] for entry in entries}


def standardize(reviews: Iterable[tuple[Hashable, Hashable, float]]) -> dict[tuple[Hashable, Hashable], float]:
    """``reviews``: (judge, entry, raw score 0-100) -> {(judge, entry): leniency-adjusted score}."""
    reviews = list(reviews)
    if not reviews:
        return {}
    everything = [x for _, _, x in reviews]
    grand_mean, grand_std = _mean(everything), _std(everything)
    by_judge: dict[Hashable, list[float]] = defaultdict(list)
    for judge, _, x in reviews:
        by_judge[judge].append(x)
    adjusted = {}
    for judge, entry, x in reviews:
        own = by_judge[judge]
        if len(own) < MIN_FOR_ADJUSTMENT:
            value = x
        else:
            spread = _std(own)
            value = grand_mean if spread == 0 else grand_mean + grand_std * (x - _mean(own)) / spread
        adjusted[(judge, entry)] = min(100.0, max(0.0, value))
    return adjusted


@dataclass(frozen=True)
class EntrySpread:
    entry: Hashable
    n: int
    mean: float
    low: float
    high: float
    std: float


@dataclass(frozen=True)
class JudgeBias:
    judge: Hashable
    n: int  # entries this judge shares with other judges
    bias: float  # mean of (this judge's score - the median score of the entry) on those entries
    outlier: bool


@dataclass(frozen=True)
class Agreement:
    alpha: float | None  # Krippendorff's alpha (interval); None when no entry has two scores or all agree trivially
    entries: list[EntrySpread]
    judges: list[JudgeBias]


def agreement(reviews: Iterable[tuple[Hashable, Hashable, float]]) -> Agreement:
    """Agreement between judges on (judge, entry, score) triples."""
    reviews = list(reviews)
    by_entry: dict[Hashable, dict[Hashable, float]] = defaultdict(dict)
    for judge, entry, x in reviews:
        by_entry[entry][judge] = x
    spreads = [
        EntrySpread(entry=e, n=len(s), mean=_mean(list(s.values())), low=min(s.values()), high=max(s.values()),
                    std=_std(list(s.values())))
        for e, s in by_entry.items()
    ]
    diffs: dict[Hashable, list[float]] = defaultdict(list)
    for scores in by_entry.values():
        if len(scores) < 2:
            continue
        middle = statistics.median(scores.values())
        for judge, x in scores.items():
            diffs[judge].append(x - middle)
    biases = [
        JudgeBias(judge=j, n=len(d), bias=_mean(d), outlier=len(d) >= 2 and abs(_mean(d)) >= OUTLIER_POINTS)
        for j, d in diffs.items()
    ]
    return Agreement(alpha=krippendorff_alpha(reviews), entries=spreads, judges=biases)


def krippendorff_alpha(reviews: list[tuple[Hashable, Hashable, float]]) -> float | None:
    """Krippendorff's alpha, interval level, with the ``krippendorff`` package; None when it is undefined (no entry
    with two scores, or no variation at all)."""
    import krippendorff
    import numpy as np

    judges = sorted({j for j, _, _ in reviews}, key=str)
    entries = sorted({e for _, e, _ in reviews}, key=str)
    if len(judges) < 2 or not entries:
        return None
    data = np.full((len(judges), len(entries)), np.nan)
    ji, ei = {j: i for i, j in enumerate(judges)}, {e: i for i, e in enumerate(entries)}
    for judge, entry, x in reviews:
        data[ji[judge], ei[entry]] = x
    pairable = (np.sum(~np.isnan(data), axis=0) >= 2).sum()
    values = data[~np.isnan(data)]
    if pairable == 0 or np.unique(values).size < 2:
        return None
    value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))
    return value if math.isfinite(value) else None


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _std(values: list[float]) -> float:
    mean = _mean(values)
    return math.sqrt(sum((x - mean) ** 2 for x in values) / len(values))
