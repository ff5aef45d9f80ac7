"""Admin forms: the challenge rules as field-level messages; uploaded MIDI files checked like the bundle's."""

from __future__ import annotations

from django import forms

from chartbusters.admin_files import FileLinkWidget
from chartbusters.challenges.models import ALL_METRICS, Challenge, InputMelody, ReferenceFile, default_metrics
from chartbusters.challenges.reference_upload import reference_upload_check
from chartbusters.challenges.validation import challenge_field_errors
from chartbusters.files import FileKind
from generation.engine.errors import MidiValidationError
from generation.engine.midi_io import MAX_MIDI_BYTES, validate_midi_bytes


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe): a list of uploads."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".mid,.midi,.zip"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ChallengeAdminForm(forms.ModelForm):
    reference_upload = MultipleFileField(
        required=False, label="Add reference files",
        help_text="Several MIDI files at once (select many), or one zip of them: each becomes a piece of the "
                  "reference set below, named after its file; every file is checked before any is stored.",
    )
    metrics = forms.MultipleChoiceField(
        choices=[(m, m) for m in ALL_METRICS], required=False, widget=forms.CheckboxSelectMultiple,
        initial=default_metrics, help_text="Metrics that make up the style score (a new challenge starts with all).",
    )

    class Meta:
        model = Challenge
        # judges and organizers are edited in the inlines
        fields = ["title", "slug", "kind", "description", "published", "results_published", "opens_at", "closes_at",
                  "judging_ends_at", "daily_quota", "total_quota", "weight_style", "weight_realness", "metrics",
                  "alpha", "originality_threshold_bars", "generation_params", "generation_time_limit_seconds",
                  "entry_licence"]

    def clean_reference_upload(self):
        pieces, problems = reference_upload_check(self.cleaned_data.get("reference_upload") or [],
                                                  challenge=self.instance)
        if problems:
            raise forms.ValidationError(problems)
        self.reference_pieces = pieces  # stored by the admin once the challenge is saved
        return pieces

    def clean(self) -> dict:
        cleaned = super().clean()
        for field, messages in challenge_field_errors(cleaned).items():
            for message in messages:
                if field in self.fields and field not in self.errors:
                    self.add_error(field, message)
        return cleaned


class ChallengeMidiForm(forms.ModelForm):
    """An input melody or reference file: the upload must be a MIDI file within the platform's limits."""

    def clean_midi(self):
        upload = self.cleaned_data.get("midi")
        if upload and hasattr(upload, "read") and self.has_changed() and "midi" in self.changed_data:
            upload.seek(0)
            data = upload.read(MAX_MIDI_BYTES + 1)
            upload.seek(0)
            try:
                validate_midi_bytes(data)
            except MidiValidationError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
        return upload


class InputMelodyForm(ChallengeMidiForm):
    class Meta:
        model = InputMelody
        fields = ["name", "midi"]
        widgets = {"midi": FileLinkWidget(FileKind.INPUT)}


class ReferenceFileForm(ChallengeMidiForm):
    class Meta:
        model = ReferenceFile
        fields = ["name", "midi"]
        widgets = {"midi": FileLinkWidget(FileKind.REFERENCE)}
