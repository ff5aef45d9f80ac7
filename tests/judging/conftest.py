"""Fixtures of the judging tests: a closed challenge (being judged) with scored entries from several entrants,
judges and an organizer, all made through the real services (no worker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from chartbusters.accounts.roles import Role
from chartbusters.challenges.models import Challenge
from evaluation.models import JudgingSettings
from tests.factories import ChallengeFactory, entry_create, entry_score, rendering_create


def close_entries(challenge: Challenge) -> Challenge:
    """Entries closed yesterday, judging runs for a week: the challenge is being judged."""
    now = timezone.now()
    challenge.opens_at = now - timedelta(days=10)
    challenge.closes_at = now - timedelta(days=1)
    challenge.judging_ends_at = now + timedelta(days=7)
    challenge.save()
    return challenge


@dataclass
class Contest:
    challenge: Challenge
    organizer: object
    judges: list
    entrants: list
    entries: list  # one scored entry per entrant, with audio
    automatic: dict = field(default_factory=dict)  # submission id -> automatic score


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def make_contest(db, media, make_user):
    """``make_contest(n_entrants=6, n_judges=4, k=3, **settings)``: entries scored while open, then closed."""
    counter = {"n": 0}

    def make(*, n_entrants: int = 6, n_judges: int = 4, k: int = 3, automatic=None, **judging) -> Contest:
        counter["n"] += 1
        tag = counter["n"]
        challenge = ChallengeFactory(slug=f"judged-{tag}", alpha=0.5)
        organizer = make_user(f"org{tag}", role=Role.ORGANIZER)
        challenge.organizers.add(organizer)
        judges = [make_user(f"judge{tag}_{i}", role=Role.JUDGE) for i in range(n_judges)]
        challenge.judges.add(*judges)
        entrants = [make_user(f"entrant{tag}_{i}", role=Role.ENTRANT) for i in range(n_entrants)]
        scores = automatic or [40.0 + 5 * i for i in range(n_entrants)]
        entries = []
        for entrant, value in zip(entrants, scores, strict=True):
            entry = entry_score(entry_create(challenge=challenge, entrant=entrant, title=f"Song by {entrant.username}",
                                             original_filename=f"{entrant.username}-upload.mid"), automatic=value)
            rendering_create(entry)
            entries.append(entry)
        JudgingSettings.objects.create(challenge=challenge, judges_per_entry=k, **judging)
        close_entries(challenge)
        return Contest(challenge=challenge, organizer=organizer, judges=judges, entrants=entrants, entries=entries,
                       automatic={e.pk: v for e, v in zip(entries, scores, strict=True)})

    return make
