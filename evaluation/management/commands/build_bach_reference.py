"""``manage.py build_bach_reference``: re-measure the Bach train split and rewrite evaluation/data/bach_reference.json
(the default reference figures that ship in the repository; run it after the metrics or the chorale data change)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Recompute the default (Bach train split) reference statistics shipped in evaluation/data/."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, **options) -> None:
        from evaluation.reference import BACH_REFERENCE_PATH, build_bach_reference

        result = build_bach_reference()
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            self.stdout.write(f"wrote {BACH_REFERENCE_PATH} ({result['n_pieces']} pieces)")
