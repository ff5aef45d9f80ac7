"""Schemathesis (issue 9 item 9, issue 24 item 5): every API operation against its own OpenAPI schema, in-process
over WSGI, with an entrant's token, positive and negative data, every check; 0 failures, with DEBUG off (production)
and with DEBUG on (development: no HTML error page under /api/).

Bounded: ``SCHEMATHESIS_MAX_EXAMPLES`` examples per operation and generation mode (default 50) with DEBUG off, 2/5 of
that with DEBUG on: 34 operations, about 2,770 cases with DEBUG off and 1,750 with DEBUG on, about 3 minutes on the
shared 2-core CPU. Raise it locally to dig deeper: ``SCHEMATHESIS_MAX_EXAMPLES=200 pytest tests/api``.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from chartbusters.accounts.roles import Role
from tests.conftest import TEST_PASSWORD
from tests.factories import ChallengeFactory

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "50"))
DEBUG_MAX_EXAMPLES = max(1, MAX_EXAMPLES * 2 // 5)  # the DEBUG-on pass: 20 by default, to keep the module short
load_all_checks()
ALL_CHECKS = CHECKS.get_all()


@pytest.fixture
def in_process_wsgi(db):
    """As Django's test client does: keep the test's database connection open across the WSGI requests (the
    request_started/finished handlers would close it, and with it the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _load_schema():
    """The schema as the app serves it (GET /api/schema/ over WSGI: no database needed), loaded at collection."""
    from chartbusters.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    loaded.config.phases.update(phases=["examples", "coverage", "fuzzing"])  # coverage: boundaries, empty values
    return loaded


schema = _load_schema()


@pytest.fixture
def api_data(in_process_wsgi, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.RATE_LIMIT_UPLOAD = "off"  # documented 429s, but a fuzzer's hundreds of uploads are not the point here
    now = timezone.now()
    ChallengeFactory(slug="melody-go-round", kind="melody-go-round", opens_at=now - timedelta(days=1))
    ChallengeFactory(slug="melody-harvest", kind="melody-harvest", opens_at=now - timedelta(days=1))
    make_user("entrant", role=Role.ENTRANT)


@pytest.fixture
def debug_on(settings) -> None:
    """DEBUG on while a request is handled (Django reads it per response: its technical 404 and 500 pages)."""
    settings.DEBUG = True


@pytest.fixture
def entrant_token(api_data):
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user_id=_entrant_id())[0].key


def _entrant_id() -> int:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="entrant").pk


STUDIO_NOTES = json.dumps({"tempo": 120, "time_signature": [4, 4], "tracks": [
    {"name": "melody", "program": 0, "is_drum": False, "notes": [[60 + i % 5, 4 * i, 4, 90] for i in range(8)]}]})


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> dict:
    from tests.submissions.conftest import tiny_arcnn_checkpoint

    weights, config = tiny_arcnn_checkpoint(tmp_path_factory.mktemp("ckpt"))
    return {"checkpoint": weights.read_bytes(), "config": json.dumps(config).encode()}


def _valid_studio_body(path: str, tiny_checkpoint) -> dict | None:
    """The studio's uploads: a schema-valid form is rarely music (random notes, params, weights), so positive cases
    send real music and a real checkpoint, as the log-in sends real credentials; negative cases stay fuzzed."""
    return {
        "/api/generate/": lambda: {"model": "arcnn", "notes": STUDIO_NOTES, "params": "{}"},
        "/api/studio/notes/": lambda: {"sample": "twinkle"},
        "/api/studio/save/": lambda: {"title": "A tune", "notes": STUDIO_NOTES},
        "/api/studio/midi/": lambda: {"title": "v1", "notes": STUDIO_NOTES},
        "/api/models/": lambda: {"name": "mine", **tiny_checkpoint},
        "/api/trainings/": lambda: {"model": "arcnn", "dataset": "chorales", "params": "{}"},
    }.get(path, lambda: None)()


def _call_and_validate(case, token: str, tiny_checkpoint) -> None:
    """Real credentials and real music for positive cases (see _valid_studio_body), then every check."""
    if case.operation.path == "/api/auth/token/" and not case.meta.generation.mode.is_negative:
        case.body = {"username": "entrant", "password": TEST_PASSWORD}  # valid data: real credentials
    if case.operation.method.upper() == "POST" and not case.meta.generation.mode.is_negative:
        body = _valid_studio_body(case.operation.path, tiny_checkpoint)
        if body is not None:
            case.body = body
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=ALL_CHECKS)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=MAX_EXAMPLES, derandomize=True)
def test_the_api_matches_its_schema(case, entrant_token, tiny_checkpoint):
    """DEBUG off, as in production."""
    _call_and_validate(case, entrant_token, tiny_checkpoint)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=DEBUG_MAX_EXAMPLES, derandomize=True)
def test_the_api_matches_its_schema_with_debug_on(case, debug_on, entrant_token, tiny_checkpoint):
    """DEBUG on, as in development: no Django HTML page (technical 404 or 500) answers under /api/ either."""
    _call_and_validate(case, entrant_token, tiny_checkpoint)

