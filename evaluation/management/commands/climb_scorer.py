"""``manage.py climb_scorer [--climbs 24] [--steps 1500] [--keep-every 500] [--seed 100] [--out PATH] [--replace]``:
the adversarial round of docs/scoring.md (issue 23 item 3). Hill-climbs from parallel-harmony scales against the
whole automatic score of the default Bach challenge (style and realness, before the copy penalty, in-process) and
adds what they found -- each climb's piece after every ``--keep-every`` steps -- to
``generation/engine/models/discriminator/scorer_climbs.npz`` (``--replace``: instead of the rounds before): the
``scorer_climb`` negatives of the realness model's next training (``manage.py train discriminator``). Then climb the
new scorer again, with new seeds (a seed already in the file is refused, and so are benchmarks/scoring_gaming.py's
held-out seeds, 7000 and up). Keep a round only if the benchmark's held-out climbs do better with the retrained model
(docs/scoring.md): a retrained model can open holes the last one did not have."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Hill-climb pieces against the automatic score and store them as the realness model's next negatives."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--climbs", type=int, default=24)
        parser.add_argument("--steps", type=int, default=1500, help="single-note changes per climb")
        parser.add_argument("--keep-every", type=int, default=500, help="store the piece after every N steps")
        parser.add_argument("--seed", type=int, default=100, help="first seed (climb k uses seed + k)")
        parser.add_argument("--out", type=Path, help="default: the realness model's scorer_climbs.npz")
        parser.add_argument("--replace", action="store_true", help="drop the pieces of earlier rounds in --out")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options) -> None:
        import torch
        from tqdm import tqdm

        from evaluation.automatic import ScoringError, score_pieces
        from generation.engine.realness import scorer_climb_round

        def score(pm) -> float:
            try:
                return score_pieces([pm]).automatic_unpenalized
            except ScoringError:
                return 0.0

        torch.set_num_threads(1)
        bar = tqdm(total=max(0, options["climbs"] * options["steps"]), desc="climbing the scorer", unit="step",
                   disable=options["json"], file=self.stderr)
        try:
            result = scorer_climb_round(score, first_seed=options["seed"], climbs=options["climbs"],
                                        steps=options["steps"], keep_every=options["keep_every"], out=options["out"],
                                        replace=options["replace"], on_step=lambda: bar.update(1))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(json.dumps(result) if options["json"] else
                          f"round {result['round']}: {result['pieces']} pieces added to {result['out']} "
                          f"({result['pieces_in_all']} in all); the climbs' final scores {result['final_scores']}")
