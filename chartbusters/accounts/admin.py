"""The admin's log-in form goes through the same log-in rate limit as the site's (chartbusters.ratelimit)."""

from django.contrib import admin

from chartbusters.accounts.forms import AdminLoginForm

admin.site.login_form = AdminLoginForm
