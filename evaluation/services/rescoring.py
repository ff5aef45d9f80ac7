"""Rescoring every entry of a challenge with the current scorer, as one task (Judge III item 8, Rankings item 4).

This module is the web side (no torch): ``challenge_rescore_request`` queues the task (the ``scoring`` queue) when
the challenge's realness model becomes ready or an organizer asks (admin action); ``challenge_check_one_scorer``
refuses publication while versions are mixed. The worker side, ``evaluation.services.rescore_run``:
``challenge_rescore_run`` (the task) and ``challenge_rescore`` (``manage.py rescore``) rescore:

- every scored entry, in submission order (so that each is checked for copies against the earlier entries exactly as
  when it was first scored), from its stored MIDI: score_pieces, then score_store (judges' marks and an organizer's
  clearance of a copy flag are kept) and the entry's originality fingerprint again; its status does not change;
- progress on the ChallengeRescore row (the admin shows it; the leaderboard says "rescoring" until it is done);
- a report: per entry whose score (at the printed precision, one decimal) or rank changed, before and after, and the
  scorer versions it carried; entries that failed or have no score are listed apart with their reason and never
  ranked. ``report["no_change"]`` is true when nothing changed.

An entry that cannot be scored now although it was before (ScoringError) keeps its score and is reported.
"""

from __future__ import annotations

from django.db import transaction

from chartbusters.dispatch import send_task
from chartbusters.errors import ApplicationError
from evaluation.models import ChallengeRescore, Score
from evaluation.services.leaderboard import leaderboard_version_bump
from submissions.models import Submission

RESCORE_TASK = "evaluation.rescore_challenge"
RESCORE_QUEUE = "scoring"
MANUAL_REASON = "an organizer asked for it"
RUNNING_ELSEWHERE = "A rescoring of {challenge} is already {status}; wait for it to finish."


@transaction.atomic
def challenge_rescore_request(*, challenge_id: int, reason: str, by=None) -> ChallengeRescore:
    """Queue a rescoring of the challenge (one queued at a time: a second request joins the queued one). The
    leaderboard says "rescoring" from now on."""
    queued = (
        ChallengeRescore.objects.select_for_update()
        .filter(challenge_id=challenge_id, status=ChallengeRescore.Status.QUEUED)
        .first()
    )
    if queued is not None:
        return queued
    row = ChallengeRescore.objects.create(challenge_id=challenge_id, reason=reason, requested_by=by)
    leaderboard_version_bump(challenge_id=challenge_id)
    send_task(RESCORE_TASK, args=(row.pk,), queue=RESCORE_QUEUE)  # once the transaction commits
    return row


def challenge_is_rescoring(*, challenge_id: int) -> bool:
    from chartbusters.challenges.models import Challenge
    from evaluation.selectors.leaderboard import leaderboard_is_rescoring

    return leaderboard_is_rescoring(challenge=Challenge(pk=challenge_id))


RESCORING_REFUSAL = (
    "The entries of {challenge} are being rescored (or its realness model trained); publish once "
    "that is done, so that every result comes from one scorer."
)
OLD_VERSION_REFUSAL = (
    "{n} scored entr{ies} of {challenge} carry an older scorer version than the current one "
    "({version}); rescore the challenge (admin action or manage.py rescore) before publishing."
)


def challenge_check_one_scorer(*, challenge) -> None:
    """Raise ApplicationError (409) unless every scored entry of the challenge carries the current scorer version
    and nothing is being rescored. Scores stored without a version (before versions were recorded, or by hand)
    are not counted as older."""
    from evaluation.scorer import current_scorer_version

    if challenge_is_rescoring(challenge_id=challenge.pk):
        raise ApplicationError("rescoring", RESCORING_REFUSAL.format(challenge=challenge.title), status=409)
    version = current_scorer_version(challenge)
    n = (
        Score.objects.filter(
            challenge=challenge, submission__status=Submission.Status.SCORED, submission__disqualified=False
        )
        .exclude(scorer_version="")
        .exclude(scorer_version=version)
        .count()
    )
    if n:
        raise ApplicationError(
            "scorer_version",
            OLD_VERSION_REFUSAL.format(n=n, ies="y" if n == 1 else "ies", challenge=challenge.title, version=version),
            status=409,
        )
