"""Listening in pairs (issue 26): ``/listen/<slug>/`` plays two anonymous excerpts and asks which the listener
prefers, or "about the same" (evaluation.services.pairs has the rules)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chartbusters.errors import ApplicationError, refusal_page
from chartbusters.ratelimit import client_address
from evaluation.selectors.access import challenge_get_visible
from evaluation.services.pairs import EXCERPT_SECONDS, pair_issue, pair_stats, pair_vote


def pair_audio_url(token, which: int) -> str:
    """The pair's own URL of its first (1) or second (2) excerpt: opaque, the listener's only."""
    return f"/listen/pairs/{token}/{which}/"


@login_required
def listen_view(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = challenge_get_visible(slug=slug, user=request.user)
    if challenge is None:
        raise Http404("No such challenge.")
    try:
        issue = pair_issue(slug=slug, user=request.user)
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        response = render(request, "evaluation/listen.html", {"challenge": challenge, "refusal": exc.message,
                                                              "code": exc.code})
        response.status_code = exc.status if exc.code != "no_pair" else 200
        return response
    return render(request, "evaluation/listen.html", {
        "challenge": challenge,
        "issue": issue,
        "excerpts": [{"which": 1, "label": "A", "url": pair_audio_url(issue.token, 1)},
                     {"which": 2, "label": "B", "url": pair_audio_url(issue.token, 2)}],
        "seconds": int(EXCERPT_SECONDS),
        "stats": pair_stats(challenge=challenge, user=request.user),
    })


@require_POST
def listen_vote_view(request: HttpRequest, slug: str, token) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next=/listen/{slug}/")
    try:
        pair_vote(token=token, user=request.user, choice=request.POST.get("choice", ""),
                  address=client_address(request))
        messages.success(request, "Thank you: your vote counts. Here is the next pair.")
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
        return refusal_page(redirect(f"/listen/{slug}/"), exc)
    return redirect(f"/listen/{slug}/")
