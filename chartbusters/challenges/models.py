"""A challenge, its hidden input melodies and its reference set (docs/design.md section 6)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from chartbusters.files import random_name
from chartbusters.metric_names import METRIC_NAMES

# The muspy metrics the style score may use (docs/design.md section 5).
ALL_METRICS = list(METRIC_NAMES)


def default_metrics() -> list[str]:
    return list(ALL_METRICS)


def default_generation_params() -> dict:
    return {}


class Challenge(models.Model):
    class Kind(models.TextChoices):
        MELODY_GO_ROUND = "melody-go-round", "Melody-Go-Round (submit compositions)"
        MELODY_HARVEST = "melody-harvest", "Melody Harvest (submit a model checkpoint)"

    class Status(models.TextChoices):
        UPCOMING = "upcoming", "Upcoming"
        OPEN = "open", "Open"
        JUDGING = "judging", "Judging"
        CLOSED = "closed", "Closed"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Rules and background, in Markdown.")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MELODY_GO_ROUND)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    judging_ends_at = models.DateTimeField()
    daily_quota = models.PositiveIntegerField(default=5, help_text="Entries per entrant per UTC day.")
    total_quota = models.PositiveIntegerField(default=50, help_text="Entries per entrant in all.")
    weight_style = models.FloatField(default=1.0)
    weight_realness = models.FloatField(default=1.0)
    metrics = models.JSONField(default=default_metrics, help_text="Metrics that make up the style score.")
    alpha = models.FloatField(default=0.5, help_text="Share of the judges' score in the final score, 0-1.")
    originality_threshold_bars = models.FloatField(
        default=2.0, help_text="Flag an entry that shares a passage longer than this many bars."
    )
    generation_params = models.JSONField(
        default=default_generation_params, blank=True,
        help_text='Melody Harvest: the parameters the platform runs entrants\' checkpoints with, per '
                  'architecture, e.g. {"arcnn": {"iterations": 60}, "gan": {"seed": 1}}; each checked '
                  "against that model's parameters.",
    )
    generation_time_limit_seconds = models.PositiveIntegerField(
        default=60, help_text="Melody Harvest: time limit for one checkpoint on one hidden input."
    )
    entry_licence = models.CharField(max_length=100, default="CC BY 4.0")
    judges = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="judged_challenges")
    organizers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="organized_challenges")
    published = models.BooleanField(default=True, help_text="Shown on the public pages and the API.")
    results_published = models.BooleanField(default=False, help_text="Judging is complete; scores are final.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opens_at", "slug"]

    def __str__(self) -> str:
        return self.title

    def status_at(self, now) -> str:
        if now < self.opens_at:
            return self.Status.UPCOMING
        if now < self.closes_at:
            return self.Status.OPEN
        if now < self.judging_ends_at:
            return self.Status.JUDGING
        return self.Status.CLOSED

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())


def _challenge_upload_to(instance, filename: str) -> str:
    """Random names (no slug, no file name): hidden inputs and reference files are organizers' only."""
    return random_name(f"challenges/{instance.folder}", filename)


class InputMelody(models.Model):
    """An input melody of a Melody Harvest challenge; entrants' checkpoints run on each.

    Its role says who hears what and when: an *example* input is public (entrants hear their model on it while the
    challenge is open); a *public* hidden input is scored and ranked while open, its outputs withheld until close; a
    *private* hidden input is scored at close and ranks the final board.
    """

    class Role(models.TextChoices):
        EXAMPLE = "example", "example (entrants hear their outputs)"
        PUBLIC = "public", "hidden, public part (ranked while open)"
        PRIVATE = "private", "hidden, private part (ranked at close)"

    folder = "inputs"
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names its file URL.")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="input_melodies")
    name = models.CharField(max_length=200)
    midi = models.FileField(upload_to=_challenge_upload_to)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.PUBLIC)

    class Meta:
        ordering = ["challenge", "name"]
        constraints = [models.UniqueConstraint(fields=["challenge", "name"], name="unique_input_melody_name")]

    def __str__(self) -> str:
        return self.name


class ReferenceFile(models.Model):
    """A piece of a challenge's reference set; with none, the Bach training split is the reference."""

    folder = "reference"
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names its file URL.")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="reference_files")
    name = models.CharField(max_length=200)
    midi = models.FileField(upload_to=_challenge_upload_to)

    class Meta:
        ordering = ["challenge", "name"]
        constraints = [models.UniqueConstraint(fields=["challenge", "name"], name="unique_reference_file_name")]

    def __str__(self) -> str:
        return self.name


class WorkerPing(models.Model):
    """A worker's answer to the ``chartbusters.ping_db`` task: proves a worker reads and writes this database.

    Used by the integration tests and as a health check of the workers on the configured broker.
    """

    challenge = models.ForeignKey(Challenge, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    queue = models.CharField(max_length=50, blank=True)
    challenge_title = models.CharField(max_length=200, blank=True, help_text="What the worker read.")

    def __str__(self) -> str:
        return f"ping {self.pk} ({'answered' if self.answered_at else 'waiting'})"
