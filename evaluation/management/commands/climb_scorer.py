"""``manage.py climb_scorer [--climbs 24] [--steps 1500] [--seed 100] [--out PATH]``: the adversarial round of
docs/scoring.md (issue 23 item 3). Hill-climbs (generation.engine.hill_climb) from parallel-harmony scales against the
whole automatic score of the default Bach challenge (style and realness, before the copy penalty, in-process), and
adds what they found -- each climb's piece after every ``--keep-every`` steps -- to
``generation/engine/models/discriminator/scorer_climbs.npz`` (``--replace``: instead of the rounds before): the
``scorer_climb`` negatives of the realness model's next training (``manage.py train discriminator``). Then climb the
new scorer again, with new seeds (a seed already in the file is refused; benchmarks/scoring_gaming.py climbs with
held-out seeds, 7000 and up, refused here too)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

HELD_OUT_SEEDS = 7000  # benchmarks/scoring_gaming.py's climbs start here


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
        import numpy as np
        import torch
        from tqdm import tqdm

        from evaluation.automatic import ScoringError, score_pieces
        from generation.engine.hill_climb import SCORER_CLIMBS_PATH, climb, load_pieces, save_pieces
        from generation.engine.trivial_music import as_midi

        first, n, steps = options["seed"], options["climbs"], options["steps"]
        if n < 1 or steps < 1 or options["keep_every"] < 1:
            raise CommandError("--climbs, --steps and --keep-every must be at least 1.")
        if first + n > HELD_OUT_SEEDS:
            raise CommandError(f"Seeds from {HELD_OUT_SEEDS} are the benchmark's held-out climbs; use lower ones.")
        out = options["out"] or SCORER_CLIMBS_PATH
        earlier, info = [], {"seeds": [], "final_scores": [], "rounds": []}
        if out.exists() and not options["replace"]:
            earlier = load_pieces(out)
            with np.load(out, allow_pickle=False) as z:
                info = {key: z[key].tolist() for key in info if key in z.files}
            if len(info.get("seeds", [])) != len(info.get("final_scores", [])):
                raise CommandError(f"{out} was written by an older version; start again with --replace.")
            used = sorted(set(info["seeds"]) & set(range(first, first + n)))
            if used:
                raise CommandError(f"Seeds {used} were climbed in an earlier round; start at --seed "
                                   f"{max(info['seeds']) + 1}.")
        round_number = max(info.get("rounds") or [0]) + 1
        torch.set_num_threads(1)

        def objective(tracks, onsets) -> float:
            try:
                return score_pieces([as_midi(tracks, onsets)]).automatic_unpenalized
            except ScoringError:
                return 0.0

        found, finals = [], []
        bar = tqdm(total=n * steps, desc="climbing the scorer", unit="step", disable=options["json"],
                   file=self.stderr)
        for k in range(n):
            def keep(climber):
                bar.update(1)
                if climber.steps % options["keep_every"] == 0:
                    found.append(climber.piece())

            climber = climb(objective, 30 * 8, steps, np.random.default_rng(first + k), on_step=keep)
            finals.append(round(climber.score, 1))
        bar.close()
        save_pieces(earlier + found, out, seeds=info["seeds"] + list(range(first, first + n)),
                    final_scores=info["final_scores"] + finals, rounds=info["rounds"] + [round_number] * n)
        result = {"out": str(out), "round": round_number, "pieces": len(found), "pieces_in_all": len(earlier + found),
                  "final_scores": finals}
        self.stdout.write(json.dumps(result) if options["json"] else
                          f"round {round_number}: {len(found)} pieces added to {out} ({len(earlier + found)} in all); "
                          f"the climbs' final scores {finals}")
