"""Compositions and challenge entries, with their lifecycle (docs/design.md section 6).

Lifecycle: queued -> generating (checkpoint entries only) -> scoring -> scored | failed.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from chartbusters.challenges.models import Challenge
from chartbusters.files import random_name

# Stored names are random (chartbusters.files.random_name): no user id, slug or uploaded name on disk or in a URL.
# Files are downloaded through /files/<kind>/<public_id>/, which checks access (docs/operations.md "Files").


def _composition_upload_to(instance, filename: str) -> str:
    return random_name("compositions", filename)


def _submission_upload_to(instance, filename: str) -> str:
    return random_name("submissions", filename)


def _output_upload_to(instance, filename: str) -> str:
    return random_name("submissions/outputs", filename)


class Composition(models.Model):
    """A user's saved MIDI, uploaded or made in the studio."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded"
        STUDIO = "studio", "Made in the studio"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names its file URL.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compositions")
    title = models.CharField(max_length=200)
    midi = models.FileField(upload_to=_composition_upload_to)
    original_filename = models.CharField(max_length=255, blank=True, help_text="As uploaded; shown to the owner.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOAD)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Submission(models.Model):
    class Kind(models.TextChoices):
        COMPOSITION = "composition", "Composition"
        CHECKPOINT = "checkpoint", "Model checkpoint"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        GENERATING = "generating", "Generating"
        SCORING = "scoring", "Scoring"
        SCORED = "scored", "Scored"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names its file URLs.")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="submissions")
    entrant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    licence = models.CharField(max_length=100, help_text="The licence the entrant accepted for this entry.")
    # Composition entries: the MIDI that is scored. Checkpoint entries: the weights, config and model card.
    midi = models.FileField(upload_to=_submission_upload_to, blank=True)
    composition = models.ForeignKey(Composition, null=True, blank=True, on_delete=models.SET_NULL)
    checkpoint = models.FileField(upload_to=_submission_upload_to, blank=True)
    original_filename = models.CharField(
        max_length=255, blank=True, help_text="The uploaded MIDI's name; its entrant and organizers only."
    )
    checkpoint_config = models.JSONField(null=True, blank=True)
    model_card = models.TextField(blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why it failed, in a sentence a person can act on.")
    # False when the platform failed to score it (worker error): such an entry does not use up quota.
    counts_against_quota = models.BooleanField(default=True)
    # Recovery (submissions.services.recovery): the worker running the entry holds it and writes a heartbeat; the
    # reaper runs an entry whose worker died again once (attempt 2), then fails it.
    attempt = models.PositiveSmallIntegerField(default=1, help_text="2 once the platform ran it again (lost worker).")
    worker = models.CharField(max_length=200, blank=True, help_text="The worker process running it now, if any.")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of that worker.")

    disqualified = models.BooleanField(default=False)
    disqualified_at = models.DateTimeField(null=True, blank=True)
    disqualified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    disqualification_reason = models.TextField(blank=True)
    rerun_count = models.PositiveIntegerField(default=0)
    last_rerun_at = models.DateTimeField(null=True, blank=True)
    last_rerun_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["challenge", "entrant", "created_at"], name="sub_quota_idx"),
            models.Index(fields=["status", "updated_at"], name="sub_reaper_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"


class SubmissionOutput(models.Model):
    """What a checkpoint entry generated from one hidden input melody; the entrant can listen to it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names its file URLs.")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="outputs")
    input_name = models.CharField(max_length=200, help_text="The hidden input's name: organizers only.")
    midi = models.FileField(upload_to=_output_upload_to)
    audio = models.FileField(upload_to=_output_upload_to, blank=True)
    seconds = models.FloatField(default=0.0, help_text="Generation time.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "input_name"]

    def __str__(self) -> str:
        return f"{self.submission_id}: {self.input_name}"
