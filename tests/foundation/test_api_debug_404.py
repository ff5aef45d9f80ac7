"""With DEBUG on, an unknown /api/ URL still answers the API's JSON error body (issue 24: HTML 404s under /api/)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("url", ["/api/no-such-thing/", "/api/challenges/no-such-challenge/leaderboard/x/",
                                 "/files/nope/00000000-0000-0000-0000-000000000000/"])
def test_unknown_api_urls_are_json_404s(settings, debug, url):
    settings.DEBUG = debug
    response = Client().get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


def test_pages_keep_their_html_404(settings):
    settings.DEBUG = True
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_empty_format_is_refused(db):
    """Issue 24 (schemathesis): ``?format=`` was accepted although the schema allows only named formats."""
    from tests.factories import ChallengeFactory

    ChallengeFactory(slug="fmt")
    response = Client().get("/api/challenges/fmt/leaderboard/?format=")
    assert response.status_code == 400
    assert "format is empty" in response.json()["error"]["message"]
    assert Client().get("/api/challenges/fmt/leaderboard/?format=json").status_code == 200


def test_file_fields_are_never_empty_in_the_schema(db):
    schema = Client().get("/api/schema/?format=json").json()
    props = schema["components"]["schemas"]["SubmissionCreateApiInput"]["properties"]
    assert props["composition"]["minLength"] == 1
    cancel = schema["paths"]["/api/trainings/{job_id}/cancel/"]["post"]["responses"]
    assert "409" in cancel  # documented: the run has already ended
