"""Scores with every part, so that a leaderboard row can be explained (DESIGN section 5)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from chartbusters.challenges.models import Challenge
from chartbusters.files import random_name
from submissions.models import Submission, SubmissionOutput


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
    automatic_unpenalized = models.FloatField(
        null=True, blank=True, help_text="The automatic score before the copy penalty."
    )
    copy_penalty = models.FloatField(
        default=1.0, help_text="1 - the copied share of the notes when flagged as a copy; 1 when not (or cleared)."
    )
    copy_cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The organizer who cleared the copy flag (the penalty no longer applies).",
    )
    copy_cleared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["challenge", "-final"], name="score_board_idx")]

    def __str__(self) -> str:
        return f"{self.submission_id}: {self.final:.1f}"


class LeaderboardEntry(models.Model):
    """The best ranked submission of one entrant in one challenge: a precomputed table (DESIGN section 6).

    Kept up to date by ``evaluation.services.leaderboard.leaderboard_entry_refresh`` whenever a score lands or a
    submission changes (rerun, disqualify, fail); the leaderboard selector reads it with one indexed query.
    Ranks are not stored: they come from ROW_NUMBER() over (score desc, submitted_at, submission) at read time.
    """

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="leaderboard_entries")
    entrant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="leaderboard_entry")
    score = models.FloatField(help_text="The submission's final score (automatic until judged).")
    automatic = models.FloatField()
    submitted_at = models.DateTimeField(help_text="Submission.created_at: the earlier entry wins a tie.")
    judged = models.BooleanField(default=False, help_text="The judges' rubric is in the score.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["challenge", "entrant"], name="leaderboard_one_row_per_entrant"),
        ]
        indexes = [
            models.Index(
                fields=["challenge", "-score", "submitted_at", "submission"], name="leaderboard_rank_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.challenge_id}/{self.entrant_id}: {self.score:.1f}"


class LeaderboardVersion(models.Model):
    """Changes whenever a challenge's leaderboard table changes: the key under which its pages are cached."""

    challenge = models.OneToOneField(
        Challenge, on_delete=models.CASCADE, primary_key=True, related_name="leaderboard_version"
    )
    token = models.CharField(max_length=32, help_text="A new random value on every change of the table.")

    def __str__(self) -> str:
        return f"{self.challenge_id}: {self.token}"


def _rendering_upload_to(instance, filename: str) -> str:
    return random_name("renderings", filename)


class Rendering(models.Model):
    """Audio and piano roll of a submission's MIDI (output is null) or of one output of a checkpoint entry."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names its file URLs.")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="renderings")
    output = models.OneToOneField(
        SubmissionOutput, null=True, blank=True, on_delete=models.CASCADE, related_name="rendering"
    )
    audio = models.FileField(upload_to=_rendering_upload_to, blank=True)
    pianoroll = models.FileField(upload_to=_rendering_upload_to, blank=True)
    error = models.TextField(blank=True, help_text="Why the audio could not be rendered, if it could not.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission"], condition=models.Q(output__isnull=True), name="one_rendering_per_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id}/{self.output_id or 'entry'}"


class ReferenceStats(models.Model):
    """Mean and standard deviation of each metric over a challenge's own reference set (computed on first use;
    recomputed when the reference files change). Challenges without reference files use the shipped Bach figures."""

    challenge = models.OneToOneField(Challenge, on_delete=models.CASCADE, related_name="reference_stats")
    files_digest = models.CharField(max_length=64, help_text="sha256 of the reference files; a change recomputes.")
    stats = models.JSONField(default=dict, help_text='{metric: {"mean": x, "std": y}}')
    n_files = models.PositiveIntegerField(default=0)
    n_refused = models.PositiveIntegerField(default=0, help_text="Reference files that could not be measured.")
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.challenge_id}: {self.n_files} files"


class OriginalityFingerprint(models.Model):
    """The melody lines of a scored entry, so that later entries of the challenge are checked against it."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="originality_fingerprint")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="originality_fingerprints")
    entrant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lines = models.JSONField(default=list, help_text="evaluation.originality.Line.to_json() of every line.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"fingerprint of {self.submission_id}"


class OriginalityGram(models.Model):
    """One hashed n-gram of an entry's lines: the index that finds earlier entries sharing a passage."""

    fingerprint = models.ForeignKey(OriginalityFingerprint, on_delete=models.CASCADE, related_name="grams")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="+")
    hash = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["challenge", "hash"], name="originality_gram_idx")]

    def __str__(self) -> str:
        return f"{self.fingerprint_id}: {self.hash}"


def _realness_upload_to(instance, filename: str) -> str:
    return f"challenges/realness/{instance.challenge_id}/{instance.files_digest[:16]}/{filename}"


REALNESS_NOT_READY_WARNING = ("The challenge's own realness model is {status}; until it is ready, realness comes "
                              "from the default Bach model.")


class RealnessModel(models.Model):
    """A challenge's own realness model, trained by a worker from its reference set (DESIGN section 5).

    One row per challenge: a new or changed reference set (``files_digest``) queues training anew. Until the row is
    ``ready`` for the current files, scoring uses the default (Bach) model and the score says so.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    challenge = models.OneToOneField(Challenge, on_delete=models.CASCADE, related_name="realness_model")
    files_digest = models.CharField(max_length=64, help_text="sha256 of the reference files it is (being) trained on.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    weights = models.FileField(upload_to=_realness_upload_to, blank=True)
    config = models.JSONField(default=dict, blank=True, help_text="The checkpoint's config.json.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Held-out AUC per family, realness, pieces.")
    model_card = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"realness model of {self.challenge_id} ({self.status})"
