"""The studio page (/studio/): compose, generate, listen, chain, save. The page is a template plus one small
script (static/studio/studio.js) that talks to the studio's API; the models and samples it offers come from the
registry and the shipped files (generation.selectors)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from generation.engine.keys import KEY_NAMES
from generation.notes import MAX_STEPS
from generation.selectors import checkpoint_list_own, model_catalog, sample_list
from generation.services.jobs import MAX_VARIATIONS

KEYBOARD_MAX_BARS = 32


@login_required
def studio_view(request: HttpRequest) -> HttpResponse:
    checkpoints = [{"id": c.pk, "name": c.name, "architecture": c.architecture}
                   for c in checkpoint_list_own(owner=request.user)]
    config = {
        "models": model_catalog(), "samples": sample_list(), "checkpoints": checkpoints,
        "maxVariations": MAX_VARIATIONS, "maxBars": KEYBOARD_MAX_BARS, "maxSteps": MAX_STEPS,
        "keyNames": list(KEY_NAMES),
    }
    return render(request, "generation/studio.html", {"studio_config": config, "models": config["models"]})
