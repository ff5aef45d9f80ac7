"""How a challenge's final rank was made, in one paragraph generated from its settings (issue 26, results page)."""

from __future__ import annotations

from django.utils import timezone

from chartbusters.challenges.models import Challenge, InputMelody
from evaluation.models import FinalChoice, JudgingSettings, RankingSettings
from evaluation.ranking import BOOTSTRAP_SAMPLES
from submissions.models import Submission


def ranking_settings_of(*, challenge: Challenge) -> RankingSettings:
    """The challenge's ranking settings (an unsaved row with the defaults when it has none)."""
    return RankingSettings.objects.filter(challenge_id=challenge.pk).first() or RankingSettings(challenge=challenge)


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def ranking_explained(*, challenge: Challenge) -> str:
    """One paragraph: the weights of the final score, how the judges' part was made (selection, judges per entry,
    rounds, raw or leniency-adjusted), the audience's part, the copy penalty, the Melody Harvest split, and how
    intervals make shared ranks."""
    judging = JudgingSettings.objects.filter(challenge_id=challenge.pk).first() or JudgingSettings(challenge=challenge)
    ranking = ranking_settings_of(challenge=challenge)
    alpha, beta = challenge.alpha, ranking.audience_weight
    sentences = []
    weights = [f"{_pct(max(0.0, 1 - alpha - beta))} the automatic score (style and realness weighted "
               f"{challenge.weight_style:g}:{challenge.weight_realness:g}, times the copy penalty of a flagged entry)"]
    if alpha > 0:
        weights.append(f"{_pct(alpha)} the judges' score")
    if beta > 0:
        weights.append(f"{_pct(beta)} the audience rating from listening in pairs")
    sentences.append("The final score is " + ", ".join(weights[:-1]) + (" and " if len(weights) > 1 else "")
                     + weights[-1] + "; a part an entry does not have yet drops out and the others are re-weighted.")
    if alpha > 0:
        selection = {
            JudgingSettings.Selection.ALL: "every ranked entry",
            JudgingSettings.Selection.TOP_AUTOMATIC: f"the top {judging.selection_top_n} by automatic score",
            JudgingSettings.Selection.TOP_LIKES: f"the top {judging.selection_top_n} by audience likes",
        }[judging.selection]
        marks = ("leniency-adjusted (each judge's scores standardized, then put back on the scale of all scores)"
                 if judging.judge_scores == JudgingSettings.JudgeScores.ADJUSTED else "raw")
        rounds = (f"in two rounds, the top {judging.final_round_top_n} heard again by "
                  f"{judging.final_round_judges_per_entry} judges in the final round, whose marks count"
                  if judging.two_rounds else "in one round")
        sentences.append(f"Judges heard {selection}, {judging.judges_per_entry} judge"
                         f"{'s' if judging.judges_per_entry != 1 else ''} per entry, blind, {rounds}; an entry's judge "
                         f"score is 20 times the mean of its Originality, Balance and Emotion marks ({marks}), and "
                         "judged entries rank above those the judges did not hear.")
    if beta > 0:
        sentences.append("The audience rating is a Bradley-Terry rating with ties (Davidson) from listeners' votes "
                         "on pairs of anonymous 30-second excerpts, on a 0-100 scale (50 is average).")
    else:
        sentences.append("The audience rating from listening in pairs is shown beside the score but does not "
                         "count; likes do not count either.")
    if challenge.kind == Challenge.Kind.MELODY_HARVEST and challenge.input_melodies.filter(
            role=InputMelody.Role.PRIVATE).exists():
        sentences.append(f"Automatic scores are the mean over the hidden inputs: while entries are open over the "
                         f"public part, after the close over the private part, for each entrant's entries marked "
                         f"final (at most {ranking.final_entries}; else their best on the public part).")
    sources = [f"a bootstrap of {BOOTSTRAP_SAMPLES} resamples over the judges' reviews"] if alpha > 0 else []
    if beta > 0:
        sources.append("the audience rating's interval from its fit")
    if sources:
        sentences.append(f"Each score carries a 95 % interval ({' and '.join(sources)}); neighbours whose intervals "
                         "overlap share a rank such as \u201c3\u20135\u201d, within which the order is by score, "
                         "then the earlier entry.")
    return " ".join(sentences)


def final_choice_view(*, user, submission_id: int) -> dict | None:
    """For the entrant's own scored entry in a split Melody Harvest challenge: whether it is marked final, how many
    of theirs are, N, and whether entries are still open; None otherwise."""
    if not getattr(user, "is_authenticated", False):
        return None
    submission = Submission.objects.select_related("challenge").filter(
        pk=submission_id, entrant_id=user.pk, status=Submission.Status.SCORED).first()
    if submission is None or not submission.challenge.input_melodies.filter(role=InputMelody.Role.PRIVATE).exists():
        return None
    mine = FinalChoice.objects.filter(challenge_id=submission.challenge_id, entrant_id=user.pk)
    return {"marked": mine.filter(submission_id=submission_id).exists(), "count": mine.count(),
            "n": ranking_settings_of(challenge=submission.challenge).final_entries,
            "open": timezone.now() < submission.challenge.closes_at}
