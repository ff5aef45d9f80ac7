"""Evaluation in the admin: the challenge's realness model beside its reference set (status, progress, held-out AUC,
model card), and scores with the organizer's "clear copy flag" action (who and when are recorded)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from chartbusters.challenges.admin import ChallengeAdmin, OrganizedOnlyAdmin, organizes
from chartbusters.challenges.models import Challenge
from chartbusters.errors import ApplicationError
from evaluation.models import REALNESS_NOT_READY_WARNING as NOT_READY_WARNING
from evaluation.models import (
    ChallengeRescore,
    JudgeAssignment,
    JudgeConflict,
    JudgingSettings,
    Like,
    RankingSettings,
    RealnessModel,
    Score,
)
from evaluation.realness_card import weak_families_warning
from evaluation.reference import reference_files_digest
from evaluation.services.judging import judging_assign, judging_judges_left, judging_publish
from evaluation.services.rescoring import MANUAL_REASON, challenge_rescore_request
from evaluation.services.score_store import score_clear_copy_flag

CLEARED_MESSAGE = "Cleared the copy flag of {n} entr{ies}: the penalty no longer applies."
TRAINING_WARNING = ("The reference set changed: the challenge's realness model is being trained by a worker "
                    "(progress below), then every entry is rescored with it. " +
                    NOT_READY_WARNING.format(status="not ready yet"))
RESCORE_QUEUED = "{challenge}: every entry will be rescored by a worker (progress under \"Rescoring\")."


def _auc_summary(metrics: dict) -> str:
    auc = metrics.get("auc") or {}
    if not auc:
        return "-"
    worst = min(auc, key=auc.get)
    summary = format_html(
        "min {} ({}) over {} families; real held-out realness {} on {} pieces", f"{auc[worst]:.3f}", worst, len(auc),
        f"{metrics.get('mean_realness', {}).get('real', 0):.2f}", metrics.get("n_test_pieces", "?"))
    weak = weak_families_warning(metrics)  # families under 0.7 flagged, in red
    return format_html("{}<br><strong class='errornote' style='color: #ba2121'>{}</strong>", summary, weak) \
        if weak else summary


admin.site.unregister(Challenge)


class _OwnChallengeInline:
    """An inline of the challenge admin: acts only where the user organizes the challenge (``obj``)."""

    def _mine(self, request, obj) -> bool:
        return obj is None or organizes(request.user, obj)

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self._mine(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj) and self._mine(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._mine(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._mine(request, obj)


class JudgingSettingsInline(_OwnChallengeInline, admin.StackedInline):
    """How the challenge is judged (docs/judging.md)."""

    model = JudgingSettings
    can_delete = False
    extra = 1
    max_num = 1
    exclude = ("published_at", "published_by")
    verbose_name_plural = "judging settings (the defaults apply until saved)"


class RankingSettingsInline(_OwnChallengeInline, admin.StackedInline):
    """The audience's share of the final score and, for Melody Harvest, the final entries per entrant (issue 26)."""

    model = RankingSettings
    can_delete = False
    extra = 1
    max_num = 1
    verbose_name_plural = "ranking settings (audience weight beta, final entries; the defaults apply until saved)"


class JudgeConflictInline(_OwnChallengeInline, admin.TabularInline):
    """Judges who must not review an entrant's entries (a judge never reviews their own entries anyway)."""

    model = JudgeConflict
    extra = 0
    autocomplete_fields = ()
    raw_id_fields = ("judge", "entrant")
    verbose_name_plural = "conflicts of interest (judge x entrant)"


@admin.register(Challenge)
class ChallengeWithRealnessAdmin(ChallengeAdmin):
    """The challenge admin with its realness model's state beside the reference set, and a warning while it
    trains (a read-only field, so the change form posts exactly what it did before); its judging settings,
    conflicts, a link to the judging overview and the actions "assign judges now" and "publish the results"."""

    readonly_fields = [*ChallengeAdmin.readonly_fields, "realness_model_status", "rescoring_status", "judging_link"]
    fieldsets = [*ChallengeAdmin.fieldsets, ("Realness model (trained from the reference set)",
                                             {"fields": ["realness_model_status"]}),
                 ("Rescoring (every entry by the current scorer)", {"fields": ["rescoring_status"]}),
                 ("Judging", {"fields": ["judging_link"]})]
    inlines = [*ChallengeAdmin.inlines, JudgingSettingsInline, RankingSettingsInline, JudgeConflictInline]
    actions = [*(getattr(ChallengeAdmin, "actions", None) or []), "assign_judges", "publish_results",
               "rescore_entries"]

    @admin.display(description="judging")
    def judging_link(self, obj: Challenge) -> str:
        if not obj.pk:
            return "-"
        n = JudgeAssignment.objects.filter(challenge=obj).count()
        done = JudgeAssignment.objects.filter(challenge=obj, status=JudgeAssignment.Status.SUBMITTED).count()
        return format_html("{} of {} reviews submitted. <a href='/judging/{}/'>Judging overview</a> (progress, "
                           "agreement, reassign, final round, publish)", done, n, obj.slug)

    def _run(self, request: HttpRequest, queryset: QuerySet, service, done: str) -> None:
        for challenge in queryset:
            try:
                n = service(challenge_id=challenge.pk, by=request.user)
                self.message_user(request, done.format(challenge=challenge.title, n=n))
            except ApplicationError as exc:
                self.message_user(request, f"{challenge.title}: {exc.message}", messages.ERROR)

    @admin.action(description="Assign judges now (round 1)", permissions=["change"])
    def assign_judges(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run(request, queryset, judging_assign, "{challenge}: {n} reviews assigned.")

    @admin.action(description="Publish the results (every review submitted)", permissions=["change"])
    def publish_results(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run(request, queryset, judging_publish, "{challenge}: results published, {n} entries judged.")

    @admin.action(description="Rescore every entry with the current scorer", permissions=["change"])
    def rescore_entries(self, request: HttpRequest, queryset: QuerySet) -> None:
        for challenge in queryset:
            challenge_rescore_request(challenge_id=challenge.pk, reason=MANUAL_REASON, by=request.user)
            self.message_user(request, RESCORE_QUEUED.format(challenge=challenge.title))

    @admin.display(description="rescoring")
    def rescoring_status(self, obj: Challenge) -> str:
        row = ChallengeRescore.objects.filter(challenge=obj).order_by("-pk").first() if obj.pk else None
        if row is None:
            return "Never rescored: each entry was scored once, when it arrived."
        report = row.report or {}
        outcome = ("no change" if report.get("no_change") else
                   f"{len(report.get('changed', []))} entries changed score or rank") if report else ""
        return format_html("<strong>{}</strong> {} of {} entries ({} %). Why: {}. {} {}", row.get_status_display(),
                           row.done, row.total, row.progress, row.reason, outcome, row.error)

    @admin.display(description="realness model")
    def realness_model_status(self, obj: Challenge) -> str:
        row = RealnessModel.objects.filter(challenge=obj).first() if obj.pk else None
        if row is None:
            return "The default Bach model (the challenge has no reference set of its own)."
        link = reverse("admin:evaluation_realnessmodel_change", args=[row.pk])
        warning = "" if row.status == RealnessModel.Status.READY else NOT_READY_WARNING.format(
            status=row.get_status_display().lower())
        return format_html("<strong>{}</strong> ({} %) {} <br>Held-out ROC AUC: {} <br><a href='{}'>model card</a> {}",
                           row.get_status_display(), row.progress, row.error, _auc_summary(row.metrics), link,
                           warning)  # fmt: skip

    def save_related(self, request, form, formsets, change) -> None:
        challenge = form.instance
        before = set(challenge.judges.values_list("pk", flat=True)) if change else set()
        before_digest = reference_files_digest(challenge.reference_files.all() if change else [])
        super().save_related(request, form, formsets, change)
        gone = before - set(challenge.judges.values_list("pk", flat=True))
        judging_judges_left(pairs=[(challenge.pk, judge_id) for judge_id in gone])  # the inline sends no m2m signal
        if reference_files_digest(challenge.reference_files.all()) != before_digest:
            self.message_user(request, TRAINING_WARNING, messages.WARNING)  # the set's content really changed


@admin.register(RealnessModel)
class RealnessModelAdmin(OrganizedOnlyAdmin):
    list_display = ("challenge", "status", "progress", "held_out_auc", "finished_at")
    exclude = ("model_card", "metrics", "config")
    readonly_fields = [*(f.name for f in RealnessModel._meta.fields if f.name not in ("model_card", "metrics",
                                                                                      "config")),
                       "held_out_auc", "card"]  # fmt: skip

    @admin.display(description="held-out ROC AUC")
    def held_out_auc(self, obj: RealnessModel) -> str:
        return _auc_summary(obj.metrics)

    @admin.display(description="model card")
    def card(self, obj: RealnessModel) -> str:
        weak = weak_families_warning(obj.metrics)  # also for a card stored before the warning was written into it
        card = obj.model_card or "-"
        if weak and weak not in card:
            card = f"{weak}\n\n{card}"
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", card)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Score)
class ScoreAdmin(OrganizedOnlyAdmin):
    list_display = ("submission", "challenge", "automatic", "automatic_unpenalized", "copy_penalty", "flagged_copy",
                    "copy_cleared_by", "copy_cleared_at", "final")
    list_filter = ("flagged_copy", ("challenge", admin.RelatedOnlyFieldListFilter))
    actions = ["clear_copy_flag"]
    readonly_fields = [f.name for f in Score._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Score]:
        return super().get_queryset(request).select_related("submission", "challenge")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Clear the copy flag (the penalty no longer applies; who and when are recorded)",
                  permissions=["change"])
    def clear_copy_flag(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for score in queryset:
            try:
                score_clear_copy_flag(submission_id=score.submission_id, cleared_by=request.user)
                done += 1
            except ValueError as exc:
                self.message_user(request, f"Skipped #{score.submission_id}: {exc}", messages.WARNING)
        self.message_user(request, CLEARED_MESSAGE.format(n=done, ies="y" if done == 1 else "ies"))


@admin.register(JudgeAssignment)
class JudgeAssignmentAdmin(OrganizedOnlyAdmin):
    """Reviews, for the organizers (reassign from the judging overview, /judging/<slug>/)."""

    list_display = ("challenge", "round", "entry_number", "submission", "judge", "status", "originality", "balance",
                    "emotion", "submitted_at")
    list_filter = ("status", "round", ("challenge", admin.RelatedOnlyFieldListFilter))
    readonly_fields = [f.name for f in JudgeAssignment._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[JudgeAssignment]:
        return super().get_queryset(request).select_related("challenge", "judge")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Like)
class LikeAdmin(OrganizedOnlyAdmin):
    list_display = ("submission", "challenge", "user", "created_at")
    list_filter = (("challenge", admin.RelatedOnlyFieldListFilter),)
    readonly_fields = [f.name for f in Like._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
