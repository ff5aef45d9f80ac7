"""manage.py seed_demo [--json]: the demo challenges and one user per role (password from DEMO_PASSWORD)."""

from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand

from chartbusters.challenges.services.demo import DEFAULT_DEMO_PASSWORD, demo_extras, demo_seed


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
        extras = {}
        for name, seed in demo_extras().items():  # registered by the other apps (evaluation: "judging")
            if name == "judging" and without_judging:
                continue
            extras[name] = seed(password=password)
        if json:
            self.stdout.write(_dumps({
                "users": result.users, "password": result.password,
                "challenges": [c.as_dict() for c in result.challenges],
                "extras": extras,
            }))
            return
        for c in result.challenges:
            self.stdout.write(f"Challenge {c.slug}: {'created' if c.created else 'updated'}, "
                              f"{c.input_melodies} hidden input melodies")
        for sentence in extras.values():
            self.stdout.write(sentence)
        self.stdout.write(self.style.SUCCESS(
            f"Demo users {', '.join(result.users)} have the password {result.password!r}."))


def _dumps(data: dict) -> str:
    return json.dumps(data, sort_keys=True)
