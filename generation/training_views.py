"""The pages of training in the browser: the Train page (/train/: choose a model, its parameters and your MIDI files
or the chorales, start), a run's page (/train/<id>/: live progress, time left, the curves as they come in, Cancel;
static/train/train.js polls ``GET /api/trainings/{id}/``) and My models (/models/: each model's card and curves, use
it in the studio, download it, enter it in an open Melody Harvest challenge, delete it). Thin: the services and
selectors do the work; a refusal is shown on the page with its message."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from chartbusters.challenges.models import Challenge
from chartbusters.errors import ApplicationError, refusal_page
from chartbusters.ratelimit import rate_limit_request
from generation.selectors import (
    checkpoint_list_own,
    checkpoint_urls,
    submission_get_own,
    trainable_catalog,
    training_body,
    training_get_for_user,
    training_list_own,
)
from generation.services.studio import user_checkpoint_delete, user_checkpoint_submit
from generation.services.training import training_create
from submissions.selectors import challenge_list_open_for_entries

PARAM_PREFIX = "param-"


def _form_params(request: HttpRequest, model: str) -> dict:
    """The chosen model's parameters from the form (``param-<model>-<name>``; empty fields keep the default)."""
    prefix = f"{PARAM_PREFIX}{model}-"
    return {key[len(prefix):]: value for key, value in request.POST.items() if key.startswith(prefix) and value != ""}


@login_required
def train_view(request: HttpRequest) -> HttpResponse:
    catalog = trainable_catalog()
    refusal = None
    chosen = request.GET.get("model") or (catalog[0]["name"] if catalog else "")
    if request.method == "POST":
        chosen = request.POST.get("model", "")
        try:
            rate_limit_request(request, scope="upload")
            job = training_create(
                owner=request.user, model_name=chosen, params=_form_params(request, chosen),
                files=request.FILES.getlist("files"),
                dataset="chorales" if request.POST.get("source") == "chorales" else None,
                name=request.POST.get("name", ""))
        except ApplicationError as exc:
            refusal = exc
        else:
            refused = job.files.get("refused", []) if job.files else []
            if refused:
                messages.warning(request, f"{len(refused)} file(s) could not be used: " + "; ".join(
                    f"{r['name']}: {r['error']}" for r in refused))
            return redirect("generation:training", job_id=job.pk)
    page = render(request, "generation/train.html", {
        "catalog": catalog, "chosen": chosen, "error": refusal.message if refusal else None,
        "runs": training_list_own(owner=request.user, limit=20), "param_prefix": PARAM_PREFIX, "limits": _limits()})
    return refusal_page(page, refusal)


def _limits() -> dict:
    return {"max_files": settings.TRAINING_MAX_FILES, "max_mb": round(settings.TRAINING_MAX_UPLOAD_BYTES / 2**20),
            "min_files": settings.TRAINING_MIN_FILES, "minutes": round(settings.TRAINING_MAX_SECONDS / 60),
            "max_running": settings.TRAINING_MAX_RUNNING_PER_USER}


@login_required
def training_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = training_get_for_user(user=request.user, job_id=job_id)
    if job is None:
        raise Http404("There is no such training run of yours.")
    return render(request, "generation/training.html", {
        "job": job, "body": training_body(job), "params_text": settings_text(job.params)})


def settings_text(params: dict) -> str:
    """A run's settings as a person writes them: "batch size 8 · learning rate 0.001 · steps 800"."""
    def value(v) -> str:
        if isinstance(v, list | tuple):
            return ", ".join(value(x) for x in v)
        return f"{v:g}" if isinstance(v, float) else str(v)

    return " · ".join(f"{name.replace('_', ' ')} {value(v)}" for name, v in sorted((params or {}).items())) or \
        "the model's defaults"


@login_required
def models_view(request: HttpRequest) -> HttpResponse:
    rows = [{"checkpoint": c, "urls": checkpoint_urls(c), "training": getattr(c, "training", None)}
            for c in checkpoint_list_own(owner=request.user)]
    entered = request.GET.get("entry", "")
    entry = submission_get_own(owner=request.user, submission_id=int(entered)) if entered.isdigit() else None
    return render(request, "generation/models.html", {
        "rows": rows, "open_challenges": challenge_list_open_for_entries(kind=Challenge.Kind.MELODY_HARVEST),
        "entry": entry})


@login_required
@require_POST
def model_submit_view(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    try:
        rate_limit_request(request, scope="upload")
        submission = user_checkpoint_submit(
            owner=request.user, checkpoint_id=checkpoint_id, challenge_slug=request.POST.get("challenge", ""),
            title=request.POST.get("title", ""), licence_accepted=request.POST.get("licence_accepted") == "on")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return refusal_page(redirect("generation:models"), exc)
    # the page then links the entry (?entry=): its outputs, listening and score appear there
    messages.success(request, f"Entered in {submission.challenge.title}: the platform now runs your model on the "
                              "challenge's hidden melodies and scores the results.")
    return redirect(f"{reverse('generation:models')}?entry={submission.pk}#entered")


@login_required
@require_POST
def model_delete_view(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    try:
        user_checkpoint_delete(owner=request.user, checkpoint_id=checkpoint_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Model deleted.")
    return redirect("generation:models")
