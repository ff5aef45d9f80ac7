"""Public challenge pages: the list (filter by status) and the detail (rules, status, time left, quota)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from chartbusters.challenges.models import Challenge
from chartbusters.challenges.selectors import (
    challenge_get,
    challenge_list,
    challenge_quota_text,
    challenge_time_left,
)


def challenge_list_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status")
    if status not in Challenge.Status.values:
        status = None
    now = timezone.now()
    challenges = [
        {"challenge": c, "status": c.status_at(now), "time_left": challenge_time_left(c, now),
         "quota_text": challenge_quota_text(c)}
        for c in challenge_list(user=request.user, status=status, now=now)
    ]
    return render(request, "challenges/list.html", {
        "challenges": challenges, "status": status, "statuses": Challenge.Status.choices,
    })


def challenge_detail_view(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = challenge_get(slug=slug, user=request.user)
    now = timezone.now()
    return render(request, "challenges/detail.html", {
        "challenge": challenge, "status": challenge.status_at(now), "time_left": challenge_time_left(challenge, now),
        "quota_text": challenge_quota_text(challenge),
        "submit_path": f"/challenges/{challenge.slug}/submit/",
        "leaderboard_path": f"/challenges/{challenge.slug}/leaderboard/",
    })
