"""Results API bodies and who may see what (docs/competing.md "Results visibility")."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from evaluation.api.views import CSV_LOGIN_MESSAGE, CSV_ORGANIZERS_ONLY_MESSAGE, SUBMISSION_NOT_FOUND_MESSAGE
from evaluation.models import Rendering
from evaluation.selectors.submissions import HIDDEN_NAME
from submissions.models import SubmissionOutput
from submissions.services.moderation import submission_disqualify
from tests.results.conftest import automatic_only, failed_entry, new_entry, scored_entry

pytestmark = pytest.mark.django_db

SUBMISSION_FIELDS = {"id", "challenge", "kind", "status", "progress", "error", "score", "midi_url", "audio_url",
                     "outputs", "created_at"}


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_leaderboard_body(challenge, people):
    automatic_only(challenge)  # no human judging (alpha 0): the board is not blind while open
    first = scored_entry(challenge, people["other"], 81.25, minutes=1)
    scored_entry(challenge, people["entrant"], 64.0, minutes=2)
    rendering = Rendering.objects.create(submission=first, audio="renderings/1/entry.mp3",
                                         pianoroll="renderings/1/entry.png")

    body = client_for(people["entrant"]).get(f"/api/challenges/{challenge.slug}/leaderboard/").json()
    assert body["challenge"] == "bach-off"
    assert body["provisional"] is True
    assert body["count"] == 2
    assert [(r["rank"], r["entrant"], r["submission"], r["score"]) for r in body["rows"]] == [
        (1, "bob", first.pk, 81.25), (2, "ada", body["me"]["submission"], 64.0)]
    assert body["rows"][0]["submitted_at"].startswith(first.created_at.strftime("%Y-%m-%dT%H:%M"))
    assert body["rows"][0]["audio_url"] == f"/files/audio/{rendering.public_id}/"
    assert body["rows"][1]["audio_url"] is None
    assert body["me"]["rank"] == 2
    assert body["me"]["entrant"] == "ada"


def test_leaderboard_is_public_and_limited(challenge, people):
    for i in range(3):
        scored_entry(challenge, people["entrant"] if i == 0 else people["other"], 50.0 + i, minutes=i)
    response = client_for().get(f"/api/challenges/{challenge.slug}/leaderboard/?limit=1&offset=1")
    assert response.status_code == 200
    body = response.json()
    assert body["me"] is None
    assert body["limit"] == 1
    assert body["offset"] == 1
    assert [r["rank"] for r in body["rows"]] == [2]

    bad = client_for().get(f"/api/challenges/{challenge.slug}/leaderboard/?limit=1000")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid"


def test_unpublished_challenge_leaderboard_is_404_except_for_its_organizers(challenge, people):
    challenge.published = False
    challenge.save()
    url = f"/api/challenges/{challenge.slug}/leaderboard/"
    assert client_for(people["entrant"]).get(url).json()["error"]["code"] == "not_found"
    assert client_for(people["outsider_organizer"]).get(url).status_code == 404
    assert client_for(people["organizer"]).get(url).status_code == 200


@pytest.mark.parametrize("suffix", ["leaderboard.csv", "leaderboard/?format=csv"])
def test_csv_only_for_the_challenges_organizers(challenge, people, suffix):
    scored_entry(challenge, people["entrant"], 70.0, minutes=1)
    scored_entry(challenge, people["other"], 90.0, minutes=2)
    url = f"/api/challenges/{challenge.slug}/{suffix}"

    anonymous = client_for().get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["message"] == CSV_LOGIN_MESSAGE
    for who in ("entrant", "judge", "outsider_organizer"):
        denied = client_for(people[who]).get(url)
        assert denied.status_code == 403, who
        assert denied.json()["error"] == {"code": "permission_denied", "message": CSV_ORGANIZERS_ONLY_MESSAGE}

    response = client_for(people["organizer"]).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["rank"], r["entrant"], r["score"]) for r in rows] == [("1", "bob", "90.0000"), ("2", "ada", "70.0000")]
    assert rows[0]["email"] == "bob@example.com"
    assert rows[0]["judged"] == "False"


def test_submission_detail_body_for_its_entrant(challenge, people):
    entry = scored_entry(challenge, people["entrant"], 72.5)
    body = client_for(people["entrant"]).get(f"/api/submissions/{entry.pk}/").json()
    assert set(body) >= SUBMISSION_FIELDS
    assert (body["id"], body["challenge"], body["kind"], body["status"], body["progress"]) == (
        entry.pk, "bach-off", "composition", "scored", 100)
    assert body["score"]["automatic"] == 72.5
    assert body["score"]["final"] == 72.5
    assert body["score"]["parts"]["metrics"]["pitch_range"]["closeness"] == 0.88
    assert body["score"]["flagged_copy"] is False  # organizers and the entrant (it explains a copy penalty)
    assert body["score"]["copy_penalty"] == 1.0
    assert body["midi_url"] == f"/files/entry/{entry.public_id}/"
    assert body["audio_url"] is None
    assert body["outputs"] == []


def test_failed_entry_shows_its_error_to_its_entrant_and_organizers_only(challenge, people):
    entry = failed_entry(challenge, people["entrant"], error="The piece has no notes; add some.")
    url = f"/api/submissions/{entry.pk}/"
    for who in ("entrant", "organizer"):
        body = client_for(people[who]).get(url).json()
        assert (body["status"], body["error"], body["score"]) == ("failed", "The piece has no notes; add some.", None)
    for who in ("other", "judge", "outsider_organizer", None):
        response = client_for(people.get(who)).get(url)
        assert response.status_code == 404, who
        assert response.json()["error"]["message"] == SUBMISSION_NOT_FOUND_MESSAGE.format(id=entry.pk)


def test_others_see_a_ranked_entry_without_private_parts(challenge, people):
    entry = scored_entry(challenge, people["entrant"], 66.0)
    for who in ("other", "judge", None):
        body = client_for(people.get(who)).get(f"/api/submissions/{entry.pk}/").json()
        assert body["status"] == "scored"
        assert body["score"]["final"] == 66.0
        assert body["error"] == ""
    submission_disqualify(submission_id=entry.pk, disqualified_by=people["organizer"], reason="Copy.")
    assert client_for(people["other"]).get(f"/api/submissions/{entry.pk}/").status_code == 404
    assert client_for(people["organizer"]).get(f"/api/submissions/{entry.pk}/").json()["disqualified"] is True


def test_checkpoint_outputs_are_hidden_from_others_until_entries_close(challenge, people):
    entry = scored_entry(challenge, people["entrant"], 66.0)
    type(entry).objects.filter(pk=entry.pk).update(kind="checkpoint")
    SubmissionOutput.objects.create(submission=entry, input_name="hidden-1.mid", midi="submissions/outputs/x.mid")
    # made from a hidden input: the organizers' only until the close, the entrant's included (issue 24)
    assert client_for(people["entrant"]).get(f"/api/submissions/{entry.pk}/").json()["outputs"] == []
    assert len(client_for(people["organizer"]).get(f"/api/submissions/{entry.pk}/").json()["outputs"]) == 1
    assert client_for(people["other"]).get(f"/api/submissions/{entry.pk}/").json()["outputs"] == []
    challenge.closes_at = timezone.now() - timedelta(minutes=1)
    challenge.save()
    assert len(client_for(people["entrant"]).get(f"/api/submissions/{entry.pk}/").json()["outputs"]) == 1
    outputs = client_for(people["other"]).get(f"/api/submissions/{entry.pk}/").json()["outputs"]
    assert [o["input_name"] for o in outputs] == ["input 1"]  # hidden inputs are never named to entrants


def test_my_submissions_list_holds_only_mine(challenge, people):
    mine = [scored_entry(challenge, people["entrant"], 50.0, minutes=1), new_entry(challenge, people["entrant"],
                                                                                 minutes=2)]
    scored_entry(challenge, people["other"], 90.0)
    body = client_for(people["entrant"]).get("/api/submissions/?mine=1").json()
    assert body["count"] == 2
    assert [(s["id"], s["status"]) for s in body["results"]] == [(mine[1].pk, "queued"), (mine[0].pk, "scored")]
    assert client_for().get("/api/submissions/?mine=1").status_code == 401


def test_cached_leaderboard_page_changes_as_soon_as_a_score_lands(challenge, people):
    automatic_only(challenge)  # no human judging (alpha 0): the board is not blind while open
    url = f"/api/challenges/{challenge.slug}/leaderboard/"
    scored_entry(challenge, people["entrant"], 50.0, minutes=1)
    assert [r["entrant"] for r in client_for().get(url).json()["rows"]] == ["ada"]
    assert [r["entrant"] for r in client_for().get(url).json()["rows"]] == ["ada"]  # served from the cache
    scored_entry(challenge, people["other"], 60.0, minutes=2)
    assert [r["entrant"] for r in client_for().get(url).json()["rows"]] == ["bob", "ada"]
    late = scored_entry(challenge, people["other"], 99.0, minutes=3)
    submission_disqualify(submission_id=late.pk, disqualified_by=people["organizer"], reason="Copy.")
    assert [(r["entrant"], r["score"]) for r in client_for().get(url).json()["rows"]] == [("bob", 60.0), ("ada", 50.0)]


def test_judges_see_no_entrant_names_until_results_are_published(challenge, people):
    automatic_only(challenge)  # no human judging (alpha 0): the board is not blind while open
    entry = scored_entry(challenge, people["entrant"], 70.0)
    url = f"/api/challenges/{challenge.slug}/leaderboard/"
    assert [r["entrant"] for r in client_for(people["judge"]).get(url).json()["rows"]] == [HIDDEN_NAME]
    assert client_for(people["judge"]).get(f"/api/submissions/{entry.pk}/").json()["entrant"] == HIDDEN_NAME
    assert [r["entrant"] for r in client_for(people["other"]).get(url).json()["rows"]] == ["ada"]
    challenge.results_published = True
    challenge.save()
    assert [r["entrant"] for r in client_for(people["judge"]).get(url).json()["rows"]] == ["ada"]
