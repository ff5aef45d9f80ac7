"""Public and private hidden inputs of a Melody Harvest challenge (issue 26, Kaggle-style).

A challenge whose hidden inputs (InputMelody.role) include private ones is *split*: every output of a checkpoint
entry is scored on its own and stored (InputScore), and

- while entries are open, the entry's score (Score.automatic, the leaderboard, everything the entrant sees) is the
  mean over the **public** inputs only, so that nothing about the private ones leaks through repeated entries;
- once entries close, the board ranks each entrant on the **private** inputs: their entries marked final (at most
  RankingSettings.final_entries, default 2), else their best ones on the public part; the best of those on the
  private part is their row (evaluation.services.leaderboard).

Example inputs (heard by entrants, Trust II) count in neither part. A challenge without private inputs is not split
and scores the mean over all its inputs as before.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from chartbusters.challenges.models import Challenge, InputMelody
from chartbusters.errors import ApplicationError
from evaluation.formula import copy_penalized
from evaluation.models import FinalChoice, InputScore, RankingSettings, Score
from submissions.models import Submission

Role = InputMelody.Role
NOT_YOURS = "There is no entry {id} of yours."
NOT_SPLIT = "\u201c{challenge}\u201d has no private inputs, so there are no final entries to choose."
NOT_SCORED = "Only a scored entry can be marked final."
CLOSED = "Entries of \u201c{challenge}\u201d are closed; the final entries can no longer change."
TOO_MANY = "You may mark at most {n} entries as final in \u201c{challenge}\u201d; unmark one first."


def challenge_is_split(*, challenge_id: int) -> bool:
    return InputMelody.objects.filter(challenge_id=challenge_id, role=Role.PRIVATE).exists()


def split_phase(*, challenge: Challenge, now: datetime | None = None) -> str:
    """"" (not split), "public" (entries open) or "private" (closed)."""
    if not challenge_is_split(challenge_id=challenge.pk):
        return ""
    return "public" if (now or timezone.now()) < challenge.closes_at else "private"


def input_scores_apply(*, submission: Submission, result):
    """Store the per-input scores of a checkpoint entry of a split challenge and return the AutomaticScore shown
    while open (the public inputs' mean, and only their outputs in the parts); other entries: ``result`` as is.
    The outputs are in the order scoring read them (``submission.outputs``: by input name)."""
    if submission.kind != Submission.Kind.CHECKPOINT or not challenge_is_split(challenge_id=submission.challenge_id):
        return result
    roles = dict(InputMelody.objects.filter(challenge_id=submission.challenge_id).values_list("name", "role"))
    names = [o.input_name for o in submission.outputs.all() if o.midi]
    per_output = result.parts.get("outputs") or [{"style": result.style, "realness": result.realness,
                                                  "automatic": result.automatic_unpenalized}]
    rows = [
        InputScore(submission=submission, input_name=name, role=roles.get(name, Role.PUBLIC),
                   automatic=copy_penalized(o["automatic"], result.copy_penalty))
        for name, o in zip(names, per_output, strict=True)
    ]
    InputScore.objects.filter(submission=submission).delete()
    InputScore.objects.bulk_create(rows)
    public = [o for o, row in zip(per_output, rows, strict=True) if row.role == Role.PUBLIC]
    if not public:  # no public input: nothing to show while open; the score stays the private mean (organizers)
        return result
    unpenalized = sum(o["automatic"] for o in public) / len(public)
    automatic = copy_penalized(unpenalized, result.copy_penalty)
    style = sum(o["style"] for o in public) / len(public)
    realness = sum(o["realness"] for o in public) / len(public)
    parts = {**result.parts, "outputs": public, "n_outputs": len(public), "style": style, "realness": realness,
             "metrics": _public_metrics(result.parts.get("metrics") or {}, public),
             "automatic_unpenalized": unpenalized, "automatic": automatic,
             "split": {"part": "public", "n_public": len(public),
                       "n_private": sum(r.role == Role.PRIVATE for r in rows)}}
    return replace(result, automatic=automatic, automatic_unpenalized=unpenalized, style=style, realness=realness,
                   parts=parts)


def _public_metrics(metrics: dict, public: list[dict]) -> dict:
    """The metrics part recomputed over the public outputs alone (values, closeness and where each lies against
    the reference), so that nothing shown while open is averaged over a private input."""
    if not public or any("metrics" not in o for o in public):  # scored before outputs carried their metrics
        return {name: {**m, "value": None, "closeness": None, "direction": None} for name, m in metrics.items()}
    shown = {}
    for name, metric in metrics.items():
        value = sum(o["metrics"][name]["value"] for o in public) / len(public)
        closeness = sum(o["metrics"][name]["closeness"] for o in public) / len(public)
        low, high = metric.get("p10"), metric.get("p90")
        direction = metric.get("direction")
        if low is not None and high is not None:
            direction = "below" if value < low else ("above" if value > high else "within")
        shown[name] = {**metric, "value": value, "closeness": closeness, "direction": direction}
    return shown


def private_scores(*, submission_ids: list[int]) -> dict[int, float]:
    """The mean private-input score of each entry (those with private outputs)."""
    sums: dict[int, list[float]] = {}
    for sid, value in InputScore.objects.filter(submission_id__in=submission_ids, role=Role.PRIVATE).values_list(
            "submission_id", "automatic"):
        sums.setdefault(sid, []).append(value)
    return {sid: sum(v) / len(v) for sid, v in sums.items()}


def final_entries_of(*, challenge_id: int, entrant_id: int, ranked: list[Score]) -> list[Score]:
    """The entries of one entrant that compete on the private part: those marked final, else their best N on the
    public part (``ranked``: their ranked scores, best public first)."""
    n = RankingSettings.objects.filter(challenge_id=challenge_id).values_list("final_entries", flat=True).first() or 2
    marked = set(FinalChoice.objects.filter(challenge_id=challenge_id, entrant_id=entrant_id)
                 .values_list("submission_id", flat=True))
    chosen = [s for s in ranked if s.submission_id in marked]
    return chosen[:n] if chosen else ranked[:n]


@transaction.atomic
def final_choice_set(*, user, submission_id: int, final: bool, now: datetime | None = None) -> list[int]:
    """The entrant marks (or unmarks) one of their scored entries as final; returns their final entries' ids.
    Raises ApplicationError (404, 409)."""
    submission = Submission.objects.select_related("challenge").filter(
        pk=submission_id, entrant_id=getattr(user, "pk", None)).first()
    if submission is None:
        raise ApplicationError("not_found", NOT_YOURS.format(id=submission_id), status=404)
    challenge = Challenge.objects.select_for_update().get(pk=submission.challenge_id)
    if not challenge_is_split(challenge_id=challenge.pk):
        raise ApplicationError("not_split", NOT_SPLIT.format(challenge=challenge.title), status=409)
    if (now or timezone.now()) >= challenge.closes_at:
        raise ApplicationError("closed", CLOSED.format(challenge=challenge.title), status=409)
    mine = FinalChoice.objects.filter(challenge=challenge, entrant_id=user.pk)
    if final:
        if submission.status != Submission.Status.SCORED or submission.disqualified:
            raise ApplicationError("not_scored", NOT_SCORED, status=409)
        n = RankingSettings.objects.filter(challenge=challenge).values_list("final_entries", flat=True).first() or 2
        if not mine.filter(submission=submission).exists():
            if mine.count() >= n:
                raise ApplicationError("too_many", TOO_MANY.format(n=n, challenge=challenge.title), status=409)
            FinalChoice.objects.create(submission=submission, challenge=challenge, entrant_id=user.pk)
    else:
        mine.filter(submission=submission).delete()
    return list(mine.order_by("created_at").values_list("submission_id", flat=True))
