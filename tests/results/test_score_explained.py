"""The entry page and the API explain every change to a score: the content check, the repetition factor, the
realness model used and the copy penalty (issue "An automatic judge that cannot be gamed", item 6)."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from evaluation.services.score_store import score_clear_copy_flag, score_store
from submissions.services.lifecycle import submission_mark_scored, submission_mark_scoring
from tests.results.conftest import new_entry

pytestmark = pytest.mark.django_db

CONTENT_OK = {"ok": True, "reason": "", "seconds": 30.0, "notes": 120, "pitches": 14, "repetition": 0.2,
              "repetition_factor": 1.0}
MODEL = {"source": "default: Bach chorales (shipped)", "warning": ""}


def _scored(challenge, entrant, *, automatic, unpenalized, penalty, parts, flagged=False):
    sub = new_entry(challenge, entrant)
    submission_mark_scoring(submission_id=sub.pk)
    score_store(submission_id=sub.pk, automatic=automatic, automatic_unpenalized=unpenalized, copy_penalty=penalty,
                style=0.6, realness=0.7, parts=parts, flagged_copy=flagged)
    submission_mark_scored(submission_id=sub.pk)
    return sub


def test_a_copy_penalty_is_explained_on_the_page_and_in_the_api(challenge, people):
    originality = {"flagged": True, "copied_share": 0.75, "copy_penalty": 0.25,
                   "longest": {"bars": 8.0, "notes": 60, "source": "bwv-123"}}
    sub = _scored(challenge, people["entrant"], automatic=16.25, unpenalized=65.0, penalty=0.25, flagged=True,
                  parts={"content": CONTENT_OK, "realness_model": MODEL, "originality": originality})
    client = Client()
    client.force_login(people["entrant"])
    page = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert "Copy penalty" in page
    assert "bwv-123" in page
    assert "65.0" in page  # the score before the penalty
    assert "Realness from the default: Bach chorales (shipped) model" in page
    data = client.get(f"/api/submissions/{sub.pk}/").json()
    assert data["score"]["copy_penalty"] == 0.25
    assert data["score"]["automatic_unpenalized"] == 65.0
    assert data["score"]["automatic"] == 16.25
    score_clear_copy_flag(submission_id=sub.pk, cleared_by=people["organizer"])
    page = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert "cleared by the organizers" in page
    assert client.get(f"/api/submissions/{sub.pk}/").json()["score"]["automatic"] == 65.0


def test_refused_content_and_the_realness_fallback_are_shown(challenge, people):
    content = {**CONTENT_OK, "ok": False, "reason": "The piece has 1 notes; at least 12 are needed to judge it."}
    warning = "The challenge's own realness model is training; until it is ready, realness comes from the default."
    sub = _scored(challenge, people["entrant"], automatic=0.0, unpenalized=0.0, penalty=1.0,
                  parts={"content": content, "realness_model": {**MODEL, "warning": warning}, "originality": {}})
    client = Client()
    client.force_login(people["entrant"])
    page = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert "at least 12 are needed" in page
    assert html.escape(warning) in page
