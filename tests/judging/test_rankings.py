"""Issue 26: listening in pairs (Bradley-Terry with ties, pair choice, exclusions, blind excerpts, the vote's
conditions), intervals and shared ranks on the leaderboard, the final-score formula with an audience share."""

from __future__ import annotations

import hashlib
import html
import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from chartbusters.accounts.roles import Role
from evaluation.formula import audience_points, final_score
from evaluation.models import (
    AudienceRating,
    Excerpt,
    JudgingSettings,
    LeaderboardEntry,
    PairIssue,
    PairVote,
    RankingSettings,
    Rendering,
)
from evaluation.ranking import bootstrap_interval, davidson_fit, pair_pick, shared_rank_label, win_probability
from evaluation.selectors.ranking import ranking_explained
from evaluation.services.pairs import EXCERPT_SECONDS, excerpt_start, pair_issue, pair_played, pair_vote
from evaluation.services.score_store import score_record_judging
from tests.conftest import TEST_PASSWORD


# ---------------------------------------------------------------------------------------------- the model
def _votes(a, b, wins_a, wins_b, ties=0):
    return [(a, b, 1.0)] * wins_a + [(a, b, 0.0)] * wins_b + [(a, b, 0.5)] * ties


def test_two_entries_without_ties_recover_the_odds():
    """A preferred 80 times in 100: the strengths differ by log(80/20) (the weak prior barely moves it)."""
    fit = davidson_fit(_votes("a", "b", 80, 20))
    diff = fit.ratings["a"].strength - fit.ratings["b"].strength
    assert diff == pytest.approx(math.log(4), abs=0.03)
    assert fit.nu < 1e-3  # no tie seen: plain Bradley-Terry
    assert fit.ratings["a"].low > 0 > fit.ratings["b"].high  # 100 votes tell them apart
    assert fit.ratings["a"].comparisons == 100


def test_ties_give_equal_strengths_and_a_tie_parameter():
    fit = davidson_fit(_votes("a", "b", 10, 10, ties=20))
    assert fit.ratings["a"].strength == pytest.approx(0.0, abs=1e-9)
    assert fit.ratings["a"].low < 0 < fit.ratings["a"].high
    # Davidson: P(tie) = nu sqrt(pa pb) / (pa + pb + nu sqrt(pa pb)) = nu / (2 + nu) at equal strengths = 1/2 here.
    assert fit.nu == pytest.approx(2.0, rel=1e-3)
    assert win_probability(0.0, 0.0, fit.nu) == pytest.approx(0.5)


def test_hand_made_votes_order_and_intervals_shrink_with_votes():
    few = davidson_fit(_votes(1, 2, 3, 1) + _votes(2, 3, 3, 1) + _votes(1, 3, 3, 0, ties=1))
    many = davidson_fit(_votes(1, 2, 30, 10) + _votes(2, 3, 30, 10) + _votes(1, 3, 30, 0, ties=10))
    for fit in (few, many):
        s = {k: r.strength for k, r in fit.ratings.items()}
        assert s[1] > s[2] > s[3]
        assert sum(s.values()) == pytest.approx(0.0, abs=1e-9)  # centred
    width = {k: r.high - r.low for k, r in few.ratings.items()}
    assert all(many.ratings[k].high - many.ratings[k].low < width[k] / 2.5 for k in width)  # ~ 1/sqrt(10)
    assert few.ratings[1].low < few.ratings[3].high  # 4 votes each cannot separate them; 40 can:
    assert many.ratings[1].low > many.ratings[3].high


def test_many_entries_use_conjugate_gradients_with_the_same_answer(monkeypatch):
    import evaluation.ranking as ranking

    rng = np.random.default_rng(3)
    votes = [(int(i), int(j), float(rng.choice([0.0, 1.0, 0.5]))) for i, j in
             (rng.choice(40, 2, replace=False) for _ in range(600))]
    dense = davidson_fit(votes)
    monkeypatch.setattr(ranking, "DENSE_LIMIT", 10)
    sparse = davidson_fit(votes)
    for k, r in dense.ratings.items():
        assert sparse.ratings[k].strength == pytest.approx(r.strength, abs=1e-8)
        assert sparse.ratings[k].high - sparse.ratings[k].low == pytest.approx(r.high - r.low, rel=0.1)


def test_an_entry_that_won_everything_stays_finite():
    fit = davidson_fit(_votes("a", "b", 5, 0))
    assert math.isfinite(fit.ratings["a"].strength)
    assert fit.ratings["a"].strength > 0


def test_intervals_cover_the_truth_about_95_percent():
    truth = np.linspace(-1.5, 1.5, 6)
    centred = truth - truth.mean()
    covered = total = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        votes = []
        for _ in range(300):
            i, j = rng.choice(6, 2, replace=False)
            pa, pb = math.exp(truth[i]), math.exp(truth[j])
            s, u = math.sqrt(pa * pb), rng.random()
            d = pa + pb + 0.5 * s
            votes.append((int(i), int(j), 1.0 if u < pa / d else 0.0 if u < (pa + pb) / d else 0.5))
        fit = davidson_fit(votes)
        covered += sum(fit.ratings[k].low <= centred[k] <= fit.ratings[k].high for k in range(6))
        total += 6
    assert 0.88 <= covered / total <= 1.0


def test_audience_points_and_the_final_formula():
    assert audience_points(0.0) == 50.0
    assert audience_points(math.log(3)) == pytest.approx(75.0)
    # beta = 0: the design's formula; missing parts drop out and the rest is re-weighted.
    assert final_score(automatic=60, judge=80, audience=None, alpha=0.5) == pytest.approx(70)
    assert final_score(automatic=60, judge=None, audience=90, alpha=0.5, beta=0.0) == 60
    assert final_score(automatic=60, judge=80, audience=90, alpha=0.4, beta=0.2) == pytest.approx(
        0.4 * 60 + 0.4 * 80 + 0.2 * 90)
    assert final_score(automatic=60, judge=None, audience=90, alpha=0.4, beta=0.2) == pytest.approx(
        (0.4 * 60 + 0.2 * 90) / 0.6)
    with pytest.raises(ValueError, match="at most 1"):
        final_score(automatic=60, judge=80, audience=90, alpha=0.8, beta=0.3)


def test_bootstrap_interval_and_rank_labels():
    low, high = bootstrap_interval([60, 80, 100])
    assert 60 <= low < 80 < high <= 100
    assert bootstrap_interval([70]) == (70.0, 70.0)
    assert shared_rank_label(3, 5) == "3\u20135"
    assert shared_rank_label(4, 4) == "4"
    assert shared_rank_label(None, None, 7) == "7"


# ----------------------------------------------------------------------------------------- choosing pairs
def test_pair_pick_takes_the_least_compared_and_the_closest_rating():
    rng = np.random.default_rng(0)
    strength = {1: 2.0, 2: 0.1, 3: -2.0, 4: 0.0}
    comparisons = {1: 9, 2: 9, 3: 9, 4: 1}
    for _ in range(20):
        pair = pair_pick(candidates=[1, 2, 3, 4], strength=strength, comparisons=comparisons, pair_counts={},
                         excluded_pairs=set(), rng=rng)
        assert set(pair) == {4, 2}  # 4 is the least compared; 2 is closest to it
    # Already voted on (4, 2): the next closest for 4 instead.
    pair = pair_pick(candidates=[1, 2, 3, 4], strength=strength, comparisons=comparisons, pair_counts={},
                     excluded_pairs={frozenset((4, 2))}, rng=rng)
    assert 4 in pair
    assert 2 not in pair
    # Pairs compared often count less: (4, 2) met 50 times, so 4 meets 1 (p(1-p)=0.10 vs 0.25/51).
    pair = pair_pick(candidates=[1, 2, 4], strength=strength, comparisons=comparisons, pair_counts={(2, 4): 50},
                     excluded_pairs=set(), rng=rng)
    assert set(pair) == {4, 1}
    # Every pair voted: nothing left.
    assert pair_pick(candidates=[1, 2], strength={}, comparisons={}, pair_counts={},
                     excluded_pairs={frozenset((1, 2))}, rng=rng) is None


# -------------------------------------------------------------------------------------- the service, end to end
def _real_audio(submission, seconds: float, freq: float = 440.0) -> Rendering:
    """A rendering with decodable audio of ``seconds`` (a sine), so that excerpts are cut for real."""
    import tempfile

    from evaluation.audio import SAMPLE_RATE, write_audio

    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    wave = (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.mp3"
        write_audio(np.stack([wave, wave], axis=1), path)
        data = path.read_bytes()
    rendering, _ = Rendering.objects.get_or_create(submission=submission, output=None)
    rendering.audio.save("audio.mp3", ContentFile(data), save=True)
    return rendering


@pytest.fixture
def listening(make_contest, make_user):
    contest = make_contest(n_entrants=4, n_judges=1, k=1)
    for i, entry in enumerate(contest.entries):
        _real_audio(entry, seconds=(6, 12, 36, 45)[i], freq=300 + 50 * i)
    contest.listeners = [make_user(f"listener{i}", role=Role.ENTRANT) for i in range(3)]
    return contest


def _vote(issue, user, choice, *, after=EXCERPT_SECONDS * 2):
    pair_played(token=issue.token, user=user, which=1)
    pair_played(token=issue.token, user=user, which=2)
    return pair_vote(token=issue.token, user=user, choice=choice, now=issue.issued_at + timedelta(seconds=after))


def test_the_passage_rule_is_the_same_for_all():
    assert excerpt_start(200.0) == 50.0  # a quarter in
    assert excerpt_start(36.0) == 6.0  # the last 30 s (a quarter in would end past the piece)
    assert excerpt_start(12.0) == 0.0  # whole, padded


def test_a_vote_counts_only_after_both_excerpts_played_to_the_end(listening):
    from chartbusters.errors import ApplicationError

    user = listening.listeners[0]
    issue = pair_issue(slug=listening.challenge.slug, user=user, seed=1)
    assert pair_issue(slug=listening.challenge.slug, user=user) == issue  # the same pair until voted
    with pytest.raises(ApplicationError) as refused:
        pair_vote(token=issue.token, user=user, choice="first", now=issue.issued_at + timedelta(minutes=5))
    assert refused.value.code == "play_first"
    pair_played(token=issue.token, user=user, which=1)
    pair_played(token=issue.token, user=user, which=2)
    with pytest.raises(ApplicationError, match="s of music left") as refused:  # "ended" too early: not believed
        pair_vote(token=issue.token, user=user, choice="first", now=issue.issued_at + timedelta(seconds=20))
    assert refused.value.status == 403
    assert not PairVote.objects.exists()
    vote = pair_vote(token=issue.token, user=user, choice="first", now=issue.issued_at + timedelta(seconds=61))
    assert vote.preferred_id == issue.first_id
    with pytest.raises(ApplicationError) as twice:
        pair_vote(token=issue.token, user=user, choice="second", now=issue.issued_at + timedelta(seconds=90))
    assert twice.value.status == 409
    # Ratings are refitted on the vote and carried onto the leaderboard rows.
    rated = dict(AudienceRating.objects.values_list("submission_id", "rating"))
    assert rated[issue.first_id] > 50 > rated[issue.second_id]
    row = LeaderboardEntry.objects.get(submission_id=issue.first_id)
    assert row.audience == pytest.approx(rated[issue.first_id])
    assert row.audience_votes == 1
    assert row.audience_low < row.audience < row.audience_high
    # The next pair is another one: never the pair already voted on.
    again = pair_issue(slug=listening.challenge.slug, user=user, seed=2)
    assert {again.first_id, again.second_id} != {issue.first_id, issue.second_id}


def test_excerpts_are_blind_and_equal_in_length(listening, client):
    from evaluation.audio import SAMPLE_RATE, read_audio

    user = listening.listeners[0]
    client.force_login(user)
    page = client.get(f"/listen/{listening.challenge.slug}/")
    assert page.status_code == 200
    text = page.content.decode()
    issue = PairIssue.objects.get(listener=user)
    for entry in listening.entries:  # no title, entrant, entry id or public file on the page
        assert entry.title not in text
        assert entry.entrant.username not in text
        assert f"/submissions/{entry.pk}/" not in text
        public = Rendering.objects.get(submission=entry, output=None)
        assert str(public.public_id) not in text
    lengths = []
    for which, submission_id in ((1, issue.first_id), (2, issue.second_id)):
        response = client.get(f"/listen/pairs/{issue.token}/{which}/")
        assert response.status_code == 200
        data = b"".join(response.streaming_content) if response.streaming else response.content
        public = Rendering.objects.get(submission_id=submission_id, output=None)
        assert hashlib.sha256(data).digest() != hashlib.sha256(public.audio.read()).digest()
        excerpt = Excerpt.objects.get(submission_id=submission_id)
        lengths.append(read_audio(excerpt.audio.path).shape[0] / SAMPLE_RATE)
        assert f"/listen/pairs/{issue.token}/{which}/" in text
    assert lengths[0] == pytest.approx(lengths[1], abs=0.1)  # a short piece is padded: length tells nothing
    assert lengths[0] == pytest.approx(EXCERPT_SECONDS, abs=0.1)
    # Someone else's pair: 404, for its excerpts and its vote.
    other = listening.listeners[1]
    client.force_login(other)
    assert client.get(f"/listen/pairs/{issue.token}/1/").status_code == 404
    assert client.post(f"/api/pairs/{issue.token}/vote/", {"choice": "first"},
                       content_type="application/json").status_code == 404


def test_who_may_not_vote(listening, client):
    challenge = listening.challenge
    # Anonymous: 401 in the API, the log-in page for the page.
    assert client.get(f"/api/challenges/{challenge.slug}/pair/").status_code == 401
    assert client.get(f"/listen/{challenge.slug}/").status_code == 302
    for user, code in ((listening.judges[0], "judge"), (listening.organizer, "organizer")):
        client.force_login(user)
        response = client.get(f"/api/challenges/{challenge.slug}/pair/")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == code
        assert client.get(f"/listen/{challenge.slug}/").status_code == 403
    # An entrant never gets their own entry, whatever pair comes.
    entrant = listening.entrants[0]
    own = listening.entries[0].pk
    for seed in range(3):  # the three pairs of the other three entries, then none
        issue = pair_issue(slug=challenge.slug, user=entrant, seed=seed)
        assert own not in (issue.first_id, issue.second_id)
        _vote(issue, entrant, "same")
    assert PairVote.objects.filter(listener=entrant).values("low", "high").distinct().count() == 3
    client.force_login(entrant)
    done = client.get(f"/listen/{challenge.slug}/")
    assert done.status_code == 200
    assert "no pair left" in done.content.decode()


def test_api_pair_flow(listening, client):
    user = listening.listeners[1]
    client.force_login(user)
    pair = client.get(f"/api/challenges/{listening.challenge.slug}/pair/").json()
    assert [e["ended"] for e in pair["excerpts"]] == [False, False]
    assert client.post(f"/api/pairs/{pair['token']}/vote/", {"choice": "maybe"},
                       content_type="application/json").status_code == 400
    refused = client.post(f"/api/pairs/{pair['token']}/vote/", {"choice": "first"}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "play_first"
    for which in (1, 2):
        assert client.post(f"/api/pairs/{pair['token']}/played/", {"which": which},
                           content_type="application/json").status_code == 200
    PairIssue.objects.filter(token=pair["token"]).update(issued_at=timezone.now() - timedelta(minutes=2))
    assert client.post(f"/api/pairs/{pair['token']}/vote/", {"choice": "second"},
                       content_type="application/json").status_code == 201
    board = client.get(f"/api/challenges/{listening.challenge.slug}/leaderboard/").json()
    rated = [r for r in board["rows"] if r["audience"] is not None]
    assert len(rated) == 2
    assert all(r["audience_votes"] == 1 for r in rated)
    assert all(r["audience_low"] < r["audience"] < r["audience_high"] for r in rated)


def test_votes_are_rate_limited(listening, settings):
    from chartbusters.ratelimit import RateLimitedError

    settings.RATE_LIMIT_VOTE = "2/1h"
    user = listening.listeners[2]
    for _ in range(2):
        _vote(pair_issue(slug=listening.challenge.slug, user=user, seed=3), user, "first")
    with pytest.raises(RateLimitedError):
        _vote(pair_issue(slug=listening.challenge.slug, user=user, seed=3), user, "first")
    assert PairVote.objects.filter(listener=user).count() == 2


def test_audience_weight_enters_the_final_score(listening):
    challenge = listening.challenge
    RankingSettings.objects.create(challenge=challenge, audience_weight=0.5)
    user = listening.listeners[0]
    issue = pair_issue(slug=challenge.slug, user=user, seed=5)
    _vote(issue, user, "first")
    first = LeaderboardEntry.objects.get(submission_id=issue.first_id)
    rating = AudienceRating.objects.get(submission_id=issue.first_id)
    automatic = listening.automatic[issue.first_id]
    # Not judged yet (alpha's part missing): (0.0 * automatic + 0.5 * audience) / 0.5 ... re-weighted.
    assert first.score == pytest.approx(final_score(automatic=automatic, judge=None, audience=rating.rating,
                                                    alpha=challenge.alpha, beta=0.5))
    assert first.score_low < first.score < first.score_high  # the audience interval makes the score's


# -------------------------------------------------------------------------------------------- shared ranks
def test_overlapping_intervals_share_a_rank(make_contest, client):
    """Judged entries (alpha 0.5) with hand-made reviews: the bootstrap intervals of neighbours 2-4 overlap."""
    contest = make_contest(n_entrants=5, n_judges=3, k=3, automatic=[80.0, 60.0, 58.0, 56.0, 20.0])
    reviews = {  # per entry: three judges' marks (all three criteria alike)
        0: [5, 5, 5], 1: [3, 4, 5], 2: [3, 4, 5], 3: [3, 4, 5], 4: [1, 1, 1],
    }
    for index, marks in reviews.items():
        judges = [{"judge": contest.judges[j].pk, "originality": m, "balance": m, "emotion": m, "comment": ""}
                  for j, m in enumerate(marks)]
        score_record_judging(submission_id=contest.entries[index].pk, judges=judges)
    rows = {r.submission_id: r for r in LeaderboardEntry.objects.filter(challenge=contest.challenge)}
    labels = [shared_rank_label(rows[e.pk].rank_low, rows[e.pk].rank_high) for e in contest.entries]
    assert labels == ["1", "2\u20134", "2\u20134", "2\u20134", "5"]
    assert [rows[e.pk].rank for e in contest.entries] == [1, 2, 3, 4, 5]
    top = rows[contest.entries[0].pk]
    assert top.score_low == top.score_high == top.score == pytest.approx(90.0)  # judges agree: no width
    middle = rows[contest.entries[1].pk]
    assert middle.score_low < middle.score < middle.score_high
    contest.challenge.results_published = True
    contest.challenge.save()
    page = html.unescape(client.get(f"/challenges/{contest.challenge.slug}/leaderboard/").content.decode())
    assert page.count("2\u20134") == 3
    api = client.get(f"/api/challenges/{contest.challenge.slug}/leaderboard/").json()
    assert [r["shared_rank"] for r in api["rows"]] == labels
    # The paragraph that says how the rank was made follows the settings.
    assert "50 % the automatic score" in page
    assert "50 % the judges' score" in page
    assert "3 judges per entry" in page
    assert "in one round" in page
    assert "(raw)" in page
    assert "does not count" in page
    JudgingSettings.objects.filter(challenge=contest.challenge).update(two_rounds=True, final_round_top_n=3,
                                                                       final_round_judges_per_entry=3,
                                                                       judge_scores="adjusted")
    RankingSettings.objects.create(challenge=contest.challenge, audience_weight=0.2)
    text = ranking_explained(challenge=contest.challenge)
    assert "30 % the automatic score" in text
    assert "20 % the audience rating" in text
    assert "the top 3 heard again by 3 judges" in text
    assert "leniency-adjusted" in text


# ----------------------------------------------------------------------------------- public and private inputs
@pytest.fixture
def harvest(db, media, make_user):
    """A split Melody Harvest challenge (open): inputs ex (example), p1, p2 (public), q1, q2 (private)."""
    from chartbusters.challenges.models import Challenge, InputMelody
    from tests.factories import ChallengeFactory, input_melody_create

    challenge = ChallengeFactory(slug="harvest-split", kind=Challenge.Kind.MELODY_HARVEST, alpha=0.0)
    for name, role in (("ex", "example"), ("p1", "public"), ("p2", "public"), ("q1", "private"), ("q2", "private")):
        melody = input_melody_create(challenge, name=name)
        InputMelody.objects.filter(pk=melody.pk).update(role=role)
    challenge.entrants = [make_user(f"harvester{i}", role=Role.ENTRANT) for i in range(3)]
    return challenge


def _harvest_entry(challenge, entrant, per_input: dict[str, float]):
    """A checkpoint entry scored through the scoring service's landing, with these per-input automatic scores."""
    from evaluation.automatic import AutomaticScore
    from evaluation.services.scoring import submission_score_land
    from submissions.services.lifecycle import submission_mark_generating, submission_mark_scoring
    from tests.factories import entry_create, output_create

    entry = entry_create(challenge=challenge, entrant=entrant, kind="checkpoint")
    submission_mark_generating(submission_id=entry.pk)
    for name in sorted(per_input):
        output_create(entry, input_name=name)
    submission_mark_scoring(submission_id=entry.pk)
    outputs = [{"style": v / 100, "realness": v / 100, "content": {"ok": True}, "automatic": v}
               for _, v in sorted(per_input.items())]
    mean = sum(per_input.values()) / len(per_input)
    result = AutomaticScore(automatic=mean, style=mean / 100, realness=mean / 100, automatic_unpenalized=mean,
                            parts={"outputs": outputs, "n_outputs": len(outputs)})
    submission_score_land(submission_id=entry.pk, result=result)
    entry.refresh_from_db()
    return entry


def test_split_ranks_on_public_while_open_and_private_after_close(harvest, client):
    from chartbusters.errors import ApplicationError
    from evaluation.models import InputScore, Score
    from evaluation.services.input_split import final_choice_set
    from evaluation.services.leaderboard import leaderboard_phase_sync

    a, b, c = harvest.entrants
    # a: public 90 / private 20 (fits the public inputs); b: two entries; c: one entry.
    a1 = _harvest_entry(harvest, a, {"ex": 50, "p1": 90, "p2": 90, "q1": 20, "q2": 20})
    b1 = _harvest_entry(harvest, b, {"ex": 50, "p1": 60, "p2": 60, "q1": 70, "q2": 70})
    b2 = _harvest_entry(harvest, b, {"ex": 50, "p1": 80, "p2": 80, "q1": 40, "q2": 40})
    b3 = _harvest_entry(harvest, b, {"ex": 50, "p1": 50, "p2": 50, "q1": 95, "q2": 95})
    c1 = _harvest_entry(harvest, c, {"ex": 50, "p1": 70, "p2": 70, "q1": 60, "q2": 80})
    # Per-input scores are stored with their role; what everyone sees while open is the public part alone.
    assert InputScore.objects.filter(submission=a1).count() == 5
    assert set(InputScore.objects.filter(submission=a1, role="private").values_list("input_name", flat=True)) == {
        "q1", "q2"}
    score = Score.objects.get(submission=a1)
    assert score.automatic == pytest.approx(90.0)
    assert len(score.parts["outputs"]) == 2  # only the public outputs' scores are in the parts
    board = client.get(f"/api/challenges/{harvest.slug}/leaderboard/").json()
    assert [(r["submission"], r["score"]) for r in board["rows"]] == [(a1.pk, 90.0), (b2.pk, 80.0), (c1.pk, 70.0)]
    # b marks b1 and b3 as final; a third is refused (N = 2 by default); a marks nothing.
    final_choice_set(user=b, submission_id=b1.pk, final=True)
    final_choice_set(user=b, submission_id=b3.pk, final=True)
    with pytest.raises(ApplicationError) as refused:
        final_choice_set(user=b, submission_id=b2.pk, final=True)
    assert refused.value.status == 409
    with pytest.raises(ApplicationError):
        final_choice_set(user=a, submission_id=b2.pk, final=True)  # not theirs: 404
    # Entries close: the table ranks on the private inputs.
    harvest.closes_at = timezone.now() - timedelta(minutes=1)
    harvest.save()
    assert leaderboard_phase_sync(challenge_id=harvest.pk) is True
    assert leaderboard_phase_sync(challenge_id=harvest.pk) is False  # once
    board = client.get(f"/api/challenges/{harvest.slug}/leaderboard/").json()
    # b: best private of the marked b1 (70) and b3 (95) -> b3; c: 70; a: unmarked -> their best public one -> 20.
    assert [(r["submission"], r["score"]) for r in board["rows"]] == [(b3.pk, 95.0), (c1.pk, 70.0), (a1.pk, 20.0)]
    with pytest.raises(ApplicationError, match="closed"):
        final_choice_set(user=b, submission_id=b1.pk, final=False)


def test_without_marks_the_best_public_entries_are_taken(harvest):
    from evaluation.models import RankingSettings
    from evaluation.services.leaderboard import leaderboard_phase_sync

    a = harvest.entrants[0]
    RankingSettings.objects.create(challenge=harvest, final_entries=1)
    best_public = _harvest_entry(harvest, a, {"p1": 80, "p2": 80, "q1": 30, "q2": 30})
    _harvest_entry(harvest, a, {"p1": 40, "p2": 40, "q1": 99, "q2": 99})  # better privately, not chosen
    harvest.closes_at = timezone.now() - timedelta(minutes=1)
    harvest.save()
    leaderboard_phase_sync(challenge_id=harvest.pk)
    row = LeaderboardEntry.objects.get(challenge=harvest, entrant=a)
    assert row.submission_id == best_public.pk
    assert row.score == pytest.approx(30.0)


def test_final_choice_by_page_and_api(harvest, client):
    a = harvest.entrants[0]
    entries = [_harvest_entry(harvest, a, {"p1": v, "q1": v}) for v in (50, 60, 70)]
    client.force_login(a)
    page = client.get(f"/submissions/{entries[0].pk}/").content.decode()
    assert "Mark as final" in page
    client.post(f"/submissions/{entries[0].pk}/final/", {"final": "1"})
    assert "Marked final." in client.get(f"/submissions/{entries[0].pk}/").content.decode()
    ok = client.post(f"/api/submissions/{entries[1].pk}/final/", {"final": True}, content_type="application/json")
    assert ok.json() == {"final_entries": [entries[0].pk, entries[1].pk]}
    third = client.post(f"/api/submissions/{entries[2].pk}/final/", {"final": True}, content_type="application/json")
    assert third.status_code == 409
    assert third.json()["error"]["code"] == "too_many"
    client.force_login(harvest.entrants[1])
    other = client.post(f"/api/submissions/{entries[2].pk}/final/", {"final": True}, content_type="application/json")
    assert other.status_code == 404


# ------------------------------------------------------------------------------------------------------ demo
def test_demo_listeners_vote_on_the_judging_demo(listening, make_user):
    from evaluation.services.demo_listening import LISTENERS, PAIRS_PER_LISTENER, demo_listening_seed

    challenge = listening.challenge
    challenge.slug = "winter-judging"
    challenge.save()
    assert demo_listening_seed(password=TEST_PASSWORD) == len(LISTENERS) * min(PAIRS_PER_LISTENER, 6)
    assert demo_listening_seed(password=TEST_PASSWORD) == 0  # idempotent
    rows = LeaderboardEntry.objects.filter(challenge=challenge)
    assert all(r.audience is not None and r.audience_low < r.audience < r.audience_high for r in rows)
    assert sum(r.audience_votes for r in rows) == 2 * PairVote.objects.count()
    newcomer = make_user("newcomer", role=Role.ENTRANT)
    issue = pair_issue(slug="winter-judging", user=newcomer, seed=0)
    _vote(issue, newcomer, "same")
    assert PairVote.objects.filter(listener=newcomer).count() == 1


def test_changing_beta_moves_final_scores_and_is_bounded_by_alpha(listening):
    from django.core.exceptions import ValidationError

    from evaluation.services.leaderboard import leaderboard_audience_refresh

    challenge = listening.challenge
    user = listening.listeners[0]
    issue = pair_issue(slug=challenge.slug, user=user, seed=5)
    _vote(issue, user, "first")
    row = LeaderboardEntry.objects.get(submission_id=issue.first_id)
    assert row.score == pytest.approx(listening.automatic[issue.first_id])  # beta 0: shown, not counted
    assert row.score_low is None
    settings_row = RankingSettings(challenge=challenge, audience_weight=0.6)  # alpha is 0.5
    with pytest.raises(ValidationError, match=r"at most 0\.5"):
        settings_row.full_clean()
    settings_row.audience_weight = 0.5
    settings_row.save()
    leaderboard_audience_refresh(challenge_id=challenge.pk, everything=True)  # what the save triggers on commit
    row = LeaderboardEntry.objects.get(submission_id=issue.first_id)  # rebuilt
    rating = AudienceRating.objects.get(submission_id=issue.first_id).rating
    assert row.score == pytest.approx(rating)  # alpha 0.5 + beta 0.5, not judged: the audience part alone
    RankingSettings.objects.filter(challenge=challenge).update(audience_weight=0.0)
    leaderboard_audience_refresh(challenge_id=challenge.pk, everything=True)
    row = LeaderboardEntry.objects.get(submission_id=issue.first_id)
    assert row.score == pytest.approx(listening.automatic[issue.first_id])


def test_while_open_the_metrics_shown_are_the_public_inputs_alone(harvest):
    """No figure shown while open is averaged over a private input (the per-metric values included)."""
    from evaluation.automatic import AutomaticScore
    from evaluation.models import Score
    from evaluation.services.scoring import submission_score_land
    from submissions.services.lifecycle import submission_mark_generating, submission_mark_scoring
    from tests.factories import entry_create, output_create

    entry = entry_create(challenge=harvest, entrant=harvest.entrants[0], kind="checkpoint")
    submission_mark_generating(submission_id=entry.pk)
    ranges = {"p1": 10.0, "p2": 20.0, "q1": 90.0, "q2": 100.0, "ex": 50.0}
    for name in sorted(ranges):
        output_create(entry, input_name=name)
    submission_mark_scoring(submission_id=entry.pk)
    outputs = [{"style": 0.5, "realness": 0.5, "content": {"ok": True}, "automatic": 50.0,
                "metrics": {"pitch_range": {"value": v, "closeness": v / 100}}} for _, v in sorted(ranges.items())]
    metrics = {"pitch_range": {"value": 54.0, "closeness": 0.54, "p10": 12.0, "p90": 30.0, "direction": "above"}}
    result = AutomaticScore(automatic=50.0, style=0.5, realness=0.5, automatic_unpenalized=50.0,
                            parts={"outputs": outputs, "n_outputs": 5, "metrics": metrics})
    submission_score_land(submission_id=entry.pk, result=result)
    shown = Score.objects.get(submission=entry).parts["metrics"]["pitch_range"]
    assert shown["value"] == pytest.approx(15.0)  # p1 and p2 only: the private 90 and 100 are not in it
    assert shown["closeness"] == pytest.approx(0.15)
    assert shown["direction"] == "within"
