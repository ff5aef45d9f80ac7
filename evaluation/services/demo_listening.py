"""The demo's audience (``seed_demo``, issue 26): five demo listeners have compared pairs of the judging demo's
entries, so that the pair page, the audience ratings and their intervals show at once; and the Melody Harvest demo's
last hidden input is private, so that it ranks on its public inputs while open and on the private one after close.

Votes are drawn from a Davidson model whose strengths follow the entries' automatic scores (a listener prefers the
better-scored tune more often than not, and sometimes hears no difference), with a fixed seed: the same votes every
run. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction

from chartbusters.accounts.roles import Role
from chartbusters.accounts.services import user_add_role
from chartbusters.challenges.models import Challenge, InputMelody
from evaluation.models import LeaderboardEntry, PairVote
from evaluation.services.pairs import audience_ratings_refresh

JUDGING_SLUG = "winter-judging"
HARVEST_SLUG = "melody-harvest"
LISTENERS = ("listener1", "listener2", "listener3", "listener4", "listener5")
PAIRS_PER_LISTENER = 9  # of the 15 pairs of six entries: 45 votes, ~15 per entry
TIE_PARAMETER = 0.6  # "about the same" about a quarter of the time between equals
SEED = 26


def _listener(username: str, password: str):
    user, created = get_user_model().objects.get_or_create(username=username,
                                                           defaults={"email": f"{username}@example.com"})
    if created:
        user.set_password(password)
        user.save()
        user_add_role(user=user, role=Role.ENTRANT)
    return user


@transaction.atomic
def demo_listening_seed(*, password: str) -> int:
    """Votes of the demo listeners on the judging demo; returns the votes added (0 on a second run)."""
    challenge = Challenge.objects.filter(slug=JUDGING_SLUG).first()
    if challenge is None:
        return 0
    rows = list(LeaderboardEntry.objects.filter(challenge=challenge).order_by("submission_id")
                .values_list("submission_id", "automatic"))
    if len(rows) < 2:
        return 0
    mean = sum(a for _, a in rows) / len(rows)
    theta = {sid: (automatic - mean) / 12.0 for sid, automatic in rows}
    pairs = list(itertools.combinations([sid for sid, _ in rows], 2))
    rng = np.random.default_rng(SEED)
    added = 0
    for username in LISTENERS:
        user = _listener(username, password)
        for index in rng.permutation(len(pairs))[:PAIRS_PER_LISTENER]:
            low, high = pairs[index]
            pa, pb = math.exp(theta[low]), math.exp(theta[high])
            s = math.sqrt(pa * pb)
            u = rng.random() * (pa + pb + TIE_PARAMETER * s)
            preferred = low if u < pa else high if u < pa + pb else None
            _, created = PairVote.objects.get_or_create(listener=user, low_id=low, high_id=high, defaults={
                "challenge": challenge, "preferred_id": preferred})
            added += created
    if added:
        audience_ratings_refresh(challenge_id=challenge.pk)
    return added


def demo_private_input() -> str:
    """The Melody Harvest demo keeps its last hidden input (by name) private, when it has no private one yet."""
    hidden = InputMelody.objects.filter(challenge__slug=HARVEST_SLUG).exclude(role=InputMelody.Role.EXAMPLE)
    if hidden.filter(role=InputMelody.Role.PRIVATE).exists() or hidden.count() < 2:
        return ""
    last = hidden.order_by("-name").first()
    InputMelody.objects.filter(pk=last.pk).update(role=InputMelody.Role.PRIVATE)
    return last.name


def demo_listening_extra(*, password: str) -> str:
    """``seed_demo``'s hook (registered in EvaluationConfig.ready, after the judging demo)."""
    added = demo_listening_seed(password=password)
    demo_private_input()
    votes = PairVote.objects.filter(challenge__slug=JUDGING_SLUG).count()
    if not votes:
        return "No judging demo: no audience votes."
    return (f"Challenge {JUDGING_SLUG}: {votes} audience votes ({added} new) from {len(LISTENERS)} demo listeners; "
            f"compare pairs at /listen/{JUDGING_SLUG}/. {HARVEST_SLUG} ranks on its private input after close.")
