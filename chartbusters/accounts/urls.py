"""/accounts/: sign-up, log-in, log-out (POST), password reset by e-mail."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from chartbusters.accounts.forms import LoginForm
from chartbusters.accounts.views import RateLimitedPasswordResetView, sign_up_view
from chartbusters.ratelimit import with_rate_limit_status

app_name = "accounts"

urlpatterns = [
    path("signup/", sign_up_view, name="signup"),
    path("login/", with_rate_limit_status(auth_views.LoginView.as_view(
        template_name="accounts/login.html", authentication_form=LoginForm)), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        RateLimitedPasswordResetView.as_view(
            template_name="accounts/password_reset_form.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
