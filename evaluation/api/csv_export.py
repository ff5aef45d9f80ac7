"""The organizers' leaderboard CSV: every ranked row with its score parts, streamed."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from chartbusters.challenges.models import Challenge
from evaluation.selectors.leaderboard import leaderboard_iter_all

CSV_COLUMNS = [
    ("rank", "rank"),
    ("entrant", "entrant__username"),
    ("email", "entrant__email"),
    ("submission", "submission_id"),
    ("title", "submission__title"),
    ("kind", "submission__kind"),
    ("score", "score"),
    ("automatic", "automatic"),
    ("style", "submission__score__style"),
    ("realness", "submission__score__realness"),
    ("judge_score", "judge_score"),
    ("judged", "judged"),
    ("flagged_copy", "submission__score__flagged_copy"),
    ("submitted_at", "submitted_at"),
    ("rank_low", "rank_low"),  # issue 26: the shared rank, the score's 95 % interval, the audience rating
    ("rank_high", "rank_high"),
    ("score_low", "score_low"),
    ("score_high", "score_high"),
    ("audience", "audience"),
    ("audience_votes", "audience_votes"),
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in CSV_COLUMNS])
    for row in rows:
        values = []
        for _, key in CSV_COLUMNS:
            value = row[key]
            if value is None:
                value = ""
            elif isinstance(value, float):
                value = f"{value:.4f}"
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            values.append(value)
        yield writer.writerow(values)


def leaderboard_csv_response(*, challenge: Challenge) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(leaderboard_iter_all(challenge=challenge)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{challenge.slug}-leaderboard.csv"'
    return response
