"""Challenges in the admin (organizers): status column and filter, judges and organizers inline, file inlines."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from chartbusters.accounts.roles import Role
from chartbusters.challenges.forms import ChallengeAdminForm, InputMelodyForm, ReferenceFileForm
from chartbusters.challenges.models import Challenge, InputMelody, ReferenceFile, WorkerPing
from chartbusters.challenges.reference_upload import reference_files_add
from chartbusters.challenges.selectors import challenge_quota_text, status_q


def organizes(user, challenge: Challenge | None) -> bool:
    """Whether ``user`` may act on ``challenge`` in the admin: superusers on all, organizers on theirs only."""
    if user.is_superuser:
        return True
    if challenge is None or challenge.pk is None:
        return False
    return challenge.organizers.filter(pk=user.pk).exists()


class OrganizedOnlyAdmin(admin.ModelAdmin):
    """An admin of a challenge or of a challenge's child: an organizer lists, opens and changes only the rows of the
    challenges they organize; another challenge's row is a 404 (not the admin's "doesn't exist" redirect), whatever
    the URL (change, delete, history). ``challenge_path`` is the lookup from the row to its challenge ("" for the
    challenge itself)."""

    challenge_path = "challenge"

    def _challenge_of(self, obj) -> Challenge | None:
        for part in filter(None, self.challenge_path.split("__")):
            obj = getattr(obj, part, None)
        return obj

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        lookup = f"{self.challenge_path}__organizers" if self.challenge_path else "organizers"
        return qs.filter(**{lookup: request.user}).distinct()

    def get_object(self, request: HttpRequest, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such row among the challenges you organize.")
        return obj

    def _mine(self, request: HttpRequest, obj) -> bool:
        return obj is None or organizes(request.user, self._challenge_of(obj))

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self._mine(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._mine(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._mine(request, obj)


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

    superuser_only = False  # organizers: only superusers add or remove a challenge's organizers

    def _can_change_challenge(self, request: HttpRequest, obj) -> bool:
        if self.superuser_only:
            return request.user.is_superuser
        return request.user.has_perm("challenges.change_challenge") and (obj is None or organizes(request.user, obj))

    def has_view_permission(self, request, obj=None) -> bool:
        if self.superuser_only:
            return request.user.is_superuser
        may_view = request.user.has_perm("challenges.view_challenge") and (obj is None or organizes(request.user, obj))
        return may_view or self._can_change_challenge(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._can_change_challenge(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._can_change_challenge(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._can_change_challenge(request, obj)

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
    superuser_only = True
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
class ChallengeAdmin(OrganizedOnlyAdmin):
    challenge_path = ""
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

    @admin.display(description="status")
    def status_display(self, obj: Challenge) -> str:
        return Challenge.Status(obj.status).label

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if not change and not request.user.is_superuser:
            form.instance.organizers.add(request.user)  # who adds a challenge organizes it
        pieces = getattr(form, "reference_pieces", [])
        if pieces:
            reference_files_add(challenge=form.instance, pieces=pieces)
            self.message_user(request, f"Added {len(pieces)} piece(s) to the reference set.")

    @admin.display(description="quota as entrants see it")
    def quota_text(self, obj: Challenge) -> str:
        return challenge_quota_text(obj) if obj.pk else "-"


@admin.register(WorkerPing)
class WorkerPingAdmin(OrganizedOnlyAdmin):
    """A ping names no challenge (everyone's health check) or one (seen by its organizers only)."""

    list_display = ["id", "created_at", "answered_at", "worker", "queue", "challenge_title"]
    readonly_fields = list_display

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        return qs.filter(Q(challenge__isnull=True) | Q(challenge__organizers=request.user)).distinct()

    def _mine(self, request: HttpRequest, obj) -> bool:
        return obj is None or obj.challenge_id is None or organizes(request.user, obj.challenge)


admin.site.site_header = "Chartbusters administration"
admin.site.site_title = "Chartbusters admin"
admin.site.index_title = "Challenges, entries and judging"
