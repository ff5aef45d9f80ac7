"""API base: the error body, token auth, challenge list (pagination, filters) and detail, schema and docs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chartbusters.accounts.roles import Role
from chartbusters.api.auth import INVALID_CREDENTIALS_MESSAGE
from tests.conftest import TEST_PASSWORD
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def challenges():
    now = timezone.now()
    day = timedelta(days=1)
    return {
        "upcoming": ChallengeFactory(slug="soon", opens_at=now + day),
        "open": ChallengeFactory(slug="now-open", kind="melody-harvest", opens_at=now - day),
        "judging": ChallengeFactory(slug="in-judging", opens_at=now - 40 * day, closes_at=now - day,
                                    judging_ends_at=now + day),
        "closed": ChallengeFactory(slug="over", opens_at=now - 90 * day, closes_at=now - 60 * day,
                                   judging_ends_at=now - 30 * day),
        "hidden": ChallengeFactory(slug="draft", published=False),
    }


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]


def test_list_is_paginated_and_hides_unpublished(api, challenges):
    body = api.get("/api/challenges/").json()
    assert body["count"] == 4
    assert {c["slug"] for c in body["results"]} == {"soon", "now-open", "in-judging", "over"}
    page = api.get("/api/challenges/?page_size=2").json()
    assert len(page["results"]) == 2
    assert page["next"]
    assert len(api.get(page["next"]).json()["results"]) == 2


@pytest.mark.parametrize("status", ["upcoming", "open", "judging", "closed"])
def test_status_filter(api, challenges, status):
    body = api.get(f"/api/challenges/?status={status}").json()
    assert [c["slug"] for c in body["results"]] == [challenges[status].slug]
    assert body["results"][0]["status"] == status


def test_kind_filter(api, challenges):
    body = api.get("/api/challenges/?kind=melody-harvest").json()
    assert [c["slug"] for c in body["results"]] == ["now-open"]
    both = api.get("/api/challenges/?kind=melody-go-round&status=open").json()
    assert both["count"] == 0


def test_bad_filter_gets_the_error_body_naming_the_field(api, challenges):
    error = assert_error(api.get("/api/challenges/?status=someday"), 400, "invalid")
    assert "status" in error["fields"]
    assert "status" in error["message"]


def test_detail(api, challenges):
    body = api.get("/api/challenges/now-open/").json()
    assert body["slug"] == "now-open"
    assert body["status"] == "open"
    assert body["kind"] == "melody-harvest"
    assert body["quota_text"] == "5 entries per UTC day (resets at 00:00 UTC), 50 in all"
    assert body["time_left"]["until"] == "closes"
    assert 29 * 86400 < body["time_left"]["seconds"] <= 30 * 86400
    assert body["time_left"]["text"].startswith("closes in ")
    assert body["description"].startswith("## Rules")
    assert body["input_melodies"] == 0


def test_unknown_and_unpublished_challenges_are_404_with_the_error_body(api, challenges):
    assert_error(api.get("/api/challenges/nothing-here/"), 404, "not_found")
    assert_error(api.get("/api/challenges/draft/"), 404, "not_found")


def test_staff_see_unpublished_challenges(api, challenges, make_user):
    api.force_authenticate(make_user("olga", role=Role.ORGANIZER))
    assert api.get("/api/challenges/draft/").status_code == 200
    assert api.get("/api/challenges/").json()["count"] == 5


def test_token_then_token_auth(api, make_user):
    make_user("alice", role=Role.ENTRANT)
    response = api.post("/api/auth/token/", {"username": "alice", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    again = api.post("/api/auth/token/", {"username": "alice", "password": TEST_PASSWORD}, format="json")
    assert again.json()["token"] == token
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/challenges/").status_code == 200


def test_token_refused_for_wrong_password_and_missing_fields(api, make_user):
    make_user("alice", role=Role.ENTRANT)
    error = assert_error(api.post("/api/auth/token/", {"username": "alice", "password": "nope"}, format="json"),
                         400, "invalid_credentials")
    assert error["message"] == INVALID_CREDENTIALS_MESSAGE
    error = assert_error(api.post("/api/auth/token/", {"username": "alice"}, format="json"), 400, "invalid")
    assert "password" in error["fields"]


def test_bad_token_is_401_with_the_error_body(api, challenges):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(api.get("/api/challenges/"), 401, "authentication_failed")


def test_other_errors_use_the_error_body(api):
    assert_error(api.get("/api/no-such-endpoint/"), 404, "not_found")
    assert_error(api.delete("/api/challenges/"), 405, "method_not_allowed")
    assert_error(api.get("/api/auth/token/"), 405, "method_not_allowed")
    assert_error(api.post("/api/auth/token/", "{not json", content_type="application/json"), 400, "parse_error")


def test_unexpected_exception_is_a_500_with_the_error_body(api, monkeypatch):
    from chartbusters.challenges import apis

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(apis, "challenge_list", explode)
    error = assert_error(api.get("/api/challenges/"), 500, "server_error")
    assert "boom" not in error["message"]


def test_schema_and_docs_load(api):
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/challenges/", "/api/challenges/{slug}/", "/api/auth/token/"):
        assert path in paths
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_schema_has_no_warnings_and_validates(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "TokenObtainApiInput" in (tmp_path / "schema.yaml").read_text()


def test_docs_load_nothing_from_another_host(api):
    import re

    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert not re.findall(rb"https?://", docs.content), docs.content.decode()[:2000]
    assert not re.findall(rb"""["'(]//\w""", docs.content)  # nor a protocol-relative //host/...
    assert b"/static/drf_spectacular_sidecar/" in docs.content


def test_schema_documents_pages_and_every_error_status(api):
    schema = api.get("/api/schema/?format=json").json()
    for path in ("/api/challenges/", "/api/submissions/"):
        ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schema["components"]["schemas"][ok.rsplit("/", 1)[1]]
        assert {"count", "next", "previous", "results"} <= set(page["properties"])
        params = {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}
        assert params["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}
    error_ref = "#/components/schemas/ErrorResponse"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code.startswith("4")}
            assert "400" in errors, (method, path)
            for response in errors.values():
                assert response["content"]["application/json"]["schema"]["$ref"] == error_ref
    submit = schema["paths"]["/api/challenges/{slug}/submissions/"]["post"]["responses"]
    assert {"413", "422", "429"} <= set(submit)
    assert "Retry-After" in submit["429"]["headers"]
    assert "429" in schema["paths"]["/api/auth/token/"]["post"]["responses"]


@pytest.mark.parametrize("query", ["status=", "kind=", "page_size=", "page_size=0", "page_size=101", "page_size=x"])
def test_empty_or_invalid_list_filters_are_400(api, challenges, query):
    error = assert_error(api.get(f"/api/challenges/?{query}"), 400, "invalid")
    assert query.split("=")[0] in error["fields"]


def test_empty_submission_filters_are_400(api, make_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_user("ella", role=Role.ENTRANT))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for query in ("challenge=", "mine="):
        error = assert_error(api.get(f"/api/submissions/?{query}"), 400, "invalid")
        assert query[:-1] in error["fields"]
    assert api.get("/api/submissions/?challenge=some-slug&mine=1").status_code == 200
