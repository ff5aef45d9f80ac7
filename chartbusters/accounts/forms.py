"""Sign-up form: username, e-mail (for password resets and entry notices), password twice; the log-in forms of the
site and the admin, both behind the log-in rate limit (chartbusters.ratelimit)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from chartbusters.ratelimit import RateLimitedError, authenticate_limited

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


class RateLimitedLoginMixin:
    """AuthenticationForm.clean through ``authenticate_limited``: once the username or the address has had too many
    failed log-ins, even the right password gets a form error saying how long to wait (``rate_limited`` is set for
    the view, which answers 429 with Retry-After)."""

    rate_limited: RateLimitedError | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = authenticate_limited(self.request, username=username, password=password)
            except RateLimitedError as exc:
                self.rate_limited = exc
                raise forms.ValidationError(exc.message, code="rate_limited") from exc
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginForm(RateLimitedLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(RateLimitedLoginMixin, AdminAuthenticationForm):
    pass
