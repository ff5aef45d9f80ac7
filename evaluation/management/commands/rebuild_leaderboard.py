"""rebuild_leaderboard [SLUG ...]: recompute leaderboard tables from the scores (after a bulk database change
that bypassed the submissions services, e.g. a raw UPDATE); every challenge when no slug is given."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from chartbusters.challenges.models import Challenge
from evaluation.services.leaderboard import leaderboard_rebuild

UNKNOWN_SLUGS = "No challenge called {slugs}."


class Command(BaseCommand):
    help = "Recompute the precomputed leaderboard table of the given challenges (default: all) from their scores."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slugs", nargs="*")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print {slug: ranked entrants} as JSON")

    def handle(self, *args, slugs: list[str], as_json: bool = False, **options) -> None:
        challenges = Challenge.objects.order_by("slug")
        if slugs:
            challenges = challenges.filter(slug__in=slugs)
            missing = sorted(set(slugs) - set(challenges.values_list("slug", flat=True)))
            if missing:
                raise CommandError(UNKNOWN_SLUGS.format(slugs=", ".join(missing)))
        counts = {c.slug: leaderboard_rebuild(challenge_id=c.pk) for c in challenges}
        if as_json:
            self.stdout.write(json.dumps(counts))
        else:
            for slug, n in counts.items():
                self.stdout.write(f"{slug}: {n} ranked entrants")

