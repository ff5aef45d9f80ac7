"""The entry forms of /challenges/<slug>/submit/: only field shapes here; the intake services decide."""

from __future__ import annotations

from django import forms

from submissions.models import Composition

COMPOSITION_HELP = "A Standard MIDI File: at most 2 MiB, 20,000 notes and 10 minutes."


class EntryBaseForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    accept_licence = forms.BooleanField(required=False)

    def __init__(self, *args, licence: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accept_licence"].label = f"I publish this entry under the challenge's licence: {licence}"


class CompositionEntryForm(EntryBaseForm):
    midi_file = forms.FileField(required=False, label="MIDI file", help_text=COMPOSITION_HELP)
    composition = forms.ModelChoiceField(
        queryset=Composition.objects.none(), required=False, label="or one of your saved compositions"
    )

    def __init__(self, *args, compositions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["composition"].queryset = compositions


class CheckpointEntryForm(EntryBaseForm):
    checkpoint = forms.FileField(label="Weights (.safetensors)", help_text="At most 200 MiB.")
    config = forms.FileField(label="Config (config.json)", help_text='{"architecture": ..., "config": {...}}')
    model_card = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False,
        help_text="What the model was trained on, how, and for how long.",
    )


class CompositionUploadForm(forms.Form):
    title = forms.CharField(max_length=200)
    midi_file = forms.FileField(label="MIDI file", help_text=COMPOSITION_HELP)
