"""Quotas: per UTC day and in all, 429 with the reset time, platform failures not counted, race-free."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.utils import timezone

from submissions.models import Submission
from submissions.selectors import quota_usage_get
from submissions.services.errors import EntryRefusedError
from submissions.services.intake import submission_create_composition
from submissions.services.lifecycle import submission_mark_failed
from submissions.services.quotas import DAILY_QUOTA_MESSAGE, TOTAL_QUOTA_MESSAGE
from tests.submissions.conftest import midi_bytes, stored_files


def enter(challenge, entrant, now=None, title="Tune"):
    return submission_create_composition(
        challenge=challenge, entrant=entrant, title=title, licence_accepted=True, now=now,
        midi_file=SimpleUploadedFile("t.mid", midi_bytes(), content_type="audio/midi"),
    )


def post(client):
    return client.post("/api/challenges/mgr/submissions/", {
        "title": "Tune", "accept_licence": "true",
        "composition": SimpleUploadedFile("t.mid", midi_bytes(), content_type="audio/midi"),
    }, format="multipart")


@pytest.mark.django_db
def test_daily_quota_gives_429_with_reset_time(api, mgr, users, media_root):
    client = api("entrant")
    assert post(client).status_code == 202
    assert post(client).status_code == 202
    files_before = stored_files(media_root)
    response = post(client)
    assert response.status_code == 429
    error = response.json()["error"]
    tomorrow = (timezone.now().astimezone(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                                            microsecond=0)
    assert error["code"] == "quota_exceeded"
    assert datetime.fromisoformat(error["retry_at"]) == tomorrow
    assert error["message"] == DAILY_QUOTA_MESSAGE.format(quota=2, resets_at=tomorrow)
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 86_401
    assert abs((timezone.now() + timedelta(seconds=retry_after)) - tomorrow) < timedelta(seconds=5)
    assert Submission.objects.count() == 2
    assert stored_files(media_root) == files_before
    # Another entrant has a quota of their own.
    assert post(api("other")).status_code == 202


@pytest.mark.django_db
def test_day_quota_resets_at_utc_midnight_and_total_quota_holds(mgr, users, media_root):
    entrant = users["entrant"]
    yesterday = timezone.now() - timedelta(days=1)
    for i in range(2):
        enter(mgr, entrant, title=f"old {i}")
    Submission.objects.update(created_at=yesterday)
    usage = quota_usage_get(challenge=mgr, entrant=entrant)
    assert (usage.used_today, usage.used_total) == (0, 2)
    enter(mgr, entrant)  # the third in all, the first today
    with pytest.raises(EntryRefusedError) as exc:
        enter(mgr, entrant)
    assert exc.value.status == 429
    assert exc.value.message == TOTAL_QUOTA_MESSAGE.format(quota=3)
    assert exc.value.retry_at is None  # waiting does not help


@pytest.mark.django_db
def test_platform_failures_do_not_count(mgr, users, media_root):
    entrant = users["entrant"]
    first = enter(mgr, entrant)
    enter(mgr, entrant)
    with pytest.raises(EntryRefusedError):
        enter(mgr, entrant)
    submission_mark_failed(submission_id=first.pk, error="The worker died.", platform_fault=True)
    assert quota_usage_get(challenge=mgr, entrant=entrant).used_today == 1
    enter(mgr, entrant)  # the slot is free again


@pytest.mark.django_db
def test_entrant_faults_still_count(mgr, users, media_root):
    first = enter(mgr, users["entrant"])
    submission_mark_failed(submission_id=first.pk, error="Your music is empty.", platform_fault=False)
    assert quota_usage_get(challenge=mgr, entrant=users["entrant"]).used_today == 1


def test_describe_states_usage_and_reset():
    from submissions.selectors import QuotaUsage

    usage = QuotaUsage(used_today=3, daily_quota=5, used_total=7, total_quota=50,
                       resets_at=datetime(2030, 1, 2, tzinfo=UTC))
    assert usage.describe() == "3 of 5 today (resets 00:00 UTC), 7 of 50 in all"


@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="SQLite serializes writes (one writer at a time), so it cannot show a race; "
                           "this test runs on PostgreSQL in CI (.ci/run)")
@pytest.mark.django_db(transaction=True)
def test_parallel_requests_at_the_limit_admit_exactly_the_quota(mgr, users, media_root, monkeypatch):
    """12 threads, each with its own database connection, enter at once: exactly the daily quota (2) get in."""
    # Keep the committed entries away from a real worker another test may have started (it would score them).
    monkeypatch.setattr("chartbusters.celery.app.send_task", lambda name, **kwargs: None)
    entrant = users["entrant"]
    n_threads = 12
    barrier = threading.Barrier(n_threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=30)
            try:
                enter(mgr, entrant)
                outcome = "admitted"
            except EntryRefusedError as exc:
                outcome = f"refused {exc.status}"
            with lock:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["admitted"] * 2 + ["refused 429"] * (n_threads - 2)
    assert Submission.objects.filter(entrant=entrant).count() == 2
    assert len(stored_files(media_root)) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("upload", [
    b"not a MIDI file at all",
    b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk" + (3 * 690_000 + 4).to_bytes(4, "big")
    + b"\x00\x90\x3c\x40" + b"\x00\x3c\x40" * 690_000,  # ~2 MiB of running-status notes
], ids=["garbage", "note-flood"])
def test_a_used_up_quota_is_429_before_the_file_is_read(api, mgr, users, media_root, upload):
    client = api("entrant")
    assert post(client).status_code == 202
    assert post(client).status_code == 202
    response = client.post("/api/challenges/mgr/submissions/", {
        "title": "Tune", "accept_licence": "true", "composition": SimpleUploadedFile("t.mid", upload),
    }, format="multipart")
    assert response.status_code == 429, response.content
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert "Retry-After" in response.headers
    assert Submission.objects.count() == 2
    # the same file from someone with quota left is refused for what it is
    other = api("other").post("/api/challenges/mgr/submissions/", {
        "title": "Tune", "accept_licence": "true", "composition": SimpleUploadedFile("t.mid", upload),
    }, format="multipart")
    assert other.status_code == 422
