"""Fixtures of the training tests: real folk tunes (examples/folk/reference) as uploads, a private MEDIA_ROOT,
the tasks sent to the workers (captured), and the parameters of a tiny but real AR-CNN run."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.studio.conftest import api, media_root, users  # noqa: F401 - fixtures re-exported
from tests.submissions.conftest import midi_bytes, stored_files, token_client  # noqa: F401 - re-exported

REPO = Path(__file__).resolve().parents[2]
FOLK = sorted((REPO / "examples" / "folk" / "reference").glob("*.mid"))
# A real AR-CNN run from scratch that takes seconds: the smallest model the bounds allow, a few steps.
TINY_PARAMS = {"start": "scratch", "model_size": 4, "steps": 3, "batch_size": 2}


def folk_uploads(n: int = 4) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(p.name, p.read_bytes(), content_type="audio/midi") for p in FOLK[:n]]


def zip_upload(members: dict[str, bytes], name: str = "tunes.zip") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def params_json(params: dict) -> str:
    return json.dumps(params)


@pytest.fixture
def sent_trainings(monkeypatch):
    """The tasks the training service sent: [(name, args, queue)] (recorded at once, not run)."""
    calls = []

    def fake_send(name, *, args=(), queue, countdown=None):
        calls.append((name, tuple(args), queue))

    monkeypatch.setattr("generation.services.training.send_task", fake_send)
    return calls
