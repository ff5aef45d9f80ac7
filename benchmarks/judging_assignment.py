"""Judge assignment (evaluation/judging.py ``assign``: a min-cost flow) on large random populations.

    .venv/bin/python benchmarks/judging_assignment.py [--entries 200 1000 5000] [--judges 30] [--k 3]
        [--conflicts 0.05]

For each size: the seconds ``assign`` takes (k judges per entry, loads within one, a share of random judge x entry
conflicts), and a check of the rules on its answer. Pure Python, no database.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.judging import assign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument("--judges", type=int, default=30)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--conflicts", type=float, default=0.05)
    args = parser.parse_args()
    rng = random.Random(0)
    judges = list(range(args.judges))
    for n in args.entries:
        entries = list(range(n))
        forbidden = {(e, j) for e in entries for j in judges if rng.random() < args.conflicts}
        start = time.perf_counter()
        plan = assign(entries=entries, judges=judges, k=args.k, forbidden=forbidden, seed=1)
        seconds = time.perf_counter() - start
        loads = Counter(j for chosen in plan.values() for j in chosen)
        ok = (all(len(set(c)) == args.k for c in plan.values())
              and not any((e, j) in forbidden for e, c in plan.items() for j in c)
              and max(loads.values()) - min(loads.get(j, 0) for j in judges) <= 1)
        print(f"{n:>6} entries x {args.judges} judges, k={args.k}, {len(forbidden)} conflicts: "
              f"{seconds:6.2f} s, rules hold: {ok}")


if __name__ == "__main__":
    main()
