"""``manage.py render_audio IN.mid -o OUT.(wav|ogg|mp3) [--pianoroll OUT.png]`` (evaluation.audio)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

FILE_NOT_FOUND = "No such file: {path}"


class Command(BaseCommand):
    help = "Render a MIDI file to loudness-normalized audio (and optionally a piano-roll PNG)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("input", type=Path, help="MIDI file")
        parser.add_argument("-o", "--output", type=Path, required=True, help="audio file: .wav, .ogg or .mp3")
        parser.add_argument("--pianoroll", type=Path, help="also write a piano-roll PNG here")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options) -> None:
        from evaluation.audio import AudioError, render_audio
        from evaluation.pianoroll import render_pianoroll_png
        from generation.engine.errors import EngineError

        path: Path = options["input"]
        if not path.is_file():
            raise CommandError(FILE_NOT_FOUND.format(path=path))
        started = time.perf_counter()
        try:
            out = render_audio(path, options["output"])
            roll = render_pianoroll_png(path, options["pianoroll"]) if options["pianoroll"] else None
        except (AudioError, EngineError) as exc:
            raise CommandError(exc.message) from exc
        result = {"audio": str(out), "pianoroll": str(roll) if roll else None,
                  "seconds": round(time.perf_counter() - started, 3)}
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"wrote {out}" + (f" and {roll}" if roll else "") + f" in {result['seconds']} s")
