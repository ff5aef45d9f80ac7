"""Stored files: random names, access-checked URLs and how the bytes leave (docs/design.md section 2,
docs/operations.md "Files").

Nothing under MEDIA_ROOT is served directly. A file is named by its row's random ``public_id`` and its kind:
``/files/<kind>/<uuid>/``; the view there (evaluation.views.files) checks who may read it
(evaluation.selectors.access) and then hands the bytes over as ``CHARTBUSTERS_FILE_SERVING`` says:

- ``django`` (default, the demo): Django streams the file (FileResponse);
- ``x-accel-redirect`` (nginx): an empty response with ``X-Accel-Redirect: <CHARTBUSTERS_FILE_INTERNAL_PREFIX><name>``,
  which nginx answers from an ``internal`` location;
- ``x-sendfile`` (Apache mod_xsendfile, lighttpd): ``X-Sendfile: <absolute path>``.

Stored names are random (``<folder>/<uuid4 hex><extension>``): no user id, slug or uploaded file name is on disk or
in a URL. Downloads get a harmless name in Content-Disposition (``entry-1a2b3c4d.mid``).

This module is the lowest layer (chartbusters/): every app may import it; it imports no app.
"""

from __future__ import annotations

import mimetypes
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse


class FileKind(StrEnum):
    """The ``<kind>`` of ``/files/<kind>/<uuid>/``: which row (by its public_id) and which of its files."""

    ENTRY = "entry"  # Submission.midi
    CHECKPOINT = "checkpoint"  # Submission.checkpoint
    OUTPUT = "output"  # SubmissionOutput.midi
    OUTPUT_AUDIO = "output-audio"  # SubmissionOutput.audio
    AUDIO = "audio"  # Rendering.audio (of an entry or of an output)
    PIANOROLL = "pianoroll"  # Rendering.pianoroll
    INPUT = "input"  # InputMelody.midi (hidden)
    REFERENCE = "reference"  # ReferenceFile.midi
    COMPOSITION = "composition"  # Composition.midi (private)
    # The studio's (generation.files receives chartbusters.signals.file_read_requested for them): the owner's.
    JOB_INPUT = "job-input"  # GenerationJob.input_midi
    JOB_OUTPUT = "job-output"  # GenerationJob.output_midi
    JOB_AUDIO = "job-audio"  # GenerationJob.audio
    MODEL_BUNDLE = "model"  # UserCheckpoint.bundle (zip: weights, config, card, plots)
    MODEL_LOSS = "model-loss"  # UserCheckpoint.loss_plot
    MODEL_MEASURES = "model-measures"  # UserCheckpoint.measures_plot


SERVING_MODES = ("django", "x-accel-redirect", "x-sendfile")
_EXTENSION = re.compile(r"\.[a-z0-9]{1,16}")
CONTENT_TYPES = {
    ".mid": "audio/midi",
    ".midi": "audio/midi",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".png": "image/png",
    ".safetensors": "application/octet-stream",
    ".zip": "application/zip",
}
IMMUTABLE_MAX_AGE_SECONDS = 365 * 24 * 3600
MISSING_FILE_MESSAGE = "The file is no longer stored."
INLINE_TYPES = ("audio/mpeg", "audio/ogg", "audio/wav", "image/png")  # played or shown in the page


def random_name(folder: str, filename: str | None) -> str:
    """``folder/<uuid4 hex><ext>``: only the (lower-case, plain) extension of the uploaded name is kept."""
    suffix = PurePosixPath(filename or "").suffix.lower()
    return f"{folder}/{uuid.uuid4().hex}{suffix if _EXTENSION.fullmatch(suffix) else ''}"


def file_url(kind: str, token) -> str:
    """The access-checked URL of a stored file: ``/files/<kind>/<uuid>/``."""
    return reverse("files:download", kwargs={"kind": kind, "token": uuid.UUID(str(token))})


@dataclass(frozen=True)
class StoredFile:
    """A file a viewer may read: its storage name and the harmless name it is downloaded as."""

    name: str
    download_name: str
    immutable: bool = False  # the bytes behind this URL never change: browsers may keep them (a year, private)

    @property
    def content_type(self) -> str:
        suffix = PurePosixPath(self.name).suffix.lower()
        return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(self.name)[0] or "application/octet-stream"

    @property
    def inline(self) -> bool:
        return self.content_type in INLINE_TYPES


def download_name(stem: str, token, stored_name: str) -> str:
    """E.g. ``entry-1a2b3c4d.mid``: the kind, the first 8 hex digits of the token, the stored extension."""
    return f"{stem}-{uuid.UUID(str(token)).hex[:8]}{PurePosixPath(stored_name).suffix.lower()}"


def file_serving_mode() -> str:
    mode = getattr(settings, "CHARTBUSTERS_FILE_SERVING", "django")
    if mode not in SERVING_MODES:
        raise ImproperlyConfigured(
            f"CHARTBUSTERS_FILE_SERVING is {mode!r}; use one of {', '.join(SERVING_MODES)}."
        )
    return mode


def _content_disposition(stored: StoredFile) -> str:
    return f'{"inline" if stored.inline else "attachment"}; filename="{stored.download_name}"'


def file_response(stored: StoredFile) -> HttpResponse:
    """The response that delivers ``stored``: streamed by Django, or handed to the web server."""
    mode = file_serving_mode()
    if mode == "django":
        try:
            handle = default_storage.open(stored.name, "rb")
        except FileNotFoundError as exc:  # the row outlived its file: nothing to give
            raise Http404(MISSING_FILE_MESSAGE) from exc
        response = FileResponse(handle, content_type=stored.content_type)
    else:
        response = HttpResponse(content_type=stored.content_type)
        if mode == "x-accel-redirect":
            prefix = settings.CHARTBUSTERS_FILE_INTERNAL_PREFIX.rstrip("/") + "/"
            response["X-Accel-Redirect"] = prefix + quote(stored.name)
        else:
            response["X-Sendfile"] = default_storage.path(stored.name)
    response["Content-Disposition"] = _content_disposition(stored)
    if stored.immutable:  # written once (a studio job's files): fetched once per browser, never revalidated
        response["Cache-Control"] = f"private, max-age={IMMUTABLE_MAX_AGE_SECONDS}, immutable"
    else:
        response["Cache-Control"] = "private, no-cache"  # access depends on the viewer and on the challenge's phase
    response["X-Content-Type-Options"] = "nosniff"
    return response
