"""Reviews through the API and the pages, both rounds, raw and leniency-adjusted final scores, publication, and who
sees what before and after it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from chartbusters.errors import ApplicationError
from evaluation.judging import standardize
from evaluation.models import JudgeAssignment, JudgingSettings, LeaderboardEntry, Score
from evaluation.selectors.leaderboard import leaderboard_is_provisional
from evaluation.services.judging import (
    judge_assignment_save,
    judging_assign,
    judging_final_round_start,
    judging_publish,
)

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def review_all(contest, marks_of) -> None:
    """Every open review submitted with ``marks_of(judge_index, entry_index)`` = (o, b, e)."""
    entry_index = {e.pk: i for i, e in enumerate(contest.entries)}
    judge_index = {j.pk: i for i, j in enumerate(contest.judges)}
    for a in JudgeAssignment.objects.filter(challenge=contest.challenge).exclude(status="submitted"):
        o, b, e = marks_of(judge_index[a.judge_id], entry_index[a.submission_id])
        judge_assignment_save(assignment_id=a.pk, judge=a.judge, originality=o, balance=b, emotion=e,
                              comment=f"notes {a.pk}", submit=True)


def test_the_api_lists_shows_and_scores_only_the_judges_own_assignments(make_contest):
    contest = make_contest(n_entrants=4, n_judges=3, k=2)
    judging_assign(challenge_id=contest.challenge.pk, by=contest.organizer, seed=3)
    judge, other_judge = contest.judges[0], contest.judges[1]
    mine = list(JudgeAssignment.objects.filter(judge=judge).order_by("entry_number"))
    theirs = JudgeAssignment.objects.filter(judge=other_judge).first()

    listing = api(judge).get("/api/judging/assignments/").json()
    assert listing["count"] == len(mine)
    assert {row["id"] for row in listing["results"]} == {a.pk for a in mine}
    assert api(judge).get(f"/api/judging/assignments/{theirs.pk}/").status_code == 404
    assert api(contest.entrants[0]).get("/api/judging/assignments/").json()["count"] == 0
    assert APIClient().get("/api/judging/assignments/").status_code == 401

    first = mine[0]
    detail = api(judge).get(f"/api/judging/assignments/{first.pk}/").json()
    assert detail["entry_number"] == first.entry_number
    assert detail["automatic"] is None  # hidden unless the organizers show it
    audio = detail["listen"][0]["audio_url"]
    assert audio == f"/judging/assignments/{first.pk}/files/audio-0/"  # the review's own URL, not the public one
    assert api(judge).get(audio).status_code == 200
    assert api(other_judge).get(audio).status_code == 404
    assert api(judge).get(f"/judging/assignments/{first.pk}/files/audio-9/").status_code == 404
    assert (detail["position"], detail["total"], detail["done"]) == (1, len(mine), 0)

    url = f"/api/judging/assignments/{first.pk}/score/"
    draft = api(judge).post(url, {"originality": 4, "comment": "promising"}, format="json")
    assert draft.status_code == 200
    assert draft.json()["status"] == "draft"
    assert draft.json()["originality"] == 4
    missing = api(judge).post(url, {"originality": 4, "final": True}, format="json")
    assert missing.status_code == 422
    assert "balance, emotion missing" in missing.json()["error"]["message"]
    bad = api(judge).post(url, {"originality": 6, "balance": 3, "emotion": 3, "final": True}, format="json")
    assert bad.status_code == 400
    assert "originality" in bad.json()["error"]["fields"]
    assert api(other_judge).post(url, {"originality": 3}, format="json").status_code == 404
    done = api(judge).post(url, {"originality": 4, "balance": 3, "emotion": 5, "comment": "lovely", "final": True},
                           format="json")
    assert done.json()["status"] == "submitted"
    assert done.json()["done"] == 1
    again = api(judge).post(url, {"originality": 1, "balance": 1, "emotion": 1, "final": True}, format="json")
    assert again.status_code == 409
    first.refresh_from_db()
    assert (first.originality, first.balance, first.emotion, first.comment) == (4, 3, 5, "lovely")

    settings = JudgingSettings.objects.get(challenge=contest.challenge)
    settings.show_automatic = True
    settings.save()
    shown = api(judge).get(f"/api/judging/assignments/{first.pk}/").json()["automatic"]
    assert shown == contest.automatic[first.submission_id]


def test_the_judge_page_saves_drafts_and_submits(make_contest):
    contest = make_contest(n_entrants=3, n_judges=2, k=2)
    judging_assign(challenge_id=contest.challenge.pk, by=contest.organizer, seed=0)
    judge = contest.judges[0]
    client = Client()
    client.force_login(judge)
    queue = client.get("/judging/").content.decode()
    assert "0 of 3" in queue
    a, b = JudgeAssignment.objects.filter(judge=judge).order_by("entry_number")[:2]
    page = client.get(f"/judging/assignments/{a.pk}/").content.decode()
    assert f"Entry #{a.entry_number}" in page
    assert "Noise: no musical idea" in page  # what each level means
    refused = client.post(f"/judging/assignments/{a.pk}/", {"originality": "5", "action": "submit"})
    assert refused.status_code == 422
    assert "balance, emotion missing" in refused.content.decode()
    assert 'value="5" checked' in refused.content.decode()  # the judge's input is kept
    saved = client.post(f"/judging/assignments/{a.pk}/", {"originality": "5", "comment": "hm", "action": "draft"})
    assert saved.status_code == 302
    a.refresh_from_db()
    assert (a.status, a.originality, a.comment) == ("draft", 5, "hm")
    sent = client.post(f"/judging/assignments/{a.pk}/", {"originality": "5", "balance": "4", "emotion": "3",
                                                        "action": "submit"})
    assert sent["Location"] == f"/judging/assignments/{b.pk}/"  # on to the next entry
    assert "1 of 3" in client.get("/judging/").content.decode()
    assert client.get(f"/judging/assignments/{JudgeAssignment.objects.exclude(judge=judge).first().pk}/"
                      ).status_code == 404


def test_raw_and_adjusted_final_scores_on_hand_numbers(make_contest):
    # Two judges review both entries: judge 0 is lenient (5s and 4s), judge 1 harsh (2s and 1s).
    contest = make_contest(n_entrants=2, n_judges=2, k=2, automatic=[60.0, 50.0],
                           judge_scores=JudgingSettings.JudgeScores.ADJUSTED)
    challenge = contest.challenge
    judging_assign(challenge_id=challenge.pk, by=contest.organizer)
    marks = {(0, 0): (5, 5, 5), (0, 1): (4, 4, 4), (1, 0): (2, 2, 2), (1, 1): (1, 1, 1)}
    review_all(contest, lambda j, e: marks[(j, e)])
    raw = {(j, e): 20.0 * m[0] for (j, e), m in marks.items()}  # 100, 80, 40, 20
    adjusted = standardize((j, e, x) for (j, e), x in raw.items())
    judging_publish(challenge_id=challenge.pk, by=contest.organizer)
    for e, entry in enumerate(contest.entries):
        score = Score.objects.get(submission=entry)
        expected_judge = (adjusted[(0, e)] + adjusted[(1, e)]) / 2
        assert score.parts["judge_score"] == pytest.approx(expected_judge)
        assert score.final == pytest.approx(0.5 * contest.automatic[entry.pk] + 0.5 * expected_judge)
        assert score.parts["judge_scores"] == "adjusted"
        assert sorted(j["raw"] for j in score.parts["judges"]) == sorted([raw[(0, e)], raw[(1, e)]])
        assert score.parts["judge_score"] != pytest.approx((raw[(0, e)] + raw[(1, e)]) / 2)  # not the raw mean
    # Entry 0 beat entry 1 with both judges: adjusted, both judges agree on a spread around the mean (60).
    assert Score.objects.get(submission=contest.entries[0]).parts["judge_score"] > 60 > \
        Score.objects.get(submission=contest.entries[1]).parts["judge_score"]


def test_raw_scores_by_default(make_contest):
    contest = make_contest(n_entrants=2, n_judges=2, k=2, automatic=[60.0, 50.0])
    judging_assign(challenge_id=contest.challenge.pk, by=contest.organizer)
    review_all(contest, lambda j, e: (5, 4, 3) if j == 0 else (2, 2, 2))
    judging_publish(challenge_id=contest.challenge.pk, by=contest.organizer)
    for entry in contest.entries:
        score = Score.objects.get(submission=entry)
        assert score.parts["judge_score"] == pytest.approx((80.0 + 40.0) / 2)
        assert score.final == pytest.approx(0.5 * contest.automatic[entry.pk] + 0.5 * 60.0)


def test_two_rounds(make_contest):
    contest = make_contest(n_entrants=5, n_judges=5, k=2, automatic=[50.0] * 5, two_rounds=True,
                           final_round_top_n=2, final_round_judges_per_entry=3)
    challenge = contest.challenge
    judging_assign(challenge_id=challenge.pk, by=contest.organizer, seed=2)
    with pytest.raises(ApplicationError, match="reviews of round 1 are not submitted"):
        judging_final_round_start(challenge_id=challenge.pk, by=contest.organizer)
    # Round 1: entry i gets marks i+1 from everyone: entries 4 and 3 are the finalists.
    review_all(contest, lambda j, e: (e + 1,) * 3)
    with pytest.raises(ApplicationError, match="Start the final round"):
        judging_publish(challenge_id=challenge.pk, by=contest.organizer)
    n = judging_final_round_start(challenge_id=challenge.pk, by=contest.organizer, seed=2)
    assert n == 2 * 3
    finalists = {contest.entries[4].pk, contest.entries[3].pk}
    round_two = JudgeAssignment.objects.filter(challenge=challenge, round=2)
    assert set(round_two.values_list("submission_id", flat=True)) == finalists
    heard = {s: set(JudgeAssignment.objects.filter(submission_id=s, round=1).values_list("judge_id", flat=True))
             for s in finalists}
    repeats = 0
    for submission_id in finalists:  # more judges, preferably ones who have not heard it
        second = set(round_two.filter(submission_id=submission_id).values_list("judge_id", flat=True))
        assert len(second) == 3
        repeats += len(heard[submission_id] & second)
    # Every judge takes 1 or 2 of the 6 reviews: only a judge who heard both finalists must hear one again.
    a, b = finalists
    assert repeats == len(heard[a] & heard[b])
    # Round 2 reverses the finalists' order: its marks replace round 1's for them.
    review_all(contest, lambda j, e: (1, 1, 1) if e == 4 else (3, 3, 3))
    judging_publish(challenge_id=challenge.pk, by=contest.organizer)
    scores = {e: Score.objects.get(submission=entry) for e, entry in enumerate(contest.entries)}
    assert scores[4].parts["judge_score"] == pytest.approx(20.0)
    assert scores[3].parts["judge_score"] == pytest.approx(60.0)
    assert {j["round"] for j in scores[4].parts["judges"]} == {2}
    assert scores[0].parts["judge_score"] == pytest.approx(20.0)  # not a finalist: round 1


def test_publication_flow_and_visibility(make_contest, django_capture_on_commit_callbacks):
    contest = make_contest(n_entrants=3, n_judges=2, k=2, automatic=[70.0, 60.0, 50.0])
    challenge = contest.challenge
    entrant, entry = contest.entrants[2], contest.entries[2]
    with pytest.raises(ApplicationError, match="No judge is assigned"):
        judging_publish(challenge_id=challenge.pk, by=contest.organizer)
    judging_assign(challenge_id=challenge.pk, by=contest.organizer)
    review_all(contest, lambda j, e: (5, 5, 5) if e == 2 else (1, 1, 1))
    # All reviews are in, but before publication nobody else sees a judge score or comment.
    assert leaderboard_is_provisional(challenge=challenge)
    body = api(entrant).get(f"/api/submissions/{entry.pk}/").json()
    assert "judges" not in str(body["score"]["parts"]) or body["score"]["parts"]["judges"] == []
    assert "notes" not in str(body)
    board = api(entrant).get(f"/api/challenges/{challenge.slug}/leaderboard/").json()
    assert board["provisional"] is True
    assert [row["score"] for row in board["rows"]] == [70.0, 60.0, 50.0]
    assert all(row["judge_score"] is None for row in board["rows"])
    with pytest.raises(ApplicationError):
        judging_publish(challenge_id=challenge.pk, by=contest.judges[0])  # only organizers publish

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        judging_publish(challenge_id=challenge.pk, by=contest.organizer)
    challenge.refresh_from_db()
    assert challenge.results_published
    assert not leaderboard_is_provisional(challenge=challenge)
    board = api(entrant).get(f"/api/challenges/{challenge.slug}/leaderboard/").json()
    assert board["provisional"] is False
    top = board["rows"][0]
    assert top["submission"] == entry.pk  # 0.5 * 50 + 0.5 * 100 = 75 beats 0.5 * 70 + 0.5 * 20 = 45
    assert top["score"] == pytest.approx(75.0)
    assert top["judge_score"] == pytest.approx(100.0)
    assert top["automatic"] == pytest.approx(50.0)
    detail = api(entrant).get(f"/api/submissions/{entry.pk}/").json()
    judges = detail["score"]["parts"]["judges"]
    assert len(judges) == 2
    assert all("judge" not in j for j in judges)  # judges stay anonymous
    assert {j["comment"] for j in judges} <= {f"notes {a.pk}" for a in JudgeAssignment.objects.all()}
    page = Client().get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    assert "Final results" in page
    assert "0.5 × judges" in page
    entry_page = Client()
    entry_page.force_login(entrant)
    html = entry_page.get(f"/submissions/{entry.pk}/").content.decode()
    assert "The judges&#x27; reviews" in html or "The judges' reviews" in html
    # Every entrant is told, with a link to their entry.
    assert len(mail.outbox) == 3
    to_entrant = next(m for m in mail.outbox if m.to == [entrant.email])
    assert f"/submissions/{entry.pk}/" in to_entrant.body
    with pytest.raises(ApplicationError, match="already published"):
        judging_publish(challenge_id=challenge.pk, by=contest.organizer)
    a = JudgeAssignment.objects.first()
    with pytest.raises(ApplicationError, match="published"):
        judge_assignment_save(assignment_id=a.pk, judge=a.judge, originality=1, balance=1, emotion=1, submit=True)


def test_publishing_waits_for_every_review(make_contest):
    contest = make_contest(n_entrants=2, n_judges=2, k=2)
    judging_assign(challenge_id=contest.challenge.pk, by=contest.organizer)
    a = JudgeAssignment.objects.first()
    judge_assignment_save(assignment_id=a.pk, judge=a.judge, originality=3, balance=3, emotion=3, submit=True)
    with pytest.raises(ApplicationError, match="3 reviews of round 1 are not submitted") as refused:
        judging_publish(challenge_id=contest.challenge.pk, by=contest.organizer)
    assert refused.value.status == 409
    assert not LeaderboardEntry.objects.filter(judged=True).exists()  # nothing half-stored


def test_only_the_top_n_judged_rank_first(make_contest):
    contest = make_contest(n_entrants=3, n_judges=2, k=2, automatic=[90.0, 60.0, 50.0],
                           selection=JudgingSettings.Selection.TOP_AUTOMATIC, selection_top_n=2)
    judging_assign(challenge_id=contest.challenge.pk, by=contest.organizer)
    review_all(contest, lambda j, e: (1, 1, 1))  # 20: finalists fall to 55 and 40, below the unjudged 50
    judging_publish(challenge_id=contest.challenge.pk, by=contest.organizer)
    rows = api(contest.organizer).get(f"/api/challenges/{contest.challenge.slug}/leaderboard/").json()["rows"]
    assert [r["submission"] for r in rows] == [e.pk for e in contest.entries]
    assert [r["judged"] for r in rows] == [True, True, False]


def test_the_organizers_overview(make_contest):
    contest = make_contest(n_entrants=3, n_judges=3, k=2)
    client = Client()
    client.force_login(contest.organizer)
    url = f"/judging/{contest.challenge.slug}/"
    assert "No judge is assigned yet" in client.get(url).content.decode()
    assert client.post(url, {"action": "assign"}).status_code == 302
    page = client.get(url).content.decode()
    assert "0 of 6" in page
    assert contest.entrants[0].username in page  # organizers see who entered what
    # Reassign from the page: a judge free of that entry takes the review; bad input is a message, not a 500.
    review = JudgeAssignment.objects.filter(challenge=contest.challenge).first()
    on_entry = set(JudgeAssignment.objects.filter(submission=review.submission).values_list("judge_id", flat=True))
    free = next(j for j in contest.judges if j.pk not in on_entry)
    moved = client.post(url, {"action": "reassign", "assignment": review.pk, "judge": free.pk}, follow=True)
    assert f"review reassigned to {free.username}" in moved.content.decode()
    assert client.post(url, {"action": "reassign", "assignment": "x", "judge": ""}).status_code == 400
    assert client.post(url, {"action": "nonsense"}).status_code == 400
    review_all(contest, lambda j, e: (3, 3, 3) if j else (5, 5, 5))
    page = client.get(url).content.decode()
    assert "6 of 6" in page
    assert 'id="alpha"' in page
    assert client.post(url, {"action": "publish"}).status_code == 302
    assert "Results published" in client.get(url).content.decode()
    judge = Client()
    judge.force_login(contest.judges[0])
    assert judge.get(url).status_code == 404
