"""manage.py load_challenge BUNDLE.yaml [--json]: create or update a challenge from a YAML bundle."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chartbusters.challenges.services.bundles import BundleError, challenge_load_bundle


class Command(BaseCommand):
    help = ("Create or update (by slug) a challenge from a YAML bundle: the Challenge fields, judges and organizers "
            "(usernames), input_melodies and reference_set (MIDI paths relative to the bundle).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("bundle", type=Path, help="path to the bundle .yaml file")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, bundle: Path, json: bool = False, **options) -> None:
        try:
            result = challenge_load_bundle(path=bundle)
        except BundleError as exc:
            raise CommandError(f"{bundle}: {exc}") from exc
        if json:
            self.stdout.write(_dumps(result.as_dict()))
            return
        verb = "Created" if result.created else "Updated"
        self.stdout.write(self.style.SUCCESS(
            f"{verb} challenge {result.slug!r}: {result.input_melodies} input melodies, "
            f"{result.reference_files} reference files ({result.files_written} written, "
            f"{result.files_removed} removed)."
        ))


def _dumps(data: dict) -> str:
    return json.dumps(data, sort_keys=True)
