"""Results pages: my submissions (live status), a submission (score chart, piano roll, audio), the leaderboard."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chartbusters.errors import ApplicationError
from evaluation.selectors.access import (
    challenge_get_visible,
    entrant_names_hidden,
    leaderboard_row_shown,
    music_withheld,
    user_organizes,
)
from evaluation.selectors.leaderboard import (
    MAX_LIMIT,
    leaderboard_count,
    leaderboard_is_provisional,
    leaderboard_is_rescoring,
    leaderboard_row_of,
    leaderboard_rows,
)
from evaluation.selectors.ranking import final_choice_view, ranking_explained
from evaluation.selectors.submissions import (
    submission_get_for_viewer,
    submission_list_mine,
    submission_views_mine,
)
from evaluation.services.input_split import final_choice_set
from evaluation.views.charts import passage_marks, score_bars

MY_SUBMISSIONS_PER_PAGE = 50


@login_required
def my_submissions_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(submission_list_mine(user=request.user), MY_SUBMISSIONS_PER_PAGE).get_page(request.GET.get("page"))
    views = submission_views_mine(page.object_list)
    return render(request, "evaluation/my_submissions.html", {
        "page": page, "submissions": views, "any_in_progress": any(v.in_progress for v in views),
        "page_size": MY_SUBMISSIONS_PER_PAGE,
    })


def submission_detail_view(request: HttpRequest, submission_id: int) -> HttpResponse:
    view = submission_get_for_viewer(user=request.user, submission_id=submission_id)
    if view is None:
        raise Http404("No such submission.")
    score = view.score
    bars = score_bars(style=score.style, realness=score.realness, parts=score.parts) if score else []
    return render(request, "evaluation/submission_detail.html", {
        "submission": view, "bars": bars, "chart_height": 8 + 22 * len(bars),
        "passage_marks": passage_marks(score.parts or {}) if score else [],
        "final_choice": final_choice_view(user=request.user, submission_id=submission_id),
    })


@require_POST
def final_choice_page(request: HttpRequest, submission_id: int) -> HttpResponse:
    """Mark (final=1) or unmark (final=0) one's own entry as final (split Melody Harvest challenges)."""
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next=/submissions/{submission_id}/")
    try:
        final_choice_set(user=request.user, submission_id=submission_id, final=request.POST.get("final") == "1")
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
    return redirect(f"/submissions/{submission_id}/")


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    try:
        return max(0, int(request.GET.get(name, default)))
    except ValueError:
        return default


def leaderboard_view(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = challenge_get_visible(slug=slug, user=request.user)
    if challenge is None:
        raise Http404("No such challenge.")
    offset = _int_param(request, "offset", 0)
    hidden = entrant_names_hidden(user=request.user, challenge=challenge)
    withheld = music_withheld(user=request.user, challenge=challenge)
    rows = [leaderboard_row_shown(row, user=request.user, names_hidden=hidden, music_hidden=withheld)
            for row in leaderboard_rows(challenge=challenge, offset=offset, limit=MAX_LIMIT, with_parts=True)]
    me = leaderboard_row_shown(leaderboard_row_of(challenge=challenge, user=request.user, with_parts=True),
                               user=request.user, names_hidden=hidden, music_hidden=withheld)
    count = leaderboard_count(challenge=challenge)
    return render(request, "evaluation/leaderboard.html", {
        "challenge": challenge,
        "provisional": leaderboard_is_provisional(challenge=challenge),
        "rescoring": leaderboard_is_rescoring(challenge=challenge),
        "rows": rows,
        # Drawn by a few lines of JS when a row is expanded: 100 server-rendered charts would weigh ~0.5 MB.
        "charts": {row["submission"]: [[b.label, b.fraction, b.text] for b in _bars(row)] for row in rows},
        "me": me,
        "me_on_page": me is not None and any(row["submission"] == me["submission"] for row in rows),
        "count": count,
        "offset": offset,
        "previous_offset": max(0, offset - MAX_LIMIT) if offset else None,
        "next_offset": offset + MAX_LIMIT if offset + MAX_LIMIT < count else None,
        "is_organizer": user_organizes(user=request.user, challenge=challenge),
        "how_ranked": ranking_explained(challenge=challenge),
        "can_listen": not challenge.results_published,
    })


def _bars(row):
    return score_bars(style=row["style"] or 0.0, realness=row["realness"] or 0.0, parts=row["parts"] or {})
