"""Human judging (docs/judging.md; docs/design.md section 5): assignment, reviews, the final round, publication.

Every refusal raises ``ApplicationError`` (code, message, HTTP status); nothing is half-stored (each service is one
transaction). Judges' marks stay in ``JudgeAssignment`` rows until the organizers publish: only then do they enter
the scores (``score_record_judging``), so that nobody sees a judge score before publication.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from chartbusters.challenges.models import Challenge
from chartbusters.errors import ApplicationError
from evaluation.formula import RUBRIC, RUBRIC_MAX, RUBRIC_MIN
from evaluation.judging import AssignmentImpossibleError, assign
from evaluation.models import JudgeAssignment, JudgeConflict, JudgingSettings, LeaderboardEntry
from evaluation.selectors.judging import (
    judging_entries_to_judge,
    judging_forbidden_pairs,
    judging_results,
    judging_settings_of,
)
from evaluation.services.leaderboard import leaderboard_phase_sync
from evaluation.services.rescoring import challenge_check_one_scorer
from evaluation.services.score_store import score_record_judging
from submissions.models import Submission
from submissions.selectors import user_organizes

logger = logging.getLogger(__name__)
Status = JudgeAssignment.Status

NOT_ORGANIZER = "Only the organizers of \u201c{challenge}\u201d can do this."
NOT_CLOSED = "\u201c{challenge}\u201d is still open for entries; judges are assigned once it closes."
ALREADY_ASSIGNED = "Judges are already assigned for round {round} of \u201c{challenge}\u201d; reassign one instead."
NOTHING_TO_JUDGE = "\u201c{challenge}\u201d has no ranked entry to judge."
IN_PROGRESS = "{n} entries of \u201c{challenge}\u201d are still being scored; assign judges once they are done."
ASSIGNMENT_NOT_FOUND = "There is no assignment {id} of yours."
ALREADY_SUBMITTED = "Entry #{number} is already submitted; submitted reviews are final."
RESULTS_PUBLISHED = "The results of \u201c{challenge}\u201d are published; reviews can no longer change."
MARK_INVALID = "{name} must be a whole number from " + f"{RUBRIC_MIN} to {RUBRIC_MAX}" + "; got {value!r}."
MARKS_MISSING = "Give every mark before submitting: {names} missing."
COMMENT_TOO_LONG = "The comment is {n} characters long; at most 5000."
NOT_A_JUDGE = "{user} is not a judge of \u201c{challenge}\u201d; add them to its judges first."
CONFLICTED = "{user} may not review entry #{number}: a conflict of interest with its entrant."
ALREADY_ON_ENTRY = "{user} already reviews entry #{number} in this round."
NO_FINAL_ROUND = "\u201c{challenge}\u201d has a single round of judging; turn on two rounds in its judging settings."
ROUND_NOT_DONE = "{n} reviews of round {round} are not submitted yet."
NOT_ASSIGNED_YET = "No judge is assigned to \u201c{challenge}\u201d yet."
FINAL_ROUND_MISSING = "Start the final round (and let it finish) before publishing."
ALREADY_PUBLISHED = "The results of \u201c{challenge}\u201d are already published."


def _organizer_challenge(*, challenge_id: int, user) -> Challenge:
    challenge = Challenge.objects.select_for_update().get(pk=challenge_id)
    if user is not None and not user_organizes(user=user, challenge=challenge):
        raise ApplicationError("permission_denied", NOT_ORGANIZER.format(challenge=challenge.title), status=403)
    return challenge


def _create_assignments(*, challenge: Challenge, round_number: int, plan: dict, numbers: dict[int, int]) -> int:
    rows = [
        JudgeAssignment(challenge=challenge, submission_id=submission_id, judge_id=judge_id, round=round_number,
                        entry_number=numbers[submission_id])
        for submission_id, judge_ids in plan.items()
        for judge_id in judge_ids
    ]
    random.shuffle(rows)  # ids in random order: an assignment's id says nothing of when the entry came in
    JudgeAssignment.objects.bulk_create(rows)
    return len(rows)


def _plan(*, challenge: Challenge, submissions: list[tuple[int, int]], k: int, numbers: dict[int, int],
          avoid: set = frozenset(), seed: int | None = None) -> dict:
    judges = sorted(challenge.judges.values_list("pk", flat=True))
    forbidden = judging_forbidden_pairs(challenge=challenge, submissions=submissions, judges=judges)
    try:
        return assign(entries=[s for s, _ in submissions], judges=judges, k=k, forbidden=forbidden, avoid=avoid,
                      labels=numbers, seed=random.randrange(2**31) if seed is None else seed)
    except AssignmentImpossibleError as exc:
        raise ApplicationError("assignment_impossible", str(exc), status=409) from exc


@transaction.atomic
def judging_assign(*, challenge_id: int, by=None, now: datetime | None = None, seed: int | None = None) -> int:
    """Round 1: give each entry to judge (JudgingSettings.selection) k judges; returns the number of assignments.
    ``by`` None: the platform (when entries close), else an organizer of the challenge."""
    challenge = _organizer_challenge(challenge_id=challenge_id, user=by)
    now = now or timezone.now()
    if now < challenge.closes_at:
        raise ApplicationError("not_closed", NOT_CLOSED.format(challenge=challenge.title), status=409)
    if JudgeAssignment.objects.filter(challenge=challenge, round=1).exists():
        raise ApplicationError("already_assigned", ALREADY_ASSIGNED.format(round=1, challenge=challenge.title),
                               status=409)
    busy = challenge.submissions.filter(status__in=["queued", "generating", "scoring"]).count()
    if busy:
        raise ApplicationError("entries_in_progress", IN_PROGRESS.format(n=busy, challenge=challenge.title),
                               status=409)
    leaderboard_phase_sync(challenge_id=challenge.pk)  # a split challenge's rows rank on its private inputs now
    settings = judging_settings_of(challenge=challenge)
    submissions = judging_entries_to_judge(challenge=challenge, settings=settings)
    if not submissions:
        raise ApplicationError("nothing_to_judge", NOTHING_TO_JUDGE.format(challenge=challenge.title), status=409)
    order = [s for s, _ in submissions]
    random.Random(seed).shuffle(order)  # entry numbers say nothing about rank or time of entry
    numbers = {submission_id: i for i, submission_id in enumerate(order, start=1)}
    plan = _plan(challenge=challenge, submissions=submissions, k=settings.judges_per_entry, numbers=numbers,
                 seed=seed)
    return _create_assignments(challenge=challenge, round_number=1, plan=plan, numbers=numbers)


def judging_assign_due(*, now: datetime | None = None) -> dict[str, int | str]:
    """The periodic task: assign judges of every challenge whose entries closed and that has none yet (judges
    given, alpha > 0, nothing still being scored). Returns {slug: assignments made, or why not}."""
    now = now or timezone.now()
    due = (
        Challenge.objects.filter(closes_at__lte=now, judging_ends_at__gt=now, results_published=False, alpha__gt=0)
        .annotate(n_judges=Count("judges", distinct=True))
        .filter(n_judges__gt=0)
        .exclude(judge_assignments__round=1)
    )
    done: dict[str, int | str] = {}
    for challenge in due:
        try:
            done[challenge.slug] = judging_assign(challenge_id=challenge.pk, now=now)
        except ApplicationError as exc:
            done[challenge.slug] = exc.message
            if exc.code not in ("entries_in_progress", "nothing_to_judge"):
                logger.warning("Could not assign the judges of %s: %s", challenge.slug, exc.message)
    return done


def _marks_clear(assignment: JudgeAssignment) -> None:
    """A review handed to another judge starts again: no marks, no comment (the caller saves it)."""
    for name in RUBRIC:
        setattr(assignment, name, None)
    assignment.comment = ""


def _mark(name: str, value) -> int | None:
    """A mark from a form or JSON: None (not given yet), else a whole number 1-5 (as int or digits)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        number = None
    if number is None or not RUBRIC_MIN <= number <= RUBRIC_MAX:
        raise ApplicationError("invalid_mark", MARK_INVALID.format(name=name.title(), value=value), status=422)
    return number


@transaction.atomic
def judge_assignment_save(*, assignment_id: int, judge, originality=None, balance=None, emotion=None,
                          comment: str = "", submit: bool = False) -> JudgeAssignment:
    """A judge saves a draft (any marks given so far) or submits (all three marks, final) of their review."""
    assignment = (
        JudgeAssignment.objects.select_for_update().select_related("challenge")
        .filter(pk=assignment_id, judge_id=getattr(judge, "pk", None)).first()
    )
    if assignment is None:
        raise ApplicationError("not_found", ASSIGNMENT_NOT_FOUND.format(id=assignment_id), status=404)
    if assignment.challenge.results_published:
        raise ApplicationError("results_published", RESULTS_PUBLISHED.format(challenge=assignment.challenge.title),
                               status=409)
    if assignment.status == Status.SUBMITTED:
        raise ApplicationError("already_submitted", ALREADY_SUBMITTED.format(number=assignment.entry_number),
                               status=409)
    marks = {name: _mark(name, value) for name, value in zip(RUBRIC, (originality, balance, emotion), strict=True)}
    comment = (comment or "").strip()
    if len(comment) > 5000:
        raise ApplicationError("comment_too_long", COMMENT_TOO_LONG.format(n=len(comment)), status=422)
    if submit:
        missing = [name for name, value in marks.items() if value is None]
        if missing:
            raise ApplicationError("marks_missing", MARKS_MISSING.format(names=", ".join(missing)), status=422)
    for name, value in marks.items():
        setattr(assignment, name, value)
    assignment.comment = comment
    assignment.status = Status.SUBMITTED if submit else Status.DRAFT
    assignment.submitted_at = timezone.now() if submit else None
    assignment.full_clean(exclude=["challenge", "submission", "judge"])
    assignment.save()
    return assignment


def _check_judge_for(*, assignment: JudgeAssignment, judge) -> None:
    challenge = assignment.challenge
    name = judge.get_username()
    if not challenge.judges.filter(pk=judge.pk).exists():
        raise ApplicationError("not_a_judge", NOT_A_JUDGE.format(user=name, challenge=challenge.title), status=422)
    entrant_id = assignment.submission.entrant_id
    if judge.pk == entrant_id or JudgeConflict.objects.filter(challenge=challenge, judge=judge,
                                                              entrant_id=entrant_id).exists():
        raise ApplicationError("conflict_of_interest", CONFLICTED.format(user=name, number=assignment.entry_number),
                               status=422)
    if JudgeAssignment.objects.filter(submission_id=assignment.submission_id, round=assignment.round,
                                      judge=judge).exclude(pk=assignment.pk).exists():
        raise ApplicationError("already_assigned", ALREADY_ON_ENTRY.format(user=name,
                                                                           number=assignment.entry_number), status=422)


@transaction.atomic
def judge_assignment_reassign(*, assignment_id: int, judge_id: int, by) -> JudgeAssignment:
    """An organizer gives a review that is not submitted yet to another judge of the challenge (the draft is
    dropped)."""
    assignment = JudgeAssignment.objects.select_for_update().select_related("challenge", "submission").get(
        pk=assignment_id)
    _organizer_challenge(challenge_id=assignment.challenge_id, user=by)
    if assignment.status == Status.SUBMITTED:
        raise ApplicationError("already_submitted", ALREADY_SUBMITTED.format(number=assignment.entry_number),
                               status=409)
    judge = get_user_model().objects.filter(pk=judge_id).first()
    if judge is None:
        raise ApplicationError("not_found", f"There is no user {judge_id}.", status=422)
    _check_judge_for(assignment=assignment, judge=judge)
    assignment.judge = judge
    assignment.status = Status.PENDING
    _marks_clear(assignment)
    assignment.save()
    return assignment


@transaction.atomic
def judging_judge_replace(*, challenge_id: int, judge_id: int) -> dict[str, int]:
    """A judge left the challenge: each review of theirs not yet submitted goes to the least-loaded judge who may
    take it (no conflict, not on that entry already); with nobody free it is dropped (the organizers' page shows
    the entry short of judges). Submitted reviews stay."""
    if not JudgeAssignment.objects.filter(challenge_id=challenge_id, judge_id=judge_id).exists():
        return {"replaced": 0, "dropped": 0}  # also: the challenge or the user being deleted (cascade)
    challenge = Challenge.objects.select_for_update().filter(pk=challenge_id).first()
    if challenge is None:
        return {"replaced": 0, "dropped": 0}
    open_reviews = list(
        JudgeAssignment.objects.select_for_update().select_related("submission")
        .filter(challenge=challenge, judge_id=judge_id).exclude(status=Status.SUBMITTED)
    )
    if not open_reviews:
        return {"replaced": 0, "dropped": 0}
    judges = list(challenge.judges.exclude(pk=judge_id).values_list("pk", flat=True))
    loads = dict.fromkeys(judges, 0)
    for row in (JudgeAssignment.objects.filter(challenge=challenge, judge_id__in=judges)
                .values("judge_id").annotate(n=Count("pk"))):
        loads[row["judge_id"]] = row["n"]
    conflicts = set(JudgeConflict.objects.filter(challenge=challenge).values_list("judge_id", "entrant_id"))
    replaced = dropped = 0
    for review in open_reviews:
        taken = set(JudgeAssignment.objects.filter(submission_id=review.submission_id, round=review.round)
                    .values_list("judge_id", flat=True))
        entrant = review.submission.entrant_id
        free = [j for j in judges if j not in taken and j != entrant and (j, entrant) not in conflicts]
        if not free:
            review.delete()
            dropped += 1
            continue
        best = min(free, key=lambda j: (loads[j], random.random()))
        loads[best] += 1
        review.judge_id = best
        review.status = Status.PENDING
        _marks_clear(review)
        review.save()
        replaced += 1
    return {"replaced": replaced, "dropped": dropped}


def judging_judges_left(*, pairs) -> None:
    """(challenge id, judge id) pairs of judges who left: each is replaced in their open reviews."""
    for challenge_id, judge_id in pairs:
        judging_judge_replace(challenge_id=challenge_id, judge_id=judge_id)


@transaction.atomic
def judging_final_round_start(*, challenge_id: int, by, seed: int | None = None) -> int:
    """Round 2 (two-round challenges): the top N after round 1 get more judges, preferably ones who have not heard
    them yet. Round 1 must be complete."""
    challenge = _organizer_challenge(challenge_id=challenge_id, user=by)
    settings = judging_settings_of(challenge=challenge)
    if not settings.two_rounds:
        raise ApplicationError("single_round", NO_FINAL_ROUND.format(challenge=challenge.title), status=409)
    round_one = JudgeAssignment.objects.filter(challenge=challenge, round=1)
    if not round_one.exists():
        raise ApplicationError("not_assigned", NOT_ASSIGNED_YET.format(challenge=challenge.title), status=409)
    open_reviews = round_one.exclude(status=Status.SUBMITTED).count()
    if open_reviews:
        raise ApplicationError("round_not_done", ROUND_NOT_DONE.format(n=open_reviews, round=1), status=409)
    if JudgeAssignment.objects.filter(challenge=challenge, round=2).exists():
        raise ApplicationError("already_assigned", ALREADY_ASSIGNED.format(round=2, challenge=challenge.title),
                               status=409)
    results = judging_results(challenge=challenge)
    ranked = sorted(results.entries, key=lambda e: (-e.final, e.entry_number))[: settings.final_round_top_n]
    submissions = [(e.submission_id, e.entrant_id) for e in ranked]
    numbers = {e.submission_id: e.entry_number for e in ranked}
    avoid = set(round_one.values_list("submission_id", "judge_id"))
    plan = _plan(challenge=challenge, submissions=submissions, k=settings.final_round_judges_per_entry,
                 numbers=numbers, avoid=avoid, seed=seed)
    return _create_assignments(challenge=challenge, round_number=2, plan=plan, numbers=numbers)


@transaction.atomic
def judging_publish(*, challenge_id: int, by, now: datetime | None = None) -> int:
    """Every review submitted: the judges' scores (raw or leniency-adjusted, per the settings) enter the final
    scores, the results are published and each judged entrant is told by e-mail. Returns the entries judged."""
    from submissions.services.notifications import submissions_notify_results

    challenge = _organizer_challenge(challenge_id=challenge_id, user=by)
    if challenge.results_published:
        raise ApplicationError("already_published", ALREADY_PUBLISHED.format(challenge=challenge.title), status=409)
    if (now or timezone.now()) < challenge.closes_at:
        raise ApplicationError("not_closed", NOT_CLOSED.format(challenge=challenge.title), status=409)
    reviews = JudgeAssignment.objects.filter(challenge=challenge)
    settings = judging_settings_of(challenge=challenge)
    if challenge.alpha > 0:
        if not reviews.exists():
            raise ApplicationError("not_assigned", NOT_ASSIGNED_YET.format(challenge=challenge.title), status=409)
        for round_number in (1, 2):
            left = reviews.filter(round=round_number).exclude(status=Status.SUBMITTED).count()
            if left:
                raise ApplicationError("round_not_done", ROUND_NOT_DONE.format(n=left, round=round_number),
                                       status=409)
        if settings.two_rounds and not reviews.filter(round=2).exists():
            raise ApplicationError("final_round_missing", FINAL_ROUND_MISSING, status=409)
    challenge_check_one_scorer(challenge=challenge)  # a board never mixes scorer versions (Judge III)
    results = judging_results(challenge=challenge)
    judged = 0
    for entry in results.entries:
        if not Submission.objects.filter(pk=entry.submission_id, status="scored", disqualified=False).exists():
            continue  # disqualified or rerun since it was assigned: it is not ranked
        score_record_judging(submission_id=entry.submission_id, judges=entry.judges_for_score,
                             mode=settings.judge_scores)
        judged += 1
    challenge.results_published = True
    challenge.save(update_fields=["results_published", "updated_at"])
    JudgingSettings.objects.update_or_create(
        challenge=challenge, defaults={"published_at": now or timezone.now(), "published_by": by}
    )
    judged_ids = {e.submission_id for e in results.entries if e.judges_for_score}
    told = Submission.objects.select_related("entrant", "challenge").filter(
        Q(pk__in=judged_ids) | Q(pk__in=LeaderboardEntry.objects.filter(challenge=challenge).values("submission_id"))
    )
    submissions_notify_results(submissions=list(told), judged_ids=judged_ids)
    return judged
