"""Fixtures of the results tests: a challenge, people in each role, and entries driven through the real lifecycle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from chartbusters.accounts.roles import Role
from chartbusters.challenges.models import Challenge
from evaluation.services.score_store import score_store
from submissions.models import Submission
from submissions.services.lifecycle import submission_mark_failed, submission_mark_scored, submission_mark_scoring
from tests.engine.midi_factory import make_pm

T0 = timezone.now() - timedelta(days=1)


def chorale_like_midi() -> bytes:
    """Four bars of four-part C major (soprano/alto/tenor/bass), enough for every metric."""
    import io

    chords = [(72, 67, 64, 48), (74, 65, 62, 43), (72, 67, 64, 48), (71, 67, 62, 43)] * 2
    tracks = [[(chord[v], 2 * i, 2 * i + 2) for i, chord in enumerate(chords)] for v in range(4)]
    buffer = io.BytesIO()
    make_pm(tracks).write(buffer)
    return buffer.getvalue()


@pytest.fixture
def people(make_user):
    entrant = make_user("ada", role=Role.ENTRANT)
    other = make_user("bob", role=Role.ENTRANT)
    judge = make_user("jude", role=Role.JUDGE)
    organizer = make_user("olga", role=Role.ORGANIZER)
    outsider_organizer = make_user("oscar", role=Role.ORGANIZER)
    return {"entrant": entrant, "other": other, "judge": judge, "organizer": organizer,
            "outsider_organizer": outsider_organizer}


@pytest.fixture
def challenge(db, people):
    now = timezone.now()
    challenge = Challenge.objects.create(
        slug="bach-off", title="Bach-off", opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=5),
        judging_ends_at=now + timedelta(days=10), total_quota=1000, daily_quota=1000,
    )
    challenge.organizers.add(people["organizer"])
    challenge.judges.add(people["judge"])
    return challenge


def automatic_only(challenge: Challenge) -> Challenge:
    """No human judging (alpha 0): names and music are public while entries are open (docs/competing.md "Results
    visibility": a judged challenge is blind until its results are published)."""
    challenge.alpha = 0
    challenge.save(update_fields=["alpha"])
    return challenge


def new_entry(challenge, entrant, *, minutes: float = 0.0, title: str = "entry") -> Submission:
    submission = Submission.objects.create(
        challenge=challenge, entrant=entrant, kind=Submission.Kind.COMPOSITION, title=title, licence="CC BY 4.0",
    )
    submission.midi.save(f"{title}.mid", ContentFile(chorale_like_midi()), save=True)
    created = T0 + timedelta(minutes=minutes)
    Submission.objects.filter(pk=submission.pk).update(created_at=created)
    submission.created_at = created
    return submission


def scored_entry(challenge, entrant, automatic: float, *, minutes: float = 0.0, title: str = "entry") -> Submission:
    """An entry taken through queued -> scoring -> scored with a stored score (style/realness from the total)."""
    submission = new_entry(challenge, entrant, minutes=minutes, title=title)
    submission_mark_scoring(submission_id=submission.pk)
    score_store(
        submission_id=submission.pk, automatic=automatic, style=automatic / 100, realness=automatic / 100,
        parts={"metrics": {"pitch_range": {"value": 12.0, "mean": 14.0, "std": 4.0, "closeness": 0.88}},
               "weights": {"style": 1.0, "realness": 1.0}},
    )
    submission_mark_scored(submission_id=submission.pk)
    submission.refresh_from_db()
    return submission


def failed_entry(challenge, entrant, *, minutes: float = 0.0, error: str = "No notes at all.") -> Submission:
    submission = new_entry(challenge, entrant, minutes=minutes, title="failed")
    submission_mark_scoring(submission_id=submission.pk)
    submission_mark_failed(submission_id=submission.pk, error=error, platform_fault=False)
    submission.refresh_from_db()
    return submission
