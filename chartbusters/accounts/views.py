"""Sign-up (new users are entrants); log-in, log-out and password reset are Django's views with our templates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from chartbusters.accounts.forms import SignUpForm
from chartbusters.accounts.services import user_sign_up
from chartbusters.errors import refusal_page
from chartbusters.ratelimit import RateLimitedError, client_address, rate_limit_take

WELCOME_MESSAGE = "Welcome, {username}! You can now enter challenges."


def sign_up_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("challenges:list")
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        try:  # every sign-up attempt counts, per address (it also bounds probing for taken names and e-mails)
            rate_limit_take(scope="signup", user_key=None, address=client_address(request))
        except RateLimitedError as exc:
            form.add_error(None, exc.message)
            return refusal_page(render(request, "accounts/signup.html", {"form": form}), exc)
        if form.is_valid():
            user = user_sign_up(
                username=form.cleaned_data["username"], email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, WELCOME_MESSAGE.format(username=user.username))
            return redirect("challenges:list")
    return render(request, "accounts/signup.html", {"form": form})


class RateLimitedPasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, behind RATE_LIMIT_PASSWORD_RESET: per e-mail address asked for and per client
    address (15 resets for one account from one address sent 15 e-mails); over it, a form error and 429."""

    def form_valid(self, form):
        try:
            rate_limit_take(scope="reset", user_key=form.cleaned_data["email"],
                            address=client_address(self.request))
        except RateLimitedError as exc:
            form.add_error(None, exc.message)
            return refusal_page(self.form_invalid(form), exc)
        return super().form_valid(form)
