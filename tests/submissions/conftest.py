"""Fixtures of the submissions tests: the five kinds of user, open challenges of both kinds, MIDI bytes, API
clients authenticated with real tokens and a private MEDIA_ROOT so that "no file left behind" can be counted."""

from __future__ import annotations

import io
from pathlib import Path

import pretty_midi
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from chartbusters.accounts.roles import Role
from chartbusters.challenges.models import Challenge
from tests.factories import ChallengeFactory


def midi_bytes(n_notes: int = 16, pitch: int = 60, program: int = 0) -> bytes:
    """A small valid melody: ``n_notes`` quarter notes at 120 bpm."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    inst = pretty_midi.Instrument(program=program)
    for i in range(n_notes):
        inst.notes.append(pretty_midi.Note(velocity=90, pitch=pitch + (i * 2) % 12, start=i * 0.5,
                                           end=i * 0.5 + 0.45))
    pm.instruments.append(inst)
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def stored_files(media_root: Path) -> list[Path]:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


@pytest.fixture
def users(make_user):
    """entrant, other (another entrant), judge, organizer (staff), each with an e-mail address."""
    return {
        "entrant": make_user("ella", role=Role.ENTRANT),
        "other": make_user("otto", role=Role.ENTRANT),
        "judge": make_user("judy", role=Role.JUDGE),
        "organizer": make_user("orla", role=Role.ORGANIZER),
    }


@pytest.fixture
def mgr(users) -> Challenge:
    """An open Melody-Go-Round challenge with quotas 2 per day and 3 in all, judged by judy, run by orla."""
    challenge = ChallengeFactory(slug="mgr", kind=Challenge.Kind.MELODY_GO_ROUND, daily_quota=2, total_quota=3)
    challenge.judges.add(users["judge"])
    challenge.organizers.add(users["organizer"])
    return challenge


@pytest.fixture
def harvest(users) -> Challenge:
    challenge = ChallengeFactory(slug="harvest", kind=Challenge.Kind.MELODY_HARVEST, daily_quota=2, total_quota=3)
    challenge.judges.add(users["judge"])
    challenge.organizers.add(users["organizer"])
    return challenge


def token_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(users):
    """``api("entrant")`` -> an APIClient with that user's token; ``api(None)`` -> anonymous."""
    return lambda who: token_client(users[who] if who else None)


TINY_ARCNN_CONFIG = {"window_steps": 16, "base_channels": 4, "levels": 1, "max_channels": 4, "convs_per_level": 1}


def tiny_arcnn_checkpoint(folder: Path, **overrides) -> tuple[Path, dict]:
    """An untrained arcnn-architecture checkpoint a few KiB big, written by the engine's save_checkpoint:
    (weights path, config.json dict)."""
    import json

    import torch

    from generation.engine.checkpoint import save_checkpoint
    from generation.engine.models.arcnn import spec
    from generation.engine.models.arcnn.model import build_model

    torch.manual_seed(0)
    config = {**TINY_ARCNN_CONFIG, **overrides}
    weights = save_checkpoint(build_model(config), spec=spec, config=config, out=folder,
                              trained_on="nothing: an untrained test model")
    return weights, json.loads((folder / "config.json").read_text())


def post_tiny_checkpoint_entry(api, folder: Path, *, title: str = "Tiny model") -> int:
    """Enter ``tiny_arcnn_checkpoint`` in the demo-like ``harvest`` challenge through the API as ``entrant``: the
    new submission's id (asserting the 202)."""
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    weights, config = tiny_arcnn_checkpoint(folder)
    response = api("entrant").post("/api/challenges/harvest/submissions/", {
        "title": title, "accept_licence": "true",
        "model_card": "An untrained tiny AR-CNN for the integration tests; trained on nothing for no time.",
        "checkpoint": SimpleUploadedFile("model.safetensors", weights.read_bytes()),
        "config": SimpleUploadedFile("config.json", json.dumps(config).encode()),
    }, format="multipart")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def input_melodies(challenge, n: int = 2) -> None:
    """Give a Melody Harvest challenge ``n`` hidden input melodies."""
    from django.core.files.base import ContentFile

    from chartbusters.challenges.models import InputMelody

    for i in range(n):
        InputMelody.objects.create(challenge=challenge, name=f"input-{i + 1}.mid",
                                   midi=ContentFile(midi_bytes(n_notes=8, pitch=60 + i), name=f"input-{i + 1}.mid"))
