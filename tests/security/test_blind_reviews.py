"""Blind reviews (issue 14): nothing a judge reaches for an assignment (the queue and entry pages, the file URLs
they hold, the API) names the entrant: no name, handle, e-mail, user id, title or uploaded file name."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from chartbusters.accounts.roles import Role
from evaluation.models import JudgeAssignment, Rendering
from evaluation.services.judging import judging_assign
from submissions.models import Submission
from tests.factories import ChallengeFactory, entry_create, entry_score, output_create, rendering_create
from tests.judging.conftest import close_entries

pytestmark = pytest.mark.django_db

ENTRANT_ID = 987654
HANDLE = "zephyrine_q"
FULL_NAME = ("Zephyrine", "Quackenbush")
EMAIL = "zephyrine.secret@example.org"
UPLOADED = "zephyrine-final-mix-v7.mid"
TITLE = "Zephyrine's lullaby"


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8", errors="replace") + "\n" + "\n".join(f"{k}: {v}" for k, v in response.items())


def _secrets_in(text: str) -> list[str]:
    found = [s for s in (HANDLE, EMAIL, UPLOADED, TITLE, *FULL_NAME) if s.lower() in text.lower()]
    if re.search(rf"\b{ENTRANT_ID}\b", text):
        found.append(f"user id {ENTRANT_ID}")
    return found


@pytest.fixture
def blind(db, media_root, make_user):
    challenge = ChallengeFactory(slug="blind-reviews", kind="melody-harvest")
    organizer = make_user("blind_org", role=Role.ORGANIZER)
    challenge.organizers.add(organizer)
    judge = make_user("blind_judge", role=Role.JUDGE)
    challenge.judges.add(judge)
    entrant = make_user(HANDLE, role=Role.ENTRANT, id=ENTRANT_ID, first_name=FULL_NAME[0], last_name=FULL_NAME[1])
    entrant.email = EMAIL
    entrant.save(update_fields=["email"])
    entry = entry_score(entry_create(challenge=challenge, entrant=entrant, title=TITLE, original_filename=UPLOADED))
    rendering_create(entry)
    checkpoint = entry_create(challenge=challenge, entrant=make_user("second_entrant", role=Role.ENTRANT),
                              kind="checkpoint", title=f"{HANDLE} model")
    output = output_create(checkpoint, input_name="secret input.mid")
    rendering_create(checkpoint, output=output)
    entry_score(checkpoint)
    close_entries(challenge)
    from evaluation.models import JudgingSettings

    JudgingSettings.objects.create(challenge=challenge, judges_per_entry=1)
    judging_assign(challenge_id=challenge.pk, by=organizer)
    return judge


def test_nothing_a_judge_reaches_names_the_entrant(blind):
    judge = blind
    page = Client()
    page.force_login(judge)
    api = APIClient()
    api.force_authenticate(judge)
    texts = {"queue": _text(page.get("/judging/")), "API list": _text(api.get("/api/judging/assignments/"))}
    urls = set()
    for a in JudgeAssignment.objects.filter(judge=judge):
        texts[f"page {a.pk}"] = _text(page.get(f"/judging/assignments/{a.pk}/"))
        detail = api.get(f"/api/judging/assignments/{a.pk}/")
        assert detail.status_code == 200
        texts[f"API {a.pk}"] = _text(detail)
        body = detail.json()
        assert not {"entrant", "entrant_id", "user", "submission", "title"} & set(body)
        urls |= {v for item in body["listen"] for v in (item["audio_url"], item["pianoroll_url"]) if v}
        if body["midi_url"]:
            urls.add(body["midi_url"])
        texts[f"API score {a.pk}"] = _text(api.post(f"/api/judging/assignments/{a.pk}/score/",
                                                    {"originality": 3}, format="json"))
    assert len(urls) >= 4  # the entry's audio, piano roll and MIDI; the output's audio and piano roll
    public = {f"/files/{kind}/{token}/" for kind in ("audio", "pianoroll")
              for token in Rendering.objects.values_list("public_id", flat=True)}
    public |= {f"/files/entry/{token}/" for token in Submission.objects.values_list("public_id", flat=True)}
    assert not urls & public  # nothing matches an entry number with the public leaderboard's files
    for url in urls:
        assert not _secrets_in(url), url
        response = page.get(url)
        assert response.status_code == 200, url
        texts[url] = _text(response)  # headers too: the download name
    leaks = {where: _secrets_in(text) for where, text in texts.items() if _secrets_in(text)}
    assert not leaks, json.dumps(leaks, indent=1)


def test_the_organizers_overview_does_name_entrants(blind):
    """The check above can fail: the same words are on the organizers' page."""
    from django.contrib.auth import get_user_model

    organizer = get_user_model().objects.get(username="blind_org")
    client = Client()
    client.force_login(organizer)
    assert HANDLE in _secrets_in(_text(client.get("/judging/blind-reviews/")))
