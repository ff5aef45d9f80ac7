"""Judging pages (docs/judging.md): the judge's queue, one anonymous entry with the rubric, the organizers'
overview (progress, agreement, likes, reassignment, final round, publication), and liking an entry."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chartbusters.challenges.models import Challenge
from chartbusters.errors import ApplicationError, refusal_page
from chartbusters.ratelimit import client_address
from evaluation.formula import RUBRIC, RUBRIC_MIN
from evaluation.models import JudgeAssignment
from evaluation.selectors.access import challenge_get_visible, user_organizes
from evaluation.selectors.judging import judge_assignment_view, judge_queue, judging_results
from evaluation.services.audience import like_add
from evaluation.services.judging import (
    judge_assignment_reassign,
    judge_assignment_save,
    judging_assign,
    judging_final_round_start,
    judging_publish,
)

# What each level of each criterion of the rubric (evaluation.formula.RUBRIC) means (docs/design.md section 5: 1
# noise ... 5 outstanding).
RUBRIC_LEVELS = {
    "originality": ("Originality", [
        "Noise: no musical idea", "Derivative: stock figures or a known piece", "Some ideas of its own",
        "Fresh: ideas you have not heard like this", "Outstanding: unmistakably its own"]),
    "balance": ("Balance", [
        "Noise: parts and form fall apart", "Parts clash, or one swamps the rest", "Workable voices and form",
        "Well balanced voices, phrases and form", "Outstanding: every part and section in proportion"]),
    "emotion": ("Emotion", [
        "Noise: nothing to feel", "Flat: no shape or direction", "Some expressive moments",
        "Moving: a clear character throughout", "Outstanding: it stays with you"]),
}


@login_required
def judge_queue_view(request: HttpRequest) -> HttpResponse:
    organized = [c for c in Challenge.objects.order_by("-closes_at")
                 if user_organizes(user=request.user, challenge=c)] if request.user.is_staff else []
    return render(request, "evaluation/judging/queue.html", {"groups": judge_queue(judge=request.user),
                                                             "organized": organized})


def _rubric(view) -> list[dict]:
    return [
        {"name": name, "label": RUBRIC_LEVELS[name][0], "value": getattr(view, name),
         "levels": [{"value": i, "text": text} for i, text in enumerate(RUBRIC_LEVELS[name][1], start=RUBRIC_MIN)]}
        for name in RUBRIC
    ]


@login_required
def judge_assignment_page(request: HttpRequest, assignment_id: int) -> HttpResponse:
    view = judge_assignment_view(judge=request.user, assignment_id=assignment_id)
    if view is None:
        raise Http404("No such assignment of yours.")
    error, status = None, 200
    if request.method == "POST":
        submit = request.POST.get("action") == "submit"
        try:
            judge_assignment_save(
                assignment_id=assignment_id, judge=request.user, originality=request.POST.get("originality"),
                balance=request.POST.get("balance"), emotion=request.POST.get("emotion"),
                comment=request.POST.get("comment", ""), submit=submit,
            )
        except ApplicationError as exc:
            error, status = exc.message, exc.status
        else:
            if submit:
                messages.success(request, f"Entry #{view.entry_number} submitted.")
                return redirect(f"/judging/assignments/{view.next_id}/" if view.next_id else "/judging/")
            messages.success(request, f"Draft of entry #{view.entry_number} saved.")
            return redirect(f"/judging/assignments/{assignment_id}/")
        view = judge_assignment_view(judge=request.user, assignment_id=assignment_id)
    posted = request.POST if request.method == "POST" else {}
    rubric = _rubric(view)
    for item in rubric:  # keep what the judge typed when the form is refused
        if item["name"] in posted and str(posted[item["name"]]).isdigit():
            item["value"] = int(posted[item["name"]])
    return render(request, "evaluation/judging/assignment.html", {
        "a": view, "rubric": rubric, "error": error, "comment": posted.get("comment", view.comment),
    }, status=status)


def _organizer_challenge_or_404(request: HttpRequest, slug: str) -> Challenge:
    challenge = challenge_get_visible(slug=slug, user=request.user)
    if challenge is None or not user_organizes(user=request.user, challenge=challenge):
        raise Http404("No such challenge that you organize.")
    return challenge


def _assign(challenge: Challenge, request: HttpRequest) -> str:
    return f"{judging_assign(challenge_id=challenge.pk, by=request.user)} reviews assigned."


def _final_round(challenge: Challenge, request: HttpRequest) -> str:
    return f"Final round: {judging_final_round_start(challenge_id=challenge.pk, by=request.user)} reviews assigned."


def _publish(challenge: Challenge, request: HttpRequest) -> str:
    return f"Results published: {judging_publish(challenge_id=challenge.pk, by=request.user)} entries judged."


def _reassign(challenge: Challenge, request: HttpRequest) -> str:
    """Raises ValueError for a missing or non-numeric review or judge (the page says what to choose)."""
    assignment_id, judge_id = int(request.POST.get("assignment", "")), int(request.POST.get("judge", ""))
    if not JudgeAssignment.objects.filter(pk=assignment_id, challenge=challenge).exists():
        raise ValueError(assignment_id)
    review = judge_assignment_reassign(assignment_id=assignment_id, judge_id=judge_id, by=request.user)
    return f"Entry #{review.entry_number}: review reassigned to {review.judge.get_username()}."


ACTIONS = {"assign": _assign, "final-round": _final_round, "publish": _publish, "reassign": _reassign}


@login_required
def judging_overview_view(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = _organizer_challenge_or_404(request, slug)
    status = 200
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            messages.error(request, "Unknown action.")
            status = 400
        else:
            try:
                messages.success(request, action(challenge, request))
                return redirect(f"/judging/{slug}/")
            except ApplicationError as exc:
                messages.error(request, exc.message)
                status = exc.status
            except ValueError:
                messages.error(request, "Choose a review and a judge.")
                status = 400
        challenge.refresh_from_db()
    results = judging_results(challenge=challenge)
    judges = list(challenge.judges.order_by("username").values("pk", "username"))
    return render(request, "evaluation/judging/overview.html", {
        "challenge": challenge, "results": results, "judges": judges,
        "complete": results.total > 0 and results.done == results.total,
        "percent": round(100 * results.done / results.total) if results.total else 0,
    }, status=status)


@require_POST
def like_view(request: HttpRequest, submission_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next=/submissions/{submission_id}/")
    try:
        likes = like_add(user=request.user, submission_id=submission_id, address=client_address(request))
        messages.success(request, f"Liked: {likes} like{'s' if likes != 1 else ''}.")
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
        return refusal_page(redirect(f"/submissions/{submission_id}/"), exc)
    return redirect(f"/submissions/{submission_id}/")
