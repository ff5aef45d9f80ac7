"""Entries in the admin: organizers see their challenges' entries only (superusers all) and can rerun or
disqualify them; each action goes through the moderation services, which record who and when."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from chartbusters.admin_files import file_link
from chartbusters.challenges.admin import OrganizedOnlyAdmin
from chartbusters.files import FileKind
from submissions.models import Composition, Submission, SubmissionOutput
from submissions.selectors import composition_list_for_organizer, submission_list_for_organizer
from submissions.services.errors import IllegalTransitionError, NotOrganizerError
from submissions.services.moderation import submission_disqualify, submission_requalify, submission_rerun

RERUN_DONE_MESSAGE = "Queued {n} entr{ies} to run again."
SKIPPED_MESSAGE = "Skipped #{id}: {reason}"
DISQUALIFIED_MESSAGE = "Disqualified {n} entr{ies}."
REQUALIFIED_MESSAGE = "Requalified {n} entr{ies}."


def _plural(n: int) -> str:
    return "y" if n == 1 else "ies"


class DisqualifyForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                             help_text="The entrant sees this reason.")


class SubmissionOutputInline(admin.TabularInline):
    model = SubmissionOutput
    extra = 0
    fields = ("input_name", "midi_file", "audio_file", "seconds", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="MIDI")
    def midi_file(self, obj: SubmissionOutput) -> str:
        return file_link(FileKind.OUTPUT, obj, obj.midi)

    @admin.display(description="audio")
    def audio_file(self, obj: SubmissionOutput) -> str:
        return file_link(FileKind.OUTPUT_AUDIO, obj, obj.audio)


@admin.register(Submission)
class SubmissionAdmin(OrganizedOnlyAdmin):
    list_display = ("id", "title", "challenge", "entrant", "kind", "status", "progress", "disqualified",
                    "counts_against_quota", "rerun_count", "created_at")
    list_filter = ("status", "kind", "disqualified", "counts_against_quota",
                   ("challenge", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title", "entrant__username", "challenge__slug")
    date_hierarchy = "created_at"
    inlines = [SubmissionOutputInline]
    actions = ["rerun_selected", "disqualify_selected", "requalify_selected"]
    # Files link to their access-checked URLs (/files/...), not to MEDIA_ROOT paths.
    readonly_fields = [
        {"midi": "midi_file", "checkpoint": "checkpoint_file"}.get(f.name, f.name) for f in Submission._meta.fields
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        return submission_list_for_organizer(user=request.user)

    @admin.display(description="MIDI")
    def midi_file(self, obj: Submission) -> str:
        return file_link(FileKind.ENTRY, obj, obj.midi)

    @admin.display(description="checkpoint")
    def checkpoint_file(self, obj: Submission) -> str:
        return file_link(FileKind.CHECKPOINT, obj, obj.checkpoint)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entries come in through the intake services only

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def _each(self, request: HttpRequest, queryset: QuerySet, action, **kwargs) -> int:
        done = 0
        for submission_id in queryset.values_list("pk", flat=True):
            try:
                action(submission_id=submission_id, **kwargs)
            except (IllegalTransitionError, NotOrganizerError) as exc:
                self.message_user(request, SKIPPED_MESSAGE.format(id=submission_id, reason=exc), messages.WARNING)
            else:
                done += 1
        return done

    @admin.action(description="Rerun the selected entries (scored or failed)", permissions=["change"])
    def rerun_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        n = self._each(request, queryset, submission_rerun, rerun_by=request.user)
        self.message_user(request, RERUN_DONE_MESSAGE.format(n=n, ies=_plural(n)))

    @admin.action(description="Disqualify the selected entries", permissions=["change"])
    def disqualify_selected(self, request: HttpRequest, queryset: QuerySet):
        form = DisqualifyForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            n = self._each(request, queryset, submission_disqualify, disqualified_by=request.user,
                           reason=form.cleaned_data["reason"])
            self.message_user(request, DISQUALIFIED_MESSAGE.format(n=n, ies=_plural(n)))
            return None
        context = {
            **self.admin_site.each_context(request), "title": "Disqualify entries", "form": form,
            "queryset": queryset, "opts": self.model._meta, "action": "disqualify_selected",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/submissions/disqualify.html", context)

    @admin.action(description="Undo the disqualification of the selected entries", permissions=["change"])
    def requalify_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        n = self._each(request, queryset, submission_requalify, requalified_by=request.user)
        self.message_user(request, REQUALIFIED_MESSAGE.format(n=n, ies=_plural(n)))


@admin.register(Composition)
class CompositionAdmin(OrganizedOnlyAdmin):
    list_display = ("id", "title", "owner", "source", "created_at")
    list_filter = ("source",)
    search_fields = ("title", "owner__username")
    readonly_fields = ("midi_file",)
    exclude = ("midi",)

    @admin.display(description="MIDI")
    def midi_file(self, obj: Composition) -> str:
        return file_link(FileKind.COMPOSITION, obj, obj.midi)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Composition]:
        return composition_list_for_organizer(user=request.user)

    def _mine(self, request: HttpRequest, obj) -> bool:
        # seen through the entries made of it, in the challenges the user organizes
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()
