"""Leaderboard under load (docs/design.md section 8): 100,000 submissions from 5,000 entrants on PostgreSQL.

    .venv/bin/python benchmarks/leaderboard_load.py [--database-url URL] [--refill] [--runs 5] [--requests 200]
        [--wrk-seconds 10] [--skip-wrk]

1. Creates the database if missing (default postgres://postgres@127.0.0.1:5432/chartbusters_bench), migrates it
   and fills one challenge with 100,000 submissions of 5,000 entrants (bulk_create; 4 % failed, 1 % disqualified,
   1 % still queued, the rest scored with a Score carrying realistic parts), then rebuilds the leaderboard table.
2. In-process: times the leaderboard API view (request -> rendered JSON bytes) over --requests requests per run,
   anonymous, as an entrant (whose own row and rank are looked up too) and anonymous with the page cache cleared
   before every request (the SQL path alone); prints p50 and p95 of the median run and the worst run's p95.
3. Under load: gunicorn (2 sync workers) on 127.0.0.1 and `wrk -t2 -c16` for --wrk-seconds per run, anonymous and
   with an entrant's API token; requests/s (median of the runs).
Targets: 30 ms p95 in the view, 300 req/s; issue 26: with intervals, shared ranks and audience ratings on every row
(``add_rankings``), p95 <= 10 ms signed in and <= 20 ms on a cache miss.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from chartbusters.metric_names import METRIC_NAMES  # noqa: E402  (plain Python: no Django set-up needed)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/chartbusters_bench"
SLUG = "bench-leaderboard"
N_ENTRANTS = 5_000
N_SUBMISSIONS = 100_000
PORT = 8765


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ["DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "chartbusters.settings.base"
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    import django

    django.setup()


def ensure_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def _parts(rng: random.Random) -> dict:
    metrics = {}
    for name in METRIC_NAMES:
        value, mean, std = rng.uniform(0, 20), 10.0, 4.0
        metrics[name] = {"value": value, "mean": mean, "std": std, "closeness": rng.random()}
    return {"metrics": metrics, "weights": {"style": 1.0, "realness": 1.0}, "realness": rng.random(),
            "originality": {"longest_bars": rng.uniform(0, 3), "source": "training"}, "judges": []}


def fill(*, refill: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from tqdm import tqdm

    from chartbusters.challenges.models import Challenge
    from evaluation.models import Score
    from submissions.models import Submission

    existing = Challenge.objects.filter(slug=SLUG).first()
    if existing and not refill and Submission.objects.filter(challenge=existing).count() == N_SUBMISSIONS:
        print(f"reusing the {N_SUBMISSIONS} submissions of challenge {SLUG} (--refill to recreate)")
        rebuild_and_analyze(existing.pk)
        return
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        if existing:
            existing.delete()
        User.objects.filter(username__startswith="bench-").delete()
        now = datetime.now(UTC)
        challenge = Challenge.objects.create(
            slug=SLUG, title="Leaderboard benchmark", opens_at=now - timedelta(days=30),
            closes_at=now + timedelta(days=30), judging_ends_at=now + timedelta(days=40),
        )
        users = User.objects.bulk_create(
            [User(username=f"bench-{i:05d}", email=f"bench-{i}@example.com", password="!") for i in range(N_ENTRANTS)],
            batch_size=1000,
        )
    rng = random.Random(20261126)
    start = now - timedelta(days=29)
    batch = 5_000
    for offset in tqdm(range(0, N_SUBMISSIONS, batch), desc="submissions", unit_scale=batch):
        with transaction.atomic():
            subs, statuses = [], []
            for i in range(offset, offset + batch):
                roll = rng.random()
                status = "failed" if roll < 0.04 else "queued" if roll < 0.05 else "scored"
                subs.append(Submission(
                    challenge=challenge, entrant=users[rng.randrange(N_ENTRANTS)], kind="composition",
                    title=f"Entry {i}", licence="CC BY 4.0", midi=f"submissions/{SLUG}/x/{i}.mid", status=status,
                    progress=100 if status != "queued" else 0, error="No notes." if status == "failed" else "",
                    disqualified=status == "scored" and rng.random() < 0.01,
                ))
                statuses.append(status)
            subs = Submission.objects.bulk_create(subs, batch_size=1000)
            # created_at is auto_now_add: spread the entries over four weeks, with deliberate score ties.
            for j, sub in enumerate(subs):
                sub.created_at = start + timedelta(seconds=(offset + j) * 24)
            Submission.objects.bulk_update(subs, ["created_at"], batch_size=1000)
            scores = []
            for sub, status in zip(subs, statuses, strict=True):
                if status != "scored":
                    continue
                automatic = round(rng.uniform(20, 95), 1)  # one decimal: many ties between entrants
                scores.append(Score(submission=sub, challenge=challenge, automatic=automatic, final=automatic,
                                    style=automatic / 100, realness=automatic / 100, parts=_parts(rng)))
            Score.objects.bulk_create(scores, batch_size=1000)
    rebuild_and_analyze(challenge.pk)


def add_rankings(challenge_id: int) -> None:
    """Issue 26 on every row: each entrant's best entry judged by three judges (a bootstrap interval of their
    scores), an audience rating with its interval from 20,000 pair votes (fitted once here), the audience counted
    with beta = 0.2; so rows carry intervals, shared ranks (many: intervals ~10 points wide) and ratings."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from evaluation.formula import audience_points, final_score
    from evaluation.models import AudienceRating, JudgeAssignment, LeaderboardEntry, RankingSettings, Score
    from evaluation.ranking import davidson_fit
    from evaluation.services.score_store import judge_interval, judge_score

    if JudgeAssignment.objects.filter(challenge_id=challenge_id).exists():
        return
    AudienceRating.objects.filter(challenge_id=challenge_id).delete()
    rng = random.Random(26)
    best = list(LeaderboardEntry.objects.filter(challenge_id=challenge_id).values_list("submission_id", "entrant_id"))
    t = time.perf_counter()
    with transaction.atomic():
        RankingSettings.objects.update_or_create(challenge_id=challenge_id, defaults={"audience_weight": 0.2})
        judge_users = [get_user_model().objects.get_or_create(username=f"bench-judge-{k}")[0] for k in range(3)]
        judges = [u.pk for u in judge_users]
        scores = list(Score.objects.filter(submission_id__in=[s for s, _ in best]))
        votes, ids = [], [s for s, _ in best]
        for _ in range(20_000):
            a, b = rng.sample(ids, 2)
            low, high = min(a, b), max(a, b)
            u = rng.random()
            votes.append((low, high, 1.0 if u < 0.4 else 0.0 if u < 0.8 else 0.5))
        fit = davidson_fit(votes)
        ratings = dict(fit.ratings.items())
        AudienceRating.objects.bulk_create([
            AudienceRating(submission_id=sid, challenge_id=challenge_id, strength=r.strength,
                           rating=audience_points(r.strength), low=audience_points(r.low),
                           high=audience_points(r.high), comparisons=r.comparisons)
            for sid, r in ratings.items()
        ], batch_size=1000)
        for score in scores:
            marks = [{"judge": j, **{k: rng.randint(2, 5) for k in ("originality", "balance", "emotion")}}
                     for j in judges]
            score.parts = {**score.parts, "judges": marks, "judge_score": judge_score(marks),
                           "judge_interval": judge_interval(marks, seed=score.submission_id)}
            rating = ratings.get(score.submission_id)
            score.final = final_score(automatic=score.automatic, judge=score.parts["judge_score"],
                                      audience=audience_points(rating.strength) if rating else None,
                                      alpha=0.5, beta=0.2)
        Score.objects.bulk_update(scores, ["parts", "final"], batch_size=1000)
        # The judged entry stays its entrant's row (as after a real judging round): three reviews each.
        JudgeAssignment.objects.bulk_create([
            JudgeAssignment(challenge_id=challenge_id, submission_id=score.submission_id, judge_id=mark["judge"],
                            round=1, entry_number=i, status="submitted", originality=mark["originality"],
                            balance=mark["balance"], emotion=mark["emotion"])
            for i, score in enumerate(scores, start=1) for mark in score.parts["judges"]
        ], batch_size=2000)
    print(f"judged {len(scores)} best entries, fitted {len(ratings)} audience ratings from {len(votes)} votes "
          f"(fit {fit.iterations} iterations) in {time.perf_counter() - t:.1f} s")


def rebuild_and_analyze(challenge_id: int) -> None:
    from django.db import connection

    from evaluation.models import LeaderboardEntry
    from evaluation.services.leaderboard import leaderboard_rebuild

    if not LeaderboardEntry.objects.filter(challenge_id=challenge_id).exists():
        leaderboard_rebuild(challenge_id=challenge_id)  # the best entries, to judge and rate
    add_rankings(challenge_id)
    t = time.perf_counter()
    rows = leaderboard_rebuild(challenge_id=challenge_id)
    print(f"leaderboard rebuilt: {rows} entrants in {time.perf_counter() - t:.1f} s")
    entries = LeaderboardEntry.objects.filter(challenge_id=challenge_id)
    shared = sum(1 for lo, hi in entries.values_list("rank_low", "rank_high") if lo != hi)
    print(f"rows with an interval: {entries.exclude(score_low=None).count()}, with an audience rating: "
          f"{entries.exclude(audience=None).count()}, in a shared rank: {shared}")
    from evaluation.services.leaderboard import leaderboard_ranks_refresh

    t = time.perf_counter()
    for _ in range(5):
        leaderboard_ranks_refresh(challenge_id=challenge_id)
    print(f"re-ranking the challenge (one SQL statement, run when a score or vote lands): "
          f"{(time.perf_counter() - t) / 5 * 1000:.1f} ms")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def time_view(*, runs: int, requests: int) -> dict[str, list[tuple[float, float]]]:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import RequestFactory

    from evaluation.api.views import LeaderboardApi
    from evaluation.models import LeaderboardEntry

    view = LeaderboardApi.as_view()
    factory = RequestFactory()
    # An entrant in the middle of the board, so that their row is not on the first page.
    entries = LeaderboardEntry.objects.filter(challenge__slug=SLUG).order_by("-score", "submitted_at")
    viewer = get_user_model().objects.get(pk=entries.values_list("entrant_id", flat=True)[entries.count() // 2])
    cases = (("anonymous", None, False), ("entrant (+ own row)", viewer, False),
             ("anonymous, cache miss", None, True))
    results: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in cases}
    for label, user, cold in cases:
        for _ in range(runs):
            times = []
            for _ in range(requests):
                if cold:
                    cache.clear()  # every request reads the table (count + ranked page) as after a change
                request = factory.get(f"/api/challenges/{SLUG}/leaderboard/")
                if user is not None:
                    request.user = user
                    request._force_auth_user = user
                t = time.perf_counter()
                response = view(request, slug=SLUG)
                response.render()
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.content[:200]
            times.sort()
            results[label].append((statistics.median(times), times[int(0.95 * len(times)) - 1]))
    return results


def explain() -> str:
    from django.db import connection

    from chartbusters.challenges.models import Challenge
    from evaluation.selectors.leaderboard import leaderboard_rows

    challenge = Challenge.objects.get(slug=SLUG)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        leaderboard_rows(challenge=challenge)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + ctx.captured_queries[-1]["sql"])
        return "\n".join(row[0] for row in cursor.fetchall())


def viewer_token() -> str:
    """An API token of the mid-board entrant (their own row and rank are looked up on every request)."""
    from rest_framework.authtoken.models import Token

    from evaluation.models import LeaderboardEntry

    entries = LeaderboardEntry.objects.filter(challenge__slug=SLUG).order_by("-score", "submitted_at")
    entrant_id = entries.values_list("entrant_id", flat=True)[entries.count() // 2]
    return Token.objects.get_or_create(user_id=entrant_id)[0].key


def run_wrk(*, database_url: str, runs: int, seconds: int, header: str | None = None) -> list[float]:
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install -y wrk")
        return []
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "chartbusters.settings.base",
           "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    gunicorn = [str(Path(sys.executable).with_name("gunicorn")), "chartbusters.wsgi", "--workers", "2",
                "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning"]
    server = subprocess.Popen(gunicorn, cwd=REPO, env=env)
    url = f"http://127.0.0.1:{PORT}/api/challenges/{SLUG}/leaderboard/"
    try:
        for _ in range(60):
            ok = subprocess.run(["curl", "-sf", "-o", "/dev/null", url], check=False).returncode == 0
            if ok:
                break
            time.sleep(0.5)
        subprocess.run(["wrk", "-t2", "-c16", "-d3s", url], capture_output=True, check=False)  # warm up
        rates = []
        for _ in range(runs):
            extra = ["-H", header] if header else []
            out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", *extra, url],
                                 capture_output=True, text=True, check=True).stdout
            rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            if non2xx:
                print(f"warning: {non2xx.group(1)} non-2xx responses")
            p99 = re.search(r"99%\s+(\S+)", out)
            print(f"  wrk run: {rate:.0f} req/s (latency p99 {p99.group(1) if p99 else '?'})")
            rates.append(rate)
        return rates
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--skip-wrk", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the plan of the rows query")
    args = parser.parse_args()

    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    fill(refill=args.refill)
    if args.explain:
        print(explain())
    print(f"\nload average before timing: {os.getloadavg()[0]:.2f}")
    results = time_view(runs=args.runs, requests=args.requests)
    print(f"\nLeaderboard API view, in process ({args.requests} requests per run, {args.runs} runs, top 100 rows)")
    print(f"{'viewer':<22}{'p50 ms (median run)':>22}{'p95 ms (median run)':>22}{'p95 ms (worst run)':>21}")
    for label, runs in results.items():
        p50s, p95s = [r[0] for r in runs], [r[1] for r in runs]
        print(f"{label:<22}{statistics.median(p50s):>22.2f}{statistics.median(p95s):>22.2f}{max(p95s):>21.2f}")
    if not args.skip_wrk:
        summary = []
        for label, header in (("anonymous", None), ("entrant token", f"Authorization: Token {viewer_token()}")):
            print(f"wrk, {label}:")
            rates = run_wrk(database_url=args.database_url, runs=args.runs, seconds=args.wrk_seconds, header=header)
            if rates:
                summary.append((label, statistics.median(rates), min(rates), max(rates)))
        print(f"\nwrk -t2 -c16 against gunicorn (2 sync workers), {args.runs} runs of {args.wrk_seconds} s")
        print(f"{'viewer':<22}{'median req/s':>14}{'min':>8}{'max':>8}")
        for label, median, low, high in summary:
            print(f"{label:<22}{median:>14.0f}{low:>8.0f}{high:>8.0f}")


if __name__ == "__main__":
    main()
