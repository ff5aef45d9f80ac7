"""Ranking with honest uncertainty (issue 26), on plain numbers: numpy only, no Django.

- ``davidson_fit``: Bradley-Terry ratings with ties (Davidson 1970) from pairwise votes. Entry i has strength
  pi_i = exp(theta_i); in one comparison of i and j, with D = pi_i + pi_j + nu * sqrt(pi_i pi_j),
  P(i preferred) = pi_i / D, P(about the same) = nu sqrt(pi_i pi_j) / D. Fitted by Newton's method on theta (the
  Hessian is a weighted graph Laplacian) with a weak normal prior theta ~ N(0, 1 / PRIOR_PRECISION), which keeps an
  entry that won every comparison finite and fixes the scale's origin; nu by its fixed point (ties observed = ties
  expected). 95 % intervals: theta_i +- 1.96 sqrt of the inverse observed information (Hessian plus prior), of the
  strengths centred on their mean (above DENSE_LIMIT entries: Newton steps by conjugate gradients and the
  diagonal of the information, so a vote in a challenge of thousands of entries refits in well under a second).
- ``pair_pick``: the next pair for a listener, where a vote tells most: entries with few comparisons, and opponents
  whose ratings are close (p (1 - p) large), pairs compared often counting less.
- ``bootstrap_interval``: a percentile bootstrap of a mean (judges' scores of one entry: over judges and reviews).
- ``shared_rank_label``: "3" or "3-5".
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

PRIOR_PRECISION = 0.1  # theta ~ N(0, sd 3.2): a mild pull to the average; 10 votes outweigh it
Z95 = 1.959963984540054
MAX_ITERATIONS = 100
TOLERANCE = 1e-9
NU_FLOOR = 1e-4  # no tie observed: nu tends to 0 (plain Bradley-Terry)
BOOTSTRAP_SAMPLES = 2000
DENSE_LIMIT = 600  # up to this many rated entries: exact Newton steps and covariance; above: conjugate gradients


@dataclass(frozen=True)
class Rating:
    entry: Hashable
    strength: float  # theta, centred on the mean of the rated entries
    low: float  # 95 % interval of theta
    high: float
    comparisons: int


@dataclass(frozen=True)
class Fit:
    ratings: dict[Hashable, Rating]
    nu: float  # the tie parameter
    iterations: int


def davidson_fit(votes: Iterable[tuple[Hashable, Hashable, float]]) -> Fit:
    """``votes``: (a, b, result) with result 1 (a preferred), 0 (b preferred) or 0.5 (about the same).
    Only entries in some vote are rated."""
    votes = list(votes)
    entries = sorted({x for a, b, _ in votes for x in (a, b)})
    if not entries:
        return Fit(ratings={}, nu=0.0, iterations=0)
    index = {e: i for i, e in enumerate(entries)}
    n = len(entries)
    a = np.array([index[v[0]] for v in votes], dtype=np.int64)
    b = np.array([index[v[1]] for v in votes], dtype=np.int64)
    y = np.array([float(v[2]) for v in votes])  # a's result: 1, 0.5 or 0
    ties = float(np.sum(y == 0.5))
    theta = np.zeros(n)
    nu = max(NU_FLOOR, ties / max(1.0, len(votes) - ties)) if ties else NU_FLOOR
    iterations = 0
    dense = n <= DENSE_LIMIT
    for iterations in range(1, MAX_ITERATIONS + 1):  # noqa: B007 (reported)
        if dense:
            grad, hess = _derivatives(theta, nu, a, b, y, n)
            step = np.linalg.solve(hess, grad)
        else:
            grad, w = _derivatives_sparse(theta, nu, a, b, y, n)
            step = _solve_laplacian(w, a, b, n, grad)
        theta = theta + step
        theta -= theta.mean()
        nu_before = nu
        if ties:  # the fixed point ties = nu * sum(sqrt(pa pb) / D), to convergence for these strengths
            pa, pb = np.exp(theta[a]), np.exp(theta[b])
            s = np.sqrt(pa * pb)
            for _ in range(200):
                updated = max(NU_FLOOR, ties / float(np.sum(s / (pa + pb + nu * s))))
                done = abs(updated - nu) < TOLERANCE * max(1.0, nu)
                nu = updated
                if done:
                    break
        if np.max(np.abs(step)) < TOLERANCE and abs(nu - nu_before) < 1e-7 * max(1.0, nu):
            break
    if dense:
        _, hess = _derivatives(theta, nu, a, b, y, n)
        # The covariance of the centred strengths: the common shift (which the prior alone pins) says nothing.
        centre = np.eye(n) - 1.0 / n
        se = np.sqrt(np.clip(np.diag(centre @ np.linalg.inv(hess) @ centre), 0.0, None))
    else:  # many entries: the diagonal of the information (each entry's own comparisons), a close approximation
        _, w = _derivatives_sparse(theta, nu, a, b, y, n)
        diagonal = np.bincount(a, weights=w, minlength=n) + np.bincount(b, weights=w, minlength=n)
        se = 1.0 / np.sqrt(diagonal + PRIOR_PRECISION)
    counts = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    ratings = {
        e: Rating(entry=e, strength=float(theta[i]), low=float(theta[i] - Z95 * se[i]),
                  high=float(theta[i] + Z95 * se[i]), comparisons=int(counts[i]))
        for e, i in index.items()
    }
    return Fit(ratings=ratings, nu=float(nu), iterations=iterations)


def _derivatives(theta, nu, a, b, y, n):
    """Gradient of the penalized log-likelihood in theta and minus its Hessian (positive definite)."""
    pa, pb = np.exp(theta[a]), np.exp(theta[b])
    s = np.sqrt(pa * pb)
    d = pa + pb + nu * s
    p = (pa + nu * s / 2) / d  # d log D / d theta_a; the b side is 1 - p
    grad = np.zeros(n)
    np.add.at(grad, a, y - p)
    np.add.at(grad, b, (1 - y) - (1 - p))
    grad -= PRIOR_PRECISION * theta
    w = ((pa + nu * s / 4) * d - (pa + nu * s / 2) ** 2) / d**2  # d p / d theta_a
    hess = np.zeros((n, n))
    np.add.at(hess, (a, a), w)
    np.add.at(hess, (b, b), w)
    np.add.at(hess, (a, b), -w)
    np.add.at(hess, (b, a), -w)
    hess[np.diag_indices(n)] += PRIOR_PRECISION
    return grad, hess


def _derivatives_sparse(theta, nu, a, b, y, n):
    """The gradient and the per-comparison Hessian weights w (the Hessian is the graph Laplacian of w plus the
    prior), without forming the n x n matrix."""
    pa, pb = np.exp(theta[a]), np.exp(theta[b])
    s = np.sqrt(pa * pb)
    d = pa + pb + nu * s
    p = (pa + nu * s / 2) / d
    grad = np.bincount(a, weights=y - p, minlength=n) - np.bincount(b, weights=y - p, minlength=n)
    grad -= PRIOR_PRECISION * theta
    w = ((pa + nu * s / 4) * d - (pa + nu * s / 2) ** 2) / d**2
    return grad, w


def _solve_laplacian(w, a, b, n, rhs, *, tolerance: float = 1e-10, max_steps: int = 500):
    """(L_w + prior I) x = rhs by conjugate gradients with a Jacobi preconditioner (L_w: the comparisons' graph
    Laplacian), in O(comparisons) per step."""
    diagonal = np.bincount(a, weights=w, minlength=n) + np.bincount(b, weights=w, minlength=n) + PRIOR_PRECISION

    def apply(x):
        flow = w * (x[a] - x[b])
        return np.bincount(a, weights=flow, minlength=n) - np.bincount(b, weights=flow, minlength=n) + (
            PRIOR_PRECISION * x)

    x = np.zeros(n)
    r = rhs - apply(x)
    z = r / diagonal
    p = z.copy()
    rz = r @ z
    for _ in range(max_steps):
        q = apply(p)
        alpha = rz / (p @ q)
        x += alpha * p
        r -= alpha * q
        if np.sqrt(r @ r) < tolerance * max(1.0, np.sqrt(rhs @ rhs)):
            break
        z = r / diagonal
        rz_next = r @ z
        p = z + (rz_next / rz) * p
        rz = rz_next
    return x


def win_probability(theta_a: float, theta_b: float, nu: float = 0.0) -> float:
    """P(a preferred) + half P(about the same) under the Davidson model."""
    pa, pb = np.exp(theta_a), np.exp(theta_b)
    s = np.sqrt(pa * pb)
    return float((pa + nu * s / 2) / (pa + pb + nu * s))


def pair_pick(
    *,
    candidates: Sequence[Hashable],
    strength: dict[Hashable, float],
    comparisons: dict[Hashable, int],
    pair_counts: dict[tuple[Hashable, Hashable], int],
    excluded_pairs: set[frozenset],
    rng: np.random.Generator,
) -> tuple[Hashable, Hashable] | None:
    """The pair that tells most: the first entry is one of the least-compared candidates (random among them); its
    opponent maximizes p (1 - p) / (1 + times the two met) (p: the chance the first is preferred, from the current
    strengths; 0 for unrated entries), random among near-equals. ``excluded_pairs`` (frozensets: pairs this
    listener already voted on) are never returned. None when no pair is left."""
    pool = list(candidates)
    if len(pool) < 2:
        return None
    counts = np.array([comparisons.get(e, 0) for e in pool], dtype=float)
    order = np.lexsort((rng.random(len(pool)), counts))  # least compared first, random among equals
    thetas = np.array([strength.get(e, 0.0) for e in pool])
    for first_index in order:
        first = pool[first_index]
        p = 1.0 / (1.0 + np.exp(thetas - thetas[first_index]))
        met = np.array([pair_counts.get(pair_key(first, e), 0) for e in pool], dtype=float)
        value = p * (1 - p) / (1.0 + met)
        value = value * (1.0 + 0.05 * rng.random(len(pool)))  # random among near-equals
        value[first_index] = -1.0
        for j, e in enumerate(pool):
            if frozenset((first, e)) in excluded_pairs:
                value[j] = -1.0
        best = int(np.argmax(value))
        if value[best] > 0:
            return (first, pool[best]) if rng.random() < 0.5 else (pool[best], first)
    return None


def pair_key(x, y) -> tuple:
    """The order-free key of a pair in ``pair_counts`` (the smaller first)."""
    return (x, y) if x <= y else (y, x)


def bootstrap_interval(values: Sequence[float], *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampled with replacement). One value: that
    value at both ends (nothing to resample: the interval says so by having no width)."""
    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        raise ValueError("bootstrap_interval needs at least one value")
    if data.size == 1:
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(samples, data.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def shared_rank_label(rank_low: int | None, rank_high: int | None, rank: int | None = None) -> str:
    """"3" or, for entries tied with their neighbours, "3–5"."""
    if rank_low is None or rank_high is None:
        return "" if rank is None else str(rank)
    return str(rank_low) if rank_low == rank_high else f"{rank_low}\u2013{rank_high}"
