"""``manage.py rescore SLUG [--json]``: rescore every entry of a challenge from scratch with the current scorer
(evaluation.services.rescoring) and print what changed at the printed precision, or "no change"."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

CHALLENGE_NOT_FOUND = "No challenge with slug {slug!r}."


def report_lines(report: dict) -> list[str]:
    """The report as a person reads it: the scorer version, then "no change" or each change, then the entries
    that are not ranked and why."""
    lines = [
        f"{report['challenge']}: {report['entries']} scored entries, {report['ranked']} ranked; scorer "
        f"version {report['scorer_version']} (before: {', '.join(report['versions_before']) or '-'})"
    ]
    if not report.get("applied", True):
        lines.append("(results published: the new scores were compared, not kept; --apply keeps them)")
    if report["no_change"]:
        lines.append("no change")
    for c in report["changed"]:
        lines.append(
            f"submission {c['submission']}: final {c['final'][0]} -> {c['final'][1]}, automatic "
            f"{c['automatic'][0]} -> {c['automatic'][1]}, rank {c['rank'][0]} -> {c['rank'][1]}"
        )
    for k in report["kept"]:
        lines.append(
            f"submission {k['submission']} ({k['entrant']}) kept its score: it cannot be scored now: {k['reason']}"
        )
    if report["unranked"]:
        lines.append("not ranked:")
        lines += [
            f"  submission {u['submission']} ({u['entrant']}, {u['status']}): {u['reason']}" for u in report["unranked"]
        ]
    return lines


class Command(BaseCommand):
    help = 'Rescore every entry of a challenge with the current scorer; prints what changed ("no change").'

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")
        parser.add_argument(
            "--apply",
            action="store_true",
            help="keep the new scores of a challenge whose results are published (by default they "
            "are only compared: published results are verified, not changed)",
        )

    def handle(self, *args, slug: str, as_json: bool = False, apply: bool = False, **options) -> None:
        from tqdm import tqdm

        from chartbusters.challenges.models import Challenge
        from chartbusters.errors import ApplicationError
        from evaluation.services.rescore_run import challenge_rescore

        challenge = Challenge.objects.filter(slug=slug).first()
        if challenge is None:
            raise CommandError(CHALLENGE_NOT_FOUND.format(slug=slug))
        bar = tqdm(desc=f"rescoring {slug}", unit="entry", disable=as_json, file=self.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            report = challenge_rescore(challenge_id=challenge.pk, on_progress=progress, apply=True if apply else None)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        finally:
            bar.close()
        if as_json:
            self.stdout.write(json.dumps(report))
        else:
            self.stdout.write("\n".join(report_lines(report)))
