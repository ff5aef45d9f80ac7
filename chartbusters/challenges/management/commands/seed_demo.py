"""manage.py seed_demo [--json]: the demo challenges and one user per role (password from DEMO_PASSWORD)."""

from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand

from chartbusters.challenges.services.demo import DEFAULT_DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = ("Create or refresh the demo: challenges melody-go-round and melody-harvest (open now), winter-judging "
            "(being judged) and users entrant, judge and organizer with the password in DEMO_PASSWORD (default "
            "'chartbusters').")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--without-judging", action="store_true",
                            help="skip the judging demo (winter-judging: scored entries assigned to the judges)")

    def handle(self, *args, json: bool = False, without_judging: bool = False, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
        result = demo_seed(password=password)
        judging = None
        if not without_judging:
            from evaluation.services.demo_judging import demo_judging_seed

            if not json:
                self.stdout.write("Scoring the judging demo's entries (about half a minute the first time)...")
            judging = demo_judging_seed(password=password)
        if json:
            self.stdout.write(_dumps({
                "users": result.users, "password": result.password,
                "challenges": [c.as_dict() for c in result.challenges],
                "judging": judging.slug if judging else None,
            }))
            return
        for c in result.challenges:
            self.stdout.write(f"Challenge {c.slug}: {'created' if c.created else 'updated'}, "
                              f"{c.input_melodies} hidden input melodies")
        if judging is not None:
            self.stdout.write(f"Challenge {judging.slug}: being judged; log in as judge to review (/judging/), "
                              "then as organizer to publish.")
        self.stdout.write(self.style.SUCCESS(
            f"Demo users {', '.join(result.users)} have the password {result.password!r}."))


def _dumps(data: dict) -> str:
    return json.dumps(data, sort_keys=True)
