"""Fixtures of the studio tests: two entrants with token clients, a private MEDIA_ROOT, small melodies, the
piano roll's notes, and the messages sent to the workers (captured instead of sent)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chartbusters.accounts.roles import Role
from tests.submissions.conftest import midi_bytes, stored_files, token_client  # noqa: F401 - re-exported


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from pathlib import Path

    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def users(make_user):
    return {"entrant": make_user("ella", role=Role.ENTRANT), "other": make_user("otto", role=Role.ENTRANT)}


@pytest.fixture
def api(users):
    return lambda who: token_client(users[who] if who else None)


@pytest.fixture
def sent(monkeypatch):
    """The tasks sent through chartbusters.dispatch.send_task: [(name, args, queue)] (sent at once, not on commit)."""
    calls = []

    def fake_send(name, *, args=(), queue, countdown=None):
        calls.append((name, tuple(args), queue))

    monkeypatch.setattr("generation.services.jobs.send_task", fake_send)
    return calls


def notes_json(n_notes: int = 16, tempo: float = 120) -> str:
    notes = [[60 + (i * 2) % 12, i * 4, 3, 90] for i in range(n_notes)]
    return json.dumps({"tempo": tempo, "time_signature": [4, 4],
                       "tracks": [{"name": "melody", "program": 0, "is_drum": False, "notes": notes}]})


def midi_upload(data: bytes | None = None, name: str = "melody.mid") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else midi_bytes(), content_type="audio/midi")
