"""The studio's rows (docs/design.md sections 2 and 7): generation jobs and the user's own checkpoints.

A ``GenerationJob`` is one run of a model on one input (one variation, one seed): ``queued -> running -> done |
failed`` with ``progress`` 0-100 and ``error`` (a sentence a person can act on). Chaining: a job made from another
job's output names it as ``parent``, so every version of a piece is kept and can become the current one again.
Jobs not ``saved`` are deleted with their files ``STUDIO_JOB_KEEP_HOURS`` after they were made
(generation.services.cleanup); saving one also stores it as a composition (submissions.Composition).

Files are stored under random names and downloaded through ``/files/<kind>/<public_id>/`` (generation.files).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from chartbusters.files import random_name


def _job_upload_to(instance, filename: str) -> str:
    return random_name("studio/jobs", filename)


def _checkpoint_upload_to(instance, filename: str) -> str:
    return random_name("studio/checkpoints", filename)


def _training_upload_to(instance, filename: str) -> str:
    return random_name("studio/trainings", filename)


class UserCheckpoint(models.Model):
    """A user's own model (safetensors weights + JSON config), checked as Melody Harvest entries are; usable as the
    model of a studio job (``checkpoint`` in ``POST /api/generate/``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_checkpoints")
    name = models.CharField(max_length=200)
    architecture = models.CharField(max_length=40, help_text="The registered generator it is a checkpoint of.")
    config = models.JSONField(help_text="config.json, checked against the architecture's bounds.")
    weights = models.FileField(upload_to=_checkpoint_upload_to)
    # A model trained in the studio (TrainingJob) also keeps what its train function wrote:
    card = models.TextField(blank=True, help_text="MODEL_CARD.md: data, steps, time, quality figures.")
    metrics = models.JSONField(default=dict, blank=True, help_text="What the train function reported.")
    loss_plot = models.FileField(upload_to=_checkpoint_upload_to, blank=True, help_text="loss.png")
    measures_plot = models.FileField(upload_to=_checkpoint_upload_to, blank=True,
                                     help_text="measures.png (the GAN's per-track measures)")
    bundle = models.FileField(upload_to=_checkpoint_upload_to, blank=True,
                              help_text="The download: a zip of model.safetensors, config.json, MODEL_CARD.md and "
                                        "the plots (a Melody Harvest entry's files).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.architecture})"

    @property
    def stored_files(self) -> list:
        return [f for f in (self.weights, self.loss_plot, self.measures_plot, self.bundle) if f]


class TrainingJob(models.Model):
    """A user's training run (the Train page, ``POST /api/trainings/``), on the ``training`` queue:
    ``queued -> running -> done | failed | cancelled``. The validated MIDI files wait in ``data`` (a zip) until the
    run ends, and are then deleted; a done run's model is ``checkpoint`` (one of the user's models)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Dataset(models.TextChoices):
        UPLOAD = "upload", "uploaded MIDI files"
        CHORALES = "chorales", "the Bach chorales"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_jobs")
    name = models.CharField(max_length=200, help_text="The name the finished model gets.")
    model_name = models.CharField(max_length=40, help_text="A registered generator with TRAIN_PARAMS.")
    params = models.JSONField(default=dict, blank=True, help_text="Validated against the model's TRAIN_PARAMS.")
    dataset = models.CharField(max_length=10, choices=Dataset.choices)
    data = models.FileField(upload_to=_training_upload_to, blank=True,
                            help_text="The usable uploaded files (a zip), kept until the run ends.")
    files = models.JSONField(default=dict, blank=True,
                             help_text='{"used": [names], "refused": [{"name", "error"}]}: the per-file report.')

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    progress = models.PositiveSmallIntegerField(default=0)
    steps_done = models.PositiveIntegerField(default=0)
    steps_total = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True,
                               help_text="{series: [[step, value], ...]}: the curves as they came in.")
    error = models.TextField(blank=True, help_text="Why it failed, in a sentence a person can act on.")
    checkpoint = models.OneToOneField(UserCheckpoint, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="training")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="training_reaper_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="training_progress_lte_100"),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | ~models.Q(error=""), name="training_failed_has_error"),
        ]

    def __str__(self) -> str:
        return f"training {self.model_name} #{self.pk} ({self.get_status_display()})"

    def clean(self) -> None:
        if self.status == self.Status.FAILED and not self.error.strip():
            raise ValidationError({"error": "A failed training needs an error message a person can act on."})

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED)


class GenerationJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names its file URLs.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_jobs")
    model_name = models.CharField(max_length=40, help_text="A registered generator (generation.engine.registry).")
    checkpoint = models.ForeignKey(
        UserCheckpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs",
        help_text="The owner's own checkpoint; empty: the shipped model.",
    )
    params = models.JSONField(default=dict, blank=True, help_text="Validated against the model's spec.")
    seed = models.PositiveBigIntegerField(help_text="The seed of this variation (the same seed, the same output).")
    variation = models.PositiveSmallIntegerField(default=1, help_text="1-4 within its batch.")
    batch = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="The variations asked for together.")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
        help_text="The version whose output was this job's input (chaining).",
    )
    input_midi = models.FileField(upload_to=_job_upload_to)
    output_midi = models.FileField(upload_to=_job_upload_to, blank=True)
    audio = models.FileField(upload_to=_job_upload_to, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why it failed, in a sentence a person can act on.")
    seconds = models.FloatField(default=0.0, help_text="The model's run time.")
    adjustments = models.JSONField(default=list, blank=True,
                                   help_text="What the engine changed in the input, in sentences (e.g. lyrics after "
                                             "the last note dropped).")
    saved = models.BooleanField(default=False, help_text="Kept past the clean-up (saved as a composition).")
    composition = models.ForeignKey(
        "submissions.Composition", null=True, blank=True, on_delete=models.SET_NULL, related_name="generation_jobs",
    )

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "created_at"], name="genjob_owner_idx"),
            models.Index(fields=["status", "updated_at"], name="genjob_reaper_idx"),
            models.Index(fields=["saved", "created_at"], name="genjob_cleanup_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="genjob_progress_lte_100"),
            models.CheckConstraint(condition=models.Q(variation__gte=1, variation__lte=4), name="genjob_variation_1_4"),
        ]

    def __str__(self) -> str:
        return f"{self.model_name} #{self.pk} ({self.get_status_display()})"

    def clean(self) -> None:
        if self.status == self.Status.FAILED and not self.error.strip():
            raise ValidationError({"error": "A failed job needs an error message a person can act on."})
        if self.parent_id is not None and self.parent_id == self.pk:
            raise ValidationError({"parent": "A job cannot be its own parent."})

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
