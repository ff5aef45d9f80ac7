"""Sign-up form: username, e-mail (for password resets and entry notices), password twice."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

EMAIL_TAKEN = "An account with this e-mail address already exists."


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="For password resets and notices about your entries.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ["username", "email"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(EMAIL_TAKEN, code="email_taken")
        return email
