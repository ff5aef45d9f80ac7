"""``manage.py score IN.mid [--challenge SLUG] [--json]``: metrics, style, realness, automatic score, originality."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

CHALLENGE_NOT_FOUND = "No challenge with slug {slug!r}."
FILE_NOT_FOUND = "No such file: {path}"


class Command(BaseCommand):
    help = "Score a MIDI file the way the platform does (docs/design.md section 5)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("input", type=Path, help="MIDI file to score")
        parser.add_argument("--challenge", help="slug of the challenge whose reference set, metrics and weights apply")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options) -> None:
        from chartbusters.challenges.models import Challenge
        from evaluation.automatic import ScoringError, score_midi_paths

        path: Path = options["input"]
        if not path.is_file():
            raise CommandError(FILE_NOT_FOUND.format(path=path))
        challenge = None
        if options["challenge"]:
            challenge = Challenge.objects.filter(slug=options["challenge"]).first()
            if challenge is None:
                raise CommandError(CHALLENGE_NOT_FOUND.format(slug=options["challenge"]))
        try:
            result = score_midi_paths([path], challenge=challenge)
        except ScoringError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            payload = {"automatic": result.automatic, "automatic_unpenalized": result.automatic_unpenalized,
                       "copy_penalty": result.copy_penalty, "style": result.style, "realness": result.realness,
                       "flagged_copy": result.flagged_copy, "scorer_version": result.scorer_version,
                       "parts": result.parts}
            self.stdout.write(json.dumps(payload, indent=2))
            return
        self._print(result)

    def _print(self, result) -> None:
        parts = result.parts
        self.stdout.write(f"reference: {parts['reference']['source']} ({parts['reference']['n_pieces']} pieces)")
        self.stdout.write(f"{'metric':<22}{'value':>10}{'mean':>10}{'std':>10}{'closeness':>11}  reference 10-90 %")
        for name, m in parts["metrics"].items():
            mark = "" if m["in_style"] else "  (not in style)"
            where = f"  {m['p10']:.3f}-{m['p90']:.3f} ({m['direction']})" if "p10" in m else ""
            self.stdout.write(f"{name:<22}{m['value']:>10.3f}{m['mean']:>10.3f}{m['std']:>10.3f}"
                              f"{m['closeness']:>11.3f}{where}{mark}")  # fmt: skip
        content = parts["content"]
        self.stdout.write(f"content    {'ok' if content['ok'] else 'REFUSED: ' + content['reason']} "
                          f"(repetition {content.get('repetition', 0):.2f})")  # fmt: skip
        self.stdout.write(f"style      {result.style:.3f}")
        model = parts["realness_model"]
        warning = f" -- {model['warning']}" if model.get("warning") else ""
        self.stdout.write(f"realness   {result.realness:.3f}  ({model['source']}{warning})")
        if (parts.get("realness_passages") or {}).get("text"):
            self.stdout.write(f"           {parts['realness_passages']['text']}")
        weights = parts["weights"]
        self.stdout.write(f"automatic  {result.automatic:.1f} / 100  (before the copy penalty "
                          f"{result.automatic_unpenalized:.1f}, penalty x{result.copy_penalty:.2f}; weights: style "
                          f"{weights['style']}, realness {weights['realness']})")  # fmt: skip
        originality = parts["originality"]
        longest = originality["longest"]
        if longest is None:
            self.stdout.write("originality: no passage shared with known music")
        else:
            flag = "FLAGGED as a possible copy" if originality["flagged"] else "not flagged"
            self.stdout.write(
                f"originality: longest shared passage {longest['bars']} bars ({longest['notes']} notes) with "
                f"{longest['source']} ({longest['source_track']}, bar {longest['source_bar']}) at bar "
                f"{longest['entry_bar']} of {longest['entry_track']}; threshold {originality['threshold_bars']} "
                f"bars: {flag}"
                + (f" ({longest['transform']})" if longest.get("transform") else "")
                + (" -- a patchwork of " + ", ".join(originality["sources"]) if originality.get("patchwork") else "")
            )
        self.stdout.write(f"scorer version {result.scorer_version}: " + "; ".join(
            f"{k} {v}" for k, v in parts.get("scorer", {}).items()))
