"""Scores with every part, so that a leaderboard row can be explained (DESIGN section 5)."""

from __future__ import annotations

from django.db import models

from chartbusters.challenges.models import Challenge
from submissions.models import Submission


class Score(models.Model):
    """The automatic score of a submission (and, once judged, the final score)."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="score")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="scores")
    automatic = models.FloatField(help_text="100 * weighted mean of style and realness.")
    final = models.FloatField(help_text="(1 - alpha) * automatic + alpha * mean judge score; automatic until judged.")
    style = models.FloatField()
    realness = models.FloatField()
    # {"metrics": {name: {"value", "mean", "std", "closeness"}}, "weights": {...}, "realness": ...,
    #  "originality": {...}, "judges": [...]} -- everything the row shows when expanded.
    parts = models.JSONField(default=dict)
    flagged_copy = models.BooleanField(default=False, help_text="Shares a long passage with known music.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["challenge", "-final"], name="score_board_idx")]

    def __str__(self) -> str:
        return f"{self.submission_id}: {self.final:.1f}"
