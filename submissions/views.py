"""The entry page /challenges/<slug>/submit/: a thin view over the intake services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from chartbusters.challenges.models import Challenge
from chartbusters.errors import ApplicationError, refusal_page
from chartbusters.ratelimit import RateLimitedError, rate_limit_request
from submissions.forms import CheckpointEntryForm, CompositionEntryForm, CompositionUploadForm
from submissions.models import Composition, Submission
from submissions.selectors import (
    challenge_get_for_entry,
    challenge_list_open_for_entries,
    composition_list_for_owner,
    quota_usage_get,
)
from submissions.services.compositions import composition_create, composition_delete, composition_rename
from submissions.services.errors import EntryRefusedError
from submissions.services.intake import submission_create_checkpoint, submission_create_composition
from submissions.services.windows import entry_kind_for, entry_window_check

ACCEPTED_MESSAGE = "Your entry \u201c{title}\u201d is queued; this page shows its progress."
RENAMED_MESSAGE = "Renamed to \u201c{title}\u201d."
DELETED_MESSAGE = "Deleted the composition."
COMPOSITION_SAVED_MESSAGE = "Saved \u201c{title}\u201d; you can enter it in a Melody-Go-Round challenge."


def _after_submit_url(submission: Submission) -> str:
    try:
        return reverse("results:submission-detail", args=[submission.pk])
    except NoReverseMatch:
        return reverse("challenges:detail", args=[submission.challenge.slug])


def _create(request: HttpRequest, challenge, form) -> Submission:
    data = form.cleaned_data
    common = {
        "challenge": challenge, "entrant": request.user, "title": data["title"],
        "description": data["description"], "licence_accepted": data["accept_licence"],
    }
    if isinstance(form, CompositionEntryForm):
        composition = data.get("composition")
        return submission_create_composition(
            **common, midi_file=data.get("midi_file"), composition_id=composition.pk if composition else None
        )
    return submission_create_checkpoint(
        **common, checkpoint_file=data["checkpoint"], config=data["config"], model_card=data["model_card"]
    )


def _rate_limited(request: HttpRequest, form) -> RateLimitedError | None:
    """Count this upload (RATE_LIMIT_UPLOAD); when refused, the refusal, shown as a form error with the wait."""
    try:
        rate_limit_request(request, scope="upload")
    except RateLimitedError as exc:
        form.add_error(None, exc.message)
        return exc
    return None


@login_required
def submission_create_view(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = challenge_get_for_entry(slug=slug)
    context = {"challenge": challenge, "quota": quota_usage_get(challenge=challenge, entrant=request.user)}
    try:
        entry_window_check(challenge=challenge, user=request.user, now=timezone.now())
    except EntryRefusedError as exc:
        context["refusal"] = exc.message
        return render(request, "submissions/submission_form.html", context, status=exc.status)

    kind = entry_kind_for(challenge)
    if kind == Submission.Kind.COMPOSITION:
        form_class, extra = CompositionEntryForm, {"compositions": composition_list_for_owner(owner=request.user)}
    else:
        form_class, extra = CheckpointEntryForm, {}
    form = form_class(request.POST or None, request.FILES or None, licence=challenge.entry_licence, **extra)
    status, refusal = 200, None
    if request.method == "POST":  # a page answering a POST is a refusal: 400, or the refusal's own status
        status, refusal = 400, _rate_limited(request, form)
        if refusal is None and form.is_valid():
            try:
                submission = _create(request, challenge, form)
            except EntryRefusedError as exc:
                form.add_error(None, exc.message)
                refusal = exc
            else:
                messages.success(request, ACCEPTED_MESSAGE.format(title=submission.title))
                return redirect(_after_submit_url(submission))
    context.update(form=form, kind=kind)
    return refusal_page(render(request, "submissions/submission_form.html", context, status=status), refusal)


@login_required
def composition_list_view(request: HttpRequest) -> HttpResponse:
    """/compositions/: the user's saved compositions and a form to upload one."""
    form = CompositionUploadForm(request.POST or None, request.FILES or None)
    status, refusal = 200, None
    if request.method == "POST":  # a page answering a POST is a refusal: 400, or the refusal's own status
        status, refusal = 400, _rate_limited(request, form)
        if refusal is None and form.is_valid():
            try:
                composition = composition_create(owner=request.user, title=form.cleaned_data["title"],
                                                 midi=form.cleaned_data["midi_file"])
            except EntryRefusedError as exc:
                form.add_error("midi_file", exc.message)
                refusal = exc
            else:
                messages.success(request, COMPOSITION_SAVED_MESSAGE.format(title=composition.title))
                return redirect("submissions:compositions")
    return refusal_page(_composition_page(request, form, status=status), refusal)


def _composition_page(request: HttpRequest, form=None, *, status: int = 200, error: str = "") -> HttpResponse:
    context = {
        "form": form or CompositionUploadForm(), "compositions": composition_list_for_owner(owner=request.user),
        "open_challenges": challenge_list_open_for_entries(kind=Challenge.Kind.MELODY_GO_ROUND), "error": error,
    }
    return render(request, "submissions/composition_list.html", context, status=status)


@login_required
@require_POST
def composition_rename_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        composition = composition_rename(owner=request.user, composition_id=pk, title=request.POST.get("title", ""))
    except EntryRefusedError as exc:
        return _composition_page(request, status=exc.status, error=exc.message)
    messages.success(request, RENAMED_MESSAGE.format(title=composition.title))
    return redirect("submissions:compositions")


@login_required
@require_POST
def composition_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        composition_delete(owner=request.user, composition_id=pk)
    except EntryRefusedError as exc:
        return _composition_page(request, status=exc.status, error=exc.message)
    messages.success(request, DELETED_MESSAGE)
    return redirect("submissions:compositions")


@login_required
@require_POST
def composition_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One click from My compositions: enter a saved composition in an open Melody-Go-Round challenge, through the
    same intake as the entry page and the API (window, quota, licence, MIDI checks, rate limit)."""
    composition = get_object_or_404(Composition, owner=request.user, pk=pk)
    try:
        rate_limit_request(request, scope="upload")
        challenge = challenge_get_for_entry(slug=request.POST.get("challenge", ""))
        submission = submission_create_composition(
            challenge=challenge, entrant=request.user, title=composition.title,
            licence_accepted=request.POST.get("accept_licence") in ("on", "true", "1"), composition_id=composition.pk,
        )
    except ApplicationError as exc:
        return refusal_page(_composition_page(request, error=exc.message), exc)
    messages.success(request, ACCEPTED_MESSAGE.format(title=submission.title))
    return redirect(_after_submit_url(submission))
