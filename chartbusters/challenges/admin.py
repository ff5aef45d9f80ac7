"""Challenges in the admin (organizers): status column and filter, judges and organizers inline, file inlines."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from chartbusters.accounts.roles import Role
from chartbusters.challenges.forms import ChallengeAdminForm, InputMelodyForm, ReferenceFileForm
from chartbusters.challenges.models import Challenge, InputMelody, ReferenceFile, WorkerPing
from chartbusters.challenges.reference_upload import reference_files_add
from chartbusters.challenges.selectors import challenge_quota_text, status_q


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Challenge.Status.choices

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() in Challenge.Status.values:
            return queryset.filter(status_q(self.value(), timezone.now()))
        return queryset


class _ChallengeUserInline(admin.TabularInline):
    """A row per assigned user. Access follows the challenge permissions, not the user-model permissions that
    Django asks of auto-created many-to-many inlines (organizers do not manage users)."""

    extra = 1
    role: Role

    def _can_change_challenge(self, request: HttpRequest) -> bool:
        return request.user.has_perm("challenges.change_challenge")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("challenges.view_challenge") or self._can_change_challenge(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._can_change_challenge(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._can_change_challenge(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._can_change_challenge(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(groups__name=self.role.value).order_by("username")
            kwargs["label"] = self.role.value
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class JudgeInline(_ChallengeUserInline):
    model = Challenge.judges.through
    role = Role.JUDGE
    verbose_name = "judge"
    verbose_name_plural = "judges (users with the Judge role)"


class OrganizerInline(_ChallengeUserInline):
    model = Challenge.organizers.through
    role = Role.ORGANIZER
    verbose_name = "organizer"
    verbose_name_plural = "organizers (users with the Organizer role)"


class InputMelodyInline(admin.TabularInline):
    model = InputMelody
    form = InputMelodyForm
    extra = 1
    verbose_name_plural = "hidden input melodies (Melody Harvest)"


class ReferenceFileInline(admin.TabularInline):
    model = ReferenceFile
    form = ReferenceFileForm
    extra = 1
    verbose_name_plural = "reference set (empty: the Bach training split)"


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    form = ChallengeAdminForm
    list_display = ["title", "slug", "kind", "status_display", "opens_at", "closes_at", "judging_ends_at",
                    "published"]
    list_filter = [StatusFilter, "kind", "published", "results_published"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "opens_at"
    inlines = [JudgeInline, OrganizerInline, InputMelodyInline, ReferenceFileInline]
    readonly_fields = ["quota_text", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "kind", "description", "published", "results_published"]}),
        ("Dates (UTC)", {"fields": ["opens_at", "closes_at", "judging_ends_at"]}),
        ("Quotas", {"fields": ["daily_quota", "total_quota", "quota_text"]}),
        ("Scoring", {"fields": ["weight_style", "weight_realness", "metrics", "alpha",
                                "originality_threshold_bars"]}),
        ("Melody Harvest", {"fields": ["generation_params", "generation_time_limit_seconds"]}),
        ("Reference set", {"fields": ["reference_upload"]}),
        (None, {"fields": ["entry_licence", "created_at", "updated_at"]}),
    ]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        pieces = getattr(form, "reference_pieces", [])
        if pieces:
            reference_files_add(challenge=form.instance, pieces=pieces)
            self.message_user(request, f"Added {len(pieces)} piece(s) to the reference set.")

    @admin.display(description="status")
    def status_display(self, obj: Challenge) -> str:
        return Challenge.Status(obj.status).label

    @admin.display(description="quota as entrants see it")
    def quota_text(self, obj: Challenge) -> str:
        return challenge_quota_text(obj) if obj.pk else "-"


@admin.register(WorkerPing)
class WorkerPingAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "answered_at", "worker", "queue", "challenge_title"]
    readonly_fields = list_display


admin.site.site_header = "Chartbusters administration"
admin.site.site_title = "Chartbusters admin"
admin.site.index_title = "Challenges, entries and judging"
