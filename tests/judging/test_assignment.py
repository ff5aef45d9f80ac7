"""Assignment: on random populations every entry gets k distinct judges, loads differ by at most one, no judge
reviews an entrant they are connected to; organizers reassign; a judge who leaves is replaced; assignment happens
by itself when entries close."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from chartbusters.errors import ApplicationError
from evaluation.judging import AssignmentImpossibleError, assign
from evaluation.models import JudgeAssignment, JudgeConflict, JudgingSettings, Like, Listen
from evaluation.services.judging import (
    judge_assignment_reassign,
    judge_assignment_save,
    judging_assign,
    judging_assign_due,
)
from tests.judging.conftest import close_entries

pytestmark = pytest.mark.django_db


def _check(plan: dict, *, k: int, judges: list, forbidden: set) -> None:
    loads = Counter(j for chosen in plan.values() for j in chosen)
    for entry, chosen in plan.items():
        assert len(chosen) == k, entry
        assert len(set(chosen)) == k, entry
        assert not any((entry, j) in forbidden for j in chosen), entry
    counts = [loads.get(j, 0) for j in judges]
    assert max(counts) - min(counts) <= 1, counts


@pytest.mark.parametrize("fast", [True, False], ids=["greedy-then-flow", "flow"])
@pytest.mark.parametrize("seed", range(30))
def test_random_populations_keep_every_rule(seed, fast):
    rng = random.Random(seed)
    n_judges = rng.randint(3, 12)
    k = rng.randint(1, min(5, n_judges - 1))
    entries = list(range(rng.randint(1, 60)))
    judges = [f"j{i}" for i in range(n_judges)]
    # Each judge is connected to a few entrants (never so many that an entry lacks k free judges).
    forbidden = set()
    for entry in entries:
        for judge in rng.sample(judges, rng.randint(0, n_judges - k)):
            if rng.random() < 0.15:
                forbidden.add((entry, judge))
    plan = assign(entries=entries, judges=judges, k=k, forbidden=forbidden, seed=seed, fast=fast)
    assert set(plan) == set(entries)
    _check(plan, k=k, judges=judges, forbidden=forbidden)


def test_the_draw_is_random():
    entries, judges = list(range(12)), list("abcdef")
    plans = {tuple(tuple(sorted(c)) for c in assign(entries=entries, judges=judges, k=2, seed=s).values())
             for s in range(5)}
    assert len(plans) > 1


def test_it_says_what_is_wrong_when_the_rules_cannot_hold():
    with pytest.raises(AssignmentImpossibleError, match="needs 3 judges but the challenge has 2"):
        assign(entries=[1, 2], judges=["a", "b"], k=3)
    with pytest.raises(AssignmentImpossibleError, match="Entry #7 needs 2 judges but only 1"):
        assign(entries=[1], judges=["a", "b"], k=2, forbidden={(1, "a")}, labels={1: 7})
    # Three entries, k = 1, two judges: loads 1-2; judge b may review none of them -> no balanced plan.
    with pytest.raises(AssignmentImpossibleError, match="loads within one"):
        assign(entries=[1, 2, 3], judges=["a", "b"], k=1, forbidden={(1, "b"), (2, "b"), (3, "b")})


def test_the_final_round_prefers_judges_who_have_not_heard_the_entry():
    plan = assign(entries=[1, 2], judges=["a", "b", "c", "d"], k=2, avoid={(1, "a"), (1, "b"), (2, "c"), (2, "d")})
    assert set(plan[1]) == {"c", "d"}
    assert set(plan[2]) == {"a", "b"}


@pytest.mark.parametrize("seed", range(5))
def test_the_service_assigns_the_real_challenge(make_contest, seed):
    contest = make_contest(n_entrants=7, n_judges=4, k=3)
    # A judge who also entered (an old entrant account) and a marked conflict.
    contest.challenge.judges.add(contest.entrants[0])
    JudgeConflict.objects.create(challenge=contest.challenge, judge=contest.judges[0], entrant=contest.entrants[1])
    n = judging_assign(challenge_id=contest.challenge.pk, by=contest.organizer, seed=seed)
    rows = list(JudgeAssignment.objects.filter(challenge=contest.challenge).select_related("submission"))
    assert n == len(rows) == 7 * 3
    per_entry = Counter(r.submission_id for r in rows)
    assert set(per_entry.values()) == {3}
    loads = Counter(r.judge_id for r in rows)
    judge_ids = list(contest.challenge.judges.values_list("pk", flat=True))
    assert max(loads.get(j, 0) for j in judge_ids) - min(loads.get(j, 0) for j in judge_ids) <= 1
    for r in rows:
        assert r.judge_id != r.submission.entrant_id
        assert not (r.judge_id == contest.judges[0].pk and r.submission.entrant_id == contest.entrants[1].pk)
    numbers = {r.submission_id: r.entry_number for r in rows}
    assert sorted(numbers.values()) == list(range(1, 8))  # one number per entry, shared by its judges


def test_top_n_selections(make_contest):
    contest = make_contest(n_entrants=6, n_judges=3, k=2, selection=JudgingSettings.Selection.TOP_AUTOMATIC,
                           selection_top_n=3)
    judging_assign(challenge_id=contest.challenge.pk, by=contest.organizer)
    chosen = set(JudgeAssignment.objects.values_list("submission_id", flat=True))
    best = sorted(contest.entries, key=lambda e: -contest.automatic[e.pk])[:3]
    assert chosen == {e.pk for e in best}

    liked = make_contest(n_entrants=5, n_judges=3, k=1, selection=JudgingSettings.Selection.TOP_LIKES,
                         selection_top_n=2)
    fans = liked.entrants  # entrants like others' entries: entry 0 gets 3 likes, entry 1 gets 2
    for fan in fans[1:4]:
        Listen.objects.create(user=fan, submission=liked.entries[0])
        Like.objects.create(user=fan, submission=liked.entries[0], challenge=liked.challenge)
    for fan in fans[2:4]:
        Like.objects.create(user=fan, submission=liked.entries[1], challenge=liked.challenge)
    judging_assign(challenge_id=liked.challenge.pk, by=liked.organizer)
    chosen = set(JudgeAssignment.objects.filter(challenge=liked.challenge).values_list("submission_id", flat=True))
    assert chosen == {liked.entries[0].pk, liked.entries[1].pk}


def test_assignment_refusals(make_contest, make_user):
    contest = make_contest(n_entrants=3, n_judges=2, k=3)
    with pytest.raises(ApplicationError, match="needs 3 judges but the challenge has 2") as refused:
        judging_assign(challenge_id=contest.challenge.pk, by=contest.organizer)
    assert refused.value.status == 409
    assert not JudgeAssignment.objects.exists()  # nothing half-stored
    outsider = make_user("not_an_organizer")
    with pytest.raises(ApplicationError) as refused:
        judging_assign(challenge_id=contest.challenge.pk, by=outsider)
    assert refused.value.status == 403


def test_judges_are_assigned_by_themselves_when_entries_close(make_contest):
    contest = make_contest(n_entrants=4, n_judges=3, k=2)
    challenge = contest.challenge
    from datetime import timedelta

    from django.utils import timezone
    challenge.closes_at = timezone.now() + timedelta(hours=1)
    challenge.save()
    assert judging_assign_due() == {}  # still open
    close_entries(challenge)
    assert judging_assign_due() == {challenge.slug: 8}
    assert judging_assign_due() == {}  # once


def test_reassign_and_a_judge_who_leaves_is_replaced(make_contest):
    contest = make_contest(n_entrants=4, n_judges=4, k=2)
    challenge = contest.challenge
    judging_assign(challenge_id=challenge.pk, by=contest.organizer, seed=1)
    leaving = contest.judges[0]
    mine = list(JudgeAssignment.objects.filter(judge=leaving))
    assert mine
    done = mine[0]
    judge_assignment_save(assignment_id=done.pk, judge=leaving, originality=4, balance=4, emotion=4, submit=True)
    # Reassign: to a judge already on that entry -> refused; to a free one -> moved, as a fresh review.
    open_review = JudgeAssignment.objects.filter(judge=contest.judges[1]).first()
    taken = JudgeAssignment.objects.filter(submission=open_review.submission).exclude(pk=open_review.pk).first()
    with pytest.raises(ApplicationError, match="already reviews"):
        judge_assignment_reassign(assignment_id=open_review.pk, judge_id=taken.judge_id, by=contest.organizer)
    on_entry = set(JudgeAssignment.objects.filter(submission=open_review.submission).values_list("judge_id",
                                                                                                 flat=True))
    free = next(j for j in contest.judges if j.pk not in on_entry)
    moved = judge_assignment_reassign(assignment_id=open_review.pk, judge_id=free.pk, by=contest.organizer)
    assert moved.judge_id == free.pk
    assert moved.status == JudgeAssignment.Status.PENDING
    with pytest.raises(ApplicationError, match="already submitted"):
        judge_assignment_reassign(assignment_id=done.pk, judge_id=free.pk, by=contest.organizer)

    challenge.judges.remove(leaving)  # as the admin's judges inline does
    left = JudgeAssignment.objects.filter(judge=leaving)
    assert list(left.values_list("pk", flat=True)) == [done.pk]  # the submitted review stays
    per_entry = Counter(JudgeAssignment.objects.filter(challenge=challenge).values_list("submission_id", flat=True))
    assert set(per_entry.values()) == {2}  # every entry still has its two judges
    for review in JudgeAssignment.objects.select_related("submission"):
        assert JudgeAssignment.objects.filter(submission=review.submission, judge=review.judge).count() == 1


def test_organizers_assign_from_the_admin_and_see_the_overview_link(make_contest):
    from django.test import Client

    contest = make_contest(n_entrants=3, n_judges=2, k=2)
    client = Client()
    client.force_login(contest.organizer)
    response = client.post("/admin/challenges/challenge/", {
        "action": "assign_judges", "_selected_action": [contest.challenge.pk]}, follow=True)
    assert response.status_code == 200
    assert "6 reviews assigned" in response.content.decode()
    assert JudgeAssignment.objects.filter(challenge=contest.challenge).count() == 6
    page = client.get(f"/admin/challenges/challenge/{contest.challenge.pk}/change/").content.decode()
    assert f"/judging/{contest.challenge.slug}/" in page
    assert "0 of 6 reviews submitted" in page
    again = client.post("/admin/challenges/challenge/", {
        "action": "assign_judges", "_selected_action": [contest.challenge.pk]}, follow=True)
    assert "already assigned" in again.content.decode()


def test_a_judge_removed_in_the_admin_is_replaced(make_user):
    """The admin's judges inline deletes the through row itself (no m2m signal): its save replaces the judge."""
    from django.test import Client

    from chartbusters.accounts.roles import Role
    from chartbusters.challenges.models import Challenge
    from tests.factories import entry_create, entry_score
    from tests.foundation.test_admin import add_form, inline_management

    judges = [make_user(f"inline_judge{i}", role=Role.JUDGE) for i in range(3)]
    organizer = make_user("inline_org", role=Role.ORGANIZER)
    client = Client()
    client.force_login(organizer)
    data = add_form(**inline_management("Challenge_judges", 3),
                    **{f"Challenge_judges-{i}-user": str(j.pk) for i, j in enumerate(judges)})
    assert client.post("/admin/challenges/challenge/add/", data).status_code == 302
    challenge = Challenge.objects.get(slug="spring-chorales")  # closed: its dates are in early 2026
    challenge.organizers.add(organizer)
    for i in range(3):
        entry_score(entry_create(challenge=challenge, entrant=make_user(f"inline_entrant{i}", role=Role.ENTRANT)))
    JudgingSettings.objects.create(challenge=challenge, judges_per_entry=2)
    judging_assign(challenge_id=challenge.pk, by=organizer)
    leaving = judges[0]
    assert JudgeAssignment.objects.filter(judge=leaving).exists()
    through = list(Challenge.judges.through.objects.filter(challenge=challenge).order_by("pk"))
    change = add_form(**inline_management("Challenge_judges", 3))
    change["Challenge_judges-INITIAL_FORMS"] = "3"
    for i, row in enumerate(through):
        change.update({f"Challenge_judges-{i}-id": str(row.pk), f"Challenge_judges-{i}-challenge": str(challenge.pk),
                       f"Challenge_judges-{i}-user": str(row.user_id)})
        if row.user_id == leaving.pk:
            change[f"Challenge_judges-{i}-DELETE"] = "on"
    organizers = list(Challenge.organizers.through.objects.filter(challenge=challenge))
    change.update(inline_management("Challenge_organizers", len(organizers)))
    change["Challenge_organizers-INITIAL_FORMS"] = str(len(organizers))
    for i, row in enumerate(organizers):
        change.update({f"Challenge_organizers-{i}-id": str(row.pk),
                       f"Challenge_organizers-{i}-challenge": str(challenge.pk),
                       f"Challenge_organizers-{i}-user": str(row.user_id)})
    response = client.post(f"/admin/challenges/challenge/{challenge.pk}/change/", change)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not challenge.judges.filter(pk=leaving.pk).exists()
    assert not JudgeAssignment.objects.filter(judge=leaving).exists()
    per_entry = Counter(JudgeAssignment.objects.filter(challenge=challenge).values_list("submission_id", flat=True))
    assert set(per_entry.values()) == {2}
