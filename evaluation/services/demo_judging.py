"""The demo's judging challenge (``seed_demo``): closed for entries, being judged, with entries scored by the real
scoring code and reviewed already by two of its three judges, so that a new user can judge at once as ``judge``
and publish as ``organizer`` (docs/judging.md).

Idempotent: a second run moves the dates along and leaves the entries and reviews as they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from chartbusters.accounts.roles import Role
from chartbusters.accounts.services import user_add_role
from chartbusters.challenges.models import Challenge
from evaluation.formula import RUBRIC
from evaluation.models import JudgeAssignment, JudgingSettings
from evaluation.services.judging import judge_assignment_save, judging_assign
from submissions.models import Submission

SLUG = "winter-judging"
TITLE = "Winter folk tunes (being judged: try judging)"
DESCRIPTION = """\
A demo challenge in its **judging phase**: entries are closed and scored; three judges review each entry blind.
`judge2` and `judge3` have submitted their reviews. Log in as `judge` and open **Judging** to review your entries,
then as `organizer` publish the results (Judging, then this challenge).
"""
EXAMPLES = Path(settings.BASE_DIR) / "examples"
# (composer, title, file): real folk tunes the reference set never saw, and one trivial piece.
ENTRIES = [
    ("composer1", "Morning song", "folk/held-out/altdeu10-2.mid"),
    ("composer2", "Over the hill", "folk/held-out/altdeu10-22.mid"),
    ("composer3", "The miller", "folk/held-out/altdeu10-36.mid"),
    ("composer4", "Lantern walk", "folk/held-out/altdeu10-5.mid"),
    ("composer5", "Snow on the pines", "folk/held-out/altdeu10-6.mid"),
    ("composer6", "Up and down", "trivial/arpeggio.mid"),
]
JUDGES = ("judge", "judge2", "judge3")
OTHER_JUDGES_BIAS = {"judge2": 1, "judge3": 0}  # judge2 is lenient: the organizer sees it in the agreement


def _user(username: str, role: Role, password: str):
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    user.set_password(password)
    user.save()
    user_add_role(user=user, role=role)
    return user


def _marks(automatic: float, bias: int, salt: int) -> dict[str, int]:
    base = 1 + round(4 * automatic / 100)
    return {name: max(1, min(5, base + bias + (salt + i) % 2 - (i == 2))) for i, name in
            enumerate(RUBRIC)}


def demo_judging_seed(*, password: str, now: datetime | None = None) -> Challenge:
    """Create or refresh the judging demo; scoring needs the scoring code (torch), as a worker would run it."""
    from evaluation.services.scoring import submission_score

    now = now or timezone.now()
    with transaction.atomic():
        judges = [_user(name, Role.JUDGE, password) for name in JUDGES]
        organizer = _user("organizer", Role.ORGANIZER, password)
        challenge, _ = Challenge.objects.update_or_create(slug=SLUG, defaults={
            "title": TITLE, "description": DESCRIPTION, "kind": Challenge.Kind.MELODY_GO_ROUND,
            "opens_at": now - timedelta(days=30), "closes_at": now - timedelta(days=1),
            "judging_ends_at": now + timedelta(days=14), "alpha": 0.5, "published": True,
        })
        challenge.judges.add(*judges)
        challenge.organizers.add(organizer)
        JudgingSettings.objects.get_or_create(challenge=challenge, defaults={"judges_per_entry": 3})
        new = []
        for username, title, path in ENTRIES:
            entrant = _user(username, Role.ENTRANT, password)
            if Submission.objects.filter(challenge=challenge, entrant=entrant).exists():
                continue
            submission = Submission(challenge=challenge, entrant=entrant, kind=Submission.Kind.COMPOSITION,
                                    title=title, licence=challenge.entry_licence)
            submission.midi.save(Path(path).name, ContentFile((EXAMPLES / path).read_bytes()), save=False)
            submission.save()
            new.append(submission.pk)
    for submission_id in new:  # as the scoring worker does; the audio is queued for the audio worker
        submission_score(submission_id=submission_id)
    if not JudgeAssignment.objects.filter(challenge=challenge).exists():
        judging_assign(challenge_id=challenge.pk, seed=14)
        for a in JudgeAssignment.objects.filter(challenge=challenge).select_related("judge", "submission__score"):
            bias = OTHER_JUDGES_BIAS.get(a.judge.username)
            if bias is None:
                continue
            judge_assignment_save(assignment_id=a.pk, judge=a.judge, submit=True,
                                  comment="Demo review: a clear tune." if bias else "",
                                  **_marks(a.submission.score.automatic, bias, a.entry_number))
    return challenge


def demo_judging_extra(*, password: str) -> str:
    """``seed_demo``'s hook (registered in EvaluationConfig.ready): seed the judging demo, say what to do."""
    challenge = demo_judging_seed(password=password)
    return (f"Challenge {challenge.slug}: being judged; log in as judge to review (/judging/), then as organizer "
            "to publish.")
