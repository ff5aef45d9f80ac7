"""Leaderboard rules (design.md §6): best per entrant, order, ties, never-ranked and hidden entries, provisional."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from chartbusters.accounts.roles import Role
from evaluation.models import LeaderboardEntry, Score
from evaluation.selectors.leaderboard import (
    leaderboard_count,
    leaderboard_is_provisional,
    leaderboard_row_of,
    leaderboard_rows,
)
from evaluation.services.leaderboard import leaderboard_rebuild
from evaluation.services.score_store import score_record_judging
from submissions.services.moderation import submission_disqualify, submission_requalify, submission_rerun
from tests.results.conftest import failed_entry, new_entry, scored_entry

pytestmark = pytest.mark.django_db


def board(challenge, **kwargs):
    return [(row["rank"], row["entrant"], row["score"]) for row in leaderboard_rows(challenge=challenge, **kwargs)]


def test_orders_by_score_and_keeps_each_entrants_best(challenge, people, make_user):
    carol = make_user("carol", role=Role.ENTRANT)
    scored_entry(challenge, people["entrant"], 60.0, minutes=1)
    best = scored_entry(challenge, people["entrant"], 80.0, minutes=2)
    scored_entry(challenge, people["entrant"], 70.0, minutes=3)
    scored_entry(challenge, people["other"], 75.0, minutes=4)
    scored_entry(challenge, carol, 90.0, minutes=5)

    assert board(challenge) == [(1, "carol", 90.0), (2, "ada", 80.0), (3, "bob", 75.0)]
    assert leaderboard_rows(challenge=challenge)[1]["submission"] == best.pk
    assert leaderboard_count(challenge=challenge) == 3


def test_equal_scores_rank_the_earlier_entry_first_with_distinct_ranks(challenge, people, make_user):
    carol = make_user("carol", role=Role.ENTRANT)
    scored_entry(challenge, people["other"], 70.0, minutes=10)
    scored_entry(challenge, carol, 70.0, minutes=5)
    scored_entry(challenge, people["entrant"], 70.0, minutes=20)
    assert board(challenge) == [(1, "carol", 70.0), (2, "bob", 70.0), (3, "ada", 70.0)]


def test_an_entrants_tie_keeps_their_earlier_entry(challenge, people):
    first = scored_entry(challenge, people["entrant"], 70.0, minutes=1)
    scored_entry(challenge, people["entrant"], 70.0, minutes=2)
    assert [row["submission"] for row in leaderboard_rows(challenge=challenge)] == [first.pk]


def test_failed_and_unscored_entries_never_rank(challenge, people, make_user):
    carol = make_user("carol", role=Role.ENTRANT)
    failed_entry(challenge, people["entrant"])
    new_entry(challenge, people["other"])  # queued, never scored
    scored_entry(challenge, carol, 40.0)
    assert board(challenge) == [(1, "carol", 40.0)]
    assert leaderboard_row_of(challenge=challenge, user=people["entrant"]) is None


def test_disqualified_best_entry_is_hidden_and_the_next_best_takes_its_place(challenge, people):
    scored_entry(challenge, people["entrant"], 60.0, minutes=1)
    best = scored_entry(challenge, people["entrant"], 95.0, minutes=2)
    scored_entry(challenge, people["other"], 70.0, minutes=3)

    submission_disqualify(submission_id=best.pk, disqualified_by=people["organizer"], reason="Copied a chorale.")
    assert board(challenge) == [(1, "bob", 70.0), (2, "ada", 60.0)]
    assert best.pk not in [row["submission"] for row in leaderboard_rows(challenge=challenge)]

    submission_requalify(submission_id=best.pk, requalified_by=people["organizer"])
    assert board(challenge) == [(1, "ada", 95.0), (2, "bob", 70.0)]


def test_a_rerun_entry_leaves_the_board_until_it_is_scored_again(challenge, people, django_capture_on_commit_callbacks):
    entry = scored_entry(challenge, people["entrant"], 88.0)
    with django_capture_on_commit_callbacks(execute=False):  # the rescoring task is not sent in this unit test
        submission_rerun(submission_id=entry.pk, rerun_by=people["organizer"])
    assert board(challenge) == []
    assert not Score.objects.filter(submission=entry).exists()


def test_guard_hides_a_disqualified_entry_even_if_its_row_was_not_refreshed(challenge, people):
    entry = scored_entry(challenge, people["entrant"], 50.0)
    type(entry).objects.filter(pk=entry.pk).update(disqualified=True)  # a bulk change that told nobody
    assert board(challenge) == []
    assert LeaderboardEntry.objects.filter(submission=entry).exists()
    assert leaderboard_rebuild(challenge_id=challenge.pk) == 0


def test_viewer_row_has_its_true_rank_beyond_the_page(challenge, people):
    entrants = [get_user_model().objects.create_user(f"e{i}") for i in range(5)]
    for i, user in enumerate(entrants):
        scored_entry(challenge, user, 90.0 - i, minutes=i)
    scored_entry(challenge, people["entrant"], 85.0, minutes=50)  # below e4 (86): sixth
    assert [r["rank"] for r in leaderboard_rows(challenge=challenge, limit=2)] == [1, 2]
    assert [r["rank"] for r in leaderboard_rows(challenge=challenge, offset=2, limit=2)] == [3, 4]
    me = leaderboard_row_of(challenge=challenge, user=people["entrant"])
    assert (me["rank"], me["score"]) == (6, 85.0)


def test_rebuild_gives_the_same_table_as_incremental_updates(challenge, people, make_user):
    carol = make_user("carol", role=Role.ENTRANT)
    scored_entry(challenge, people["entrant"], 30.0, minutes=1)
    scored_entry(challenge, people["entrant"], 35.0, minutes=2)
    scored_entry(challenge, carol, 35.0, minutes=0)
    before = board(challenge)
    assert leaderboard_rebuild(challenge_id=challenge.pk) == 2
    assert board(challenge) == before == [(1, "carol", 35.0), (2, "ada", 35.0)]


def test_judging_moves_the_final_score_and_the_board(challenge, people):
    low = scored_entry(challenge, people["entrant"], 50.0)
    scored_entry(challenge, people["other"], 60.0)
    score = score_record_judging(
        submission_id=low.pk, judges=[{"judge": people["judge"].pk, "originality": 5, "balance": 5, "emotion": 5}]
    )
    assert score.final == pytest.approx(0.5 * 50.0 + 0.5 * 100.0)
    assert board(challenge) == [(1, "ada", 75.0), (2, "bob", 60.0)]


def test_provisional_until_results_published_or_judging_over_and_all_judged(challenge, people):
    entry = scored_entry(challenge, people["entrant"], 50.0)
    assert leaderboard_is_provisional(challenge=challenge)
    after_judging = challenge.judging_ends_at + timedelta(minutes=1)
    assert leaderboard_is_provisional(challenge=challenge, now=after_judging)  # not judged yet

    score_record_judging(
        submission_id=entry.pk, judges=[{"judge": people["judge"].pk, "originality": 3, "balance": 4, "emotion": 2}]
    )
    assert not leaderboard_is_provisional(challenge=challenge, now=after_judging)
    assert leaderboard_is_provisional(challenge=challenge, now=timezone.now())  # judging still running

    challenge.results_published = True
    challenge.save()
    assert not leaderboard_is_provisional(challenge=challenge, now=timezone.now())


def test_no_judging_weight_means_final_after_judging_ends(challenge, people):
    scored_entry(challenge, people["entrant"], 50.0)
    challenge.alpha = 0.0
    challenge.save()
    assert not leaderboard_is_provisional(challenge=challenge, now=challenge.judging_ends_at + timedelta(seconds=1))


def test_rebuild_command_repairs_a_table_after_a_bulk_change(challenge, people):
    from io import StringIO

    from django.core.management import call_command

    kept = scored_entry(challenge, people["entrant"], 40.0, minutes=1)
    best = scored_entry(challenge, people["entrant"], 90.0, minutes=2)
    type(best).objects.filter(pk=best.pk).update(disqualified=True)  # bypasses the services and their listeners
    out = StringIO()
    call_command("rebuild_leaderboard", challenge.slug, "--json", stdout=out)
    assert out.getvalue().strip() == '{"bach-off": 1}'
    assert LeaderboardEntry.objects.get(challenge=challenge).submission_id == kept.pk


@pytest.mark.django_db(transaction=True)
def test_scores_landing_at_once_all_rank_without_deadlock(challenge, people, make_user, monkeypatch):
    """Eight scores of four entrants land from eight threads at once (each its own database connection)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from evaluation.automatic import AutomaticScore
    from evaluation.services import scoring
    from submissions.services.lifecycle import submission_mark_scoring

    sent = []
    monkeypatch.setattr(scoring, "send_task", lambda name, **kw: sent.append((name, kw["args"])))
    users = [make_user(f"racer{i}", role=Role.ENTRANT) for i in range(4)]
    entries = [new_entry(challenge, users[i % 4], minutes=i) for i in range(8)]
    for entry in entries:
        submission_mark_scoring(submission_id=entry.pk)

    def land(i: int) -> None:
        try:
            scoring.submission_score_land(
                submission_id=entries[i].pk,
                result=AutomaticScore(automatic=10.0 + i, style=0.5, realness=0.5, parts={"metrics": {}}),
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(land, range(8)))
    # Each entrant's best is their later entry (i + 4 scores higher); ranks follow the scores.
    assert board(challenge) == [(1, "racer3", 17.0), (2, "racer2", 16.0), (3, "racer1", 15.0), (4, "racer0", 14.0)]
    assert sorted(args[0] for _, args in sent) == sorted(e.pk for e in entries)


def test_a_checkpoint_entry_is_listenable_once_entries_close(make_user, settings, tmp_path):
    """A Melody Harvest entry has no MIDI of its own: its row plays its first output, once the hidden melodies'
    outputs are public (entries closed), and the file view serves that audio to anyone then."""
    from django.test import Client

    from chartbusters.challenges.models import Challenge
    from tests.factories import ChallengeFactory, entry_create, entry_score, output_create, rendering_create

    settings.MEDIA_ROOT = str(tmp_path / "media")
    harvest = ChallengeFactory(slug="harvest", kind=Challenge.Kind.MELODY_HARVEST)
    entry = entry_create(challenge=harvest, entrant=make_user("hana", role=Role.ENTRANT), kind="checkpoint")
    first = rendering_create(entry, output=output_create(entry, input_name="r010"))
    rendering_create(entry, output=output_create(entry, input_name="r020"))
    entry_score(entry)
    assert leaderboard_rows(challenge=harvest)[0]["audio_url"] is None  # open: the outputs are still hidden
    harvest.closes_at = timezone.now() - timedelta(minutes=1)
    harvest.judging_ends_at = timezone.now() + timedelta(days=1)
    harvest.save()
    url = leaderboard_rows(challenge=harvest)[0]["audio_url"]
    assert url == f"/files/audio/{first.public_id}/"
    listener = make_user("listener", role=Role.ENTRANT)
    client = Client()
    client.force_login(listener)
    assert client.get(url).status_code == 200
