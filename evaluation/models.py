"""Scores with every part, so that a leaderboard row can be explained (docs/design.md section 5)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from chartbusters.challenges.models import Challenge
from chartbusters.files import random_name
from evaluation.formula import RUBRIC, RUBRIC_MAX, RUBRIC_MIN, mark_score
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
    scorer_version = models.CharField(
        max_length=16, blank=True, default="",
        help_text="evaluation.scorer: hash of the metrics, realness model, originality index and reference set used "
                  "(their names in parts['scorer']); empty for scores stored before versions were recorded.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["challenge", "-final"], name="score_board_idx")]

    def __str__(self) -> str:
        return f"{self.submission_id}: {self.final:.1f}"


class LeaderboardEntry(models.Model):
    """The best ranked submission of one entrant in one challenge: a precomputed table (docs/design.md section 6).

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
    judge_score = models.FloatField(null=True, blank=True, help_text="The mean judge score, once published.")
    # Issue 26, all precomputed when a score or a vote lands (evaluation.services.leaderboard), never per request.
    score_low = models.FloatField(null=True, blank=True, help_text="95 % interval of the score; null: exact.")
    score_high = models.FloatField(null=True, blank=True)
    audience = models.FloatField(null=True, blank=True, help_text="Audience rating 0-100 (listening in pairs).")
    audience_low = models.FloatField(null=True, blank=True)
    audience_high = models.FloatField(null=True, blank=True)
    audience_votes = models.PositiveIntegerField(default=0, help_text="Pair comparisons the entry was in.")
    rank = models.PositiveIntegerField(null=True, blank=True, help_text="Position in the board's order.")
    rank_low = models.PositiveIntegerField(null=True, blank=True, help_text="Shared rank: first of the tied run.")
    rank_high = models.PositiveIntegerField(null=True, blank=True, help_text="Shared rank: last of the tied run.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["challenge", "entrant"], name="leaderboard_one_row_per_entrant"),
        ]
        indexes = [
            models.Index(
                fields=["challenge", "-score", "submitted_at", "submission"], name="leaderboard_rank_idx"
            ),
            models.Index(fields=["challenge", "rank"], name="leaderboard_stored_rank_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.challenge_id}/{self.entrant_id}: {self.score:.1f}"


class LeaderboardVersion(models.Model):
    """Changes whenever a challenge's leaderboard table changes: the key under which its pages are cached."""

    challenge = models.OneToOneField(
        Challenge, on_delete=models.CASCADE, primary_key=True, related_name="leaderboard_version"
    )
    token = models.CharField(max_length=32, help_text="A new random value on every change of the table.")
    phase = models.CharField(max_length=10, blank=True, default="",
                             help_text='Split Melody Harvest: the part the table ranks on ("public"/"private").')

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
    metrics_version = models.PositiveIntegerField(
        default=0, help_text="scorer.METRICS_VERSION the figures were measured with; another one recomputes.")
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
    """A challenge's own realness model, trained by a worker from its reference set (docs/design.md section 5).

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
    weights_sha256 = models.CharField(max_length=64, blank=True, default="",
                                      help_text="sha256 of the weights file: the realness part of the scorer version.")
    config = models.JSONField(default=dict, blank=True, help_text="The checkpoint's config.json.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Held-out AUC per family, realness, pieces.")
    model_card = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"realness model of {self.challenge_id} ({self.status})"


# ------------------------------------------------------------------------------------------------ human judging
_RUBRIC_VALIDATORS = [MinValueValidator(RUBRIC_MIN), MaxValueValidator(RUBRIC_MAX)]


class JudgingSettings(models.Model):
    """How a challenge is judged (docs/judging.md): which entries, how many judges, raw or leniency-adjusted
    marks, one or two rounds, whether judges see the automatic score. A challenge without a row uses the defaults."""

    class Selection(models.TextChoices):
        ALL = "all", "Every ranked entry"
        TOP_AUTOMATIC = "top-automatic", "The top N by automatic score"
        TOP_LIKES = "top-likes", "The top N by audience likes"

    class JudgeScores(models.TextChoices):
        RAW = "raw", "Raw marks"
        ADJUSTED = "adjusted", "Leniency-adjusted (each judge's marks standardized)"

    class PublicBoard(models.TextChoices):
        MUSIC = "music", "Music without names (entrants and titles hidden until the results are published)"
        NAMES = "names", "Names without music (entries' files withheld until the results are published)"

    challenge = models.OneToOneField(Challenge, on_delete=models.CASCADE, primary_key=True, related_name="judging")
    judges_per_entry = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)], help_text="k: judges per entry."
    )
    selection = models.CharField(max_length=20, choices=Selection.choices, default=Selection.ALL,
                                 help_text="Which ranked entries (each entrant's best) are judged.")
    selection_top_n = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1)], help_text="N for the two 'top N' selections."
    )
    show_automatic = models.BooleanField(default=False, help_text="Judges see the entry's automatic score.")
    judge_scores = models.CharField(max_length=10, choices=JudgeScores.choices, default=JudgeScores.RAW,
                                    help_text="Which judge score enters the final score.")
    two_rounds = models.BooleanField(default=False, help_text="A final round for the top N after the first.")
    public_board = models.CharField(
        max_length=10, choices=PublicBoard.choices, default=PublicBoard.MUSIC,
        help_text="Blind until publication (judged challenges, alpha > 0): what the public sees before the results "
                  "are published, so that nobody can tie an entry's music to its entrant or title.",
    )
    final_round_top_n = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1)], help_text="Finalists: the top N after the first round."
    )
    final_round_judges_per_entry = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Judges per finalist in the final round (at least as many as in the first).",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        verbose_name = "judging settings"
        verbose_name_plural = "judging settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(judges_per_entry__gte=1), name="judging_k_positive"),
            models.CheckConstraint(condition=models.Q(selection_top_n__gte=1), name="judging_top_n_positive"),
            models.CheckConstraint(condition=models.Q(final_round_top_n__gte=1), name="judging_final_n_positive"),
            models.CheckConstraint(
                condition=models.Q(final_round_judges_per_entry__gte=models.F("judges_per_entry")),
                name="judging_final_round_has_more_judges",
                violation_error_message="The final round needs at least as many judges per entry as the first.",
            ),
        ]

    def __str__(self) -> str:
        return f"judging of {self.challenge_id}"


class JudgeConflict(models.Model):
    """A judge who must not review an entrant's entries (connected to them), marked by an organizer."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="judge_conflicts")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    entrant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["challenge", "judge", "entrant"], name="judge_conflict_once"),
        ]

    def __str__(self) -> str:
        return f"{self.judge_id} x {self.entrant_id} in {self.challenge_id}"


class JudgeAssignment(models.Model):
    """One judge's review of one entry in one round: the rubric (1-5 each), a comment, draft or submitted.

    ``entry_number`` is the entry's anonymous number in the challenge's judging (the same for every judge and round):
    the only thing a judge learns about whose entry it is."""

    class Status(models.TextChoices):
        PENDING = "pending", "To do"
        DRAFT = "draft", "Draft saved"
        SUBMITTED = "submitted", "Submitted"

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="judge_assignments")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="judge_assignments")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="judge_assignments")
    round = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(2)])
    entry_number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    originality = models.PositiveSmallIntegerField(null=True, blank=True, validators=_RUBRIC_VALIDATORS)
    balance = models.PositiveSmallIntegerField(null=True, blank=True, validators=_RUBRIC_VALIDATORS)
    emotion = models.PositiveSmallIntegerField(null=True, blank=True, validators=_RUBRIC_VALIDATORS)
    comment = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["challenge", "round", "entry_number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "judge", "round"], name="one_assignment_per_judge_round"),
            models.CheckConstraint(condition=models.Q(round__in=[1, 2]), name="assignment_round_1_or_2"),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__isnull": True})
                    | models.Q(**{f"{name}__gte": RUBRIC_MIN, f"{name}__lte": RUBRIC_MAX}),
                    name=f"assignment_{name}_1_to_5",
                )
                for name in RUBRIC
            ],
            models.CheckConstraint(
                condition=~models.Q(status="submitted") | models.Q(**{f"{name}__isnull": False for name in RUBRIC}),
                name="assignment_submitted_has_every_mark",
                violation_error_message="A submitted review needs all three marks.",
            ),
        ]
        indexes = [
            models.Index(fields=["judge", "status"], name="assignment_judge_idx"),
            models.Index(fields=["challenge", "round", "status"], name="assignment_challenge_idx"),
        ]

    def __str__(self) -> str:
        return f"entry #{self.entry_number} (round {self.round}) for judge {self.judge_id}"

    @property
    def marks(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in RUBRIC}

    @property
    def raw_score(self) -> float | None:
        """The review's judge score (evaluation.formula.mark_score), None until every mark is given."""
        marks = self.marks
        return None if any(v is None for v in marks.values()) else mark_score(marks)


class Listen(models.Model):
    """A signed-in user fetched an entry's audio (the file view records it): only listeners may like an entry."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="listens")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "submission"], name="one_listen_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id} listened to {self.submission_id}"


class Like(models.Model):
    """An audience like (docs/judging.md "The audience"): one per user and entry, never one's own, no judge's."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="likes")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "submission"], name="one_like_per_user")]
        indexes = [models.Index(fields=["challenge", "submission"], name="like_challenge_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.submission_id}"


class ChallengeRescore(models.Model):
    """One rescoring of every entry of a challenge with the current scorer (Judge III item 8, Rankings item 4):
    queued when the challenge's realness model or reference set changes, or by an organizer (admin action,
    ``manage.py rescore``). While one is queued or running the leaderboard says "rescoring" and the results cannot
    be published. ``report`` says what changed (``evaluation.services.rescoring``)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="rescores")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=200, help_text="Why: the realness model changed, an organizer asked, ...")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    progress = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveIntegerField(default=0, help_text="Entries to rescore.")
    done = models.PositiveIntegerField(default=0)
    scorer_version = models.CharField(max_length=16, blank=True, help_text="The version the entries now carry.")
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["challenge", "status"], name="rescore_challenge_status_idx")]

    def __str__(self) -> str:
        return f"rescore of {self.challenge_id} ({self.status}, {self.progress} %)"
# ------------------------------------------------------------------------------------ rankings (issue 26)
class RankingSettings(models.Model):
    """How a challenge's final rank is made beyond the design's alpha (docs/judging.md): the audience's share of the
    final score and, for Melody Harvest, how many entries each entrant may mark as final. Defaults without a row."""

    challenge = models.OneToOneField(Challenge, on_delete=models.CASCADE, primary_key=True, related_name="ranking")
    audience_weight = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="beta: the audience rating's share of the final score (0: shown, not counted); alpha + beta <= 1.",
    )
    final_entries = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Melody Harvest: entries each entrant may mark as final (ranked on the private inputs).",
    )

    class Meta:
        verbose_name = "ranking settings"
        verbose_name_plural = "ranking settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(audience_weight__gte=0, audience_weight__lte=1),
                                   name="ranking_audience_weight_0_1"),
            models.CheckConstraint(condition=models.Q(final_entries__gte=1), name="ranking_final_entries_positive"),
        ]

    def __str__(self) -> str:
        return f"ranking of {self.challenge_id}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        alpha = Challenge.objects.filter(pk=self.challenge_id).values_list("alpha", flat=True).first() or 0.0
        if self.audience_weight is not None and alpha + self.audience_weight > 1.0 + 1e-9:
            raise ValidationError({"audience_weight": f"The judges' share alpha is {alpha:g}; the audience's share "
                                                      f"can be at most {1 - alpha:g} (alpha + beta <= 1)."})


def _excerpt_upload_to(instance, filename: str) -> str:
    return random_name("excerpts", filename)


class Excerpt(models.Model):
    """The 30-s passage of an entry's audio that listeners compare (the same rule for every entry; shorter pieces
    padded with silence, so the length says nothing). Served only through a pair's own URLs."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="excerpt")
    audio = models.FileField(upload_to=_excerpt_upload_to)
    start_seconds = models.FloatField()
    seconds = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"excerpt of {self.submission_id}"


class PairIssue(models.Model):
    """A pair handed to a listener: both excerpts must be played to the end before the vote counts."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names the pair's URLs.")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="+")
    listener = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    first = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    issued_at = models.DateTimeField()
    first_ended_at = models.DateTimeField(null=True, blank=True)
    second_ended_at = models.DateTimeField(null=True, blank=True)
    voted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["listener", "challenge", "voted_at"], name="pair_issue_listener_idx")]

    def __str__(self) -> str:
        return f"pair {self.first_id}/{self.second_id} for {self.listener_id}"


class PairVote(models.Model):
    """One listener's verdict on one pair (``low`` < ``high`` by submission id): which they preferred, or about
    the same (``preferred`` null). One per pair and listener."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="pair_votes")
    listener = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    low = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    preferred = models.ForeignKey(Submission, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["listener", "low", "high"], name="one_pair_vote_per_listener"),
            models.CheckConstraint(condition=models.Q(low__lt=models.F("high")), name="pair_vote_low_below_high"),
        ]
        indexes = [models.Index(fields=["challenge"], name="pair_vote_challenge_idx")]

    def __str__(self) -> str:
        return f"{self.listener_id}: {self.low_id} vs {self.high_id} -> {self.preferred_id}"


class AudienceRating(models.Model):
    """The Bradley-Terry (Davidson) rating of an entry from the challenge's pair votes, refitted on every vote."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="audience_rating")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="+")
    strength = models.FloatField(help_text="log-strength, centred on the challenge's mean")
    rating = models.FloatField(help_text="0-100: the chance of being preferred to an average entry")
    low = models.FloatField()
    high = models.FloatField()
    comparisons = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.submission_id}: {self.rating:.1f}"


class InputScore(models.Model):
    """The automatic score of one output of a Melody Harvest entry (one hidden input), so that the public and
    the private inputs rank apart."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="input_scores")
    input_name = models.CharField(max_length=200)
    role = models.CharField(max_length=10, help_text="InputMelody.role when scored: example, public or private.")
    automatic = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "input_name"], name="one_score_per_input")]

    def __str__(self) -> str:
        return f"{self.submission_id}/{self.input_name}: {self.automatic:.1f}"


class FinalChoice(models.Model):
    """An entrant marked this Melody Harvest entry as one of their final entries (ranked on the private inputs)."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="final_choice")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="+")
    entrant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["challenge", "entrant"], name="final_choice_entrant_idx")]

    def __str__(self) -> str:
        return f"final: {self.submission_id}"
