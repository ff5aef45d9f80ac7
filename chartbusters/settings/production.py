"""Production: secrets have no default. SECRET_KEY must be set (50 characters or more) and DEBUG is off unless set.

HTTPS (README "Running on PostgreSQL + Redis"): ``SECURE_SSL_REDIRECT`` (default on) and ``SECURE_HSTS_SECONDS``
(default 0: HSTS off until you set it) come from the environment; ``SECURE_PROXY_SSL_HEADER=1`` trusts the
X-Forwarded-Proto header, only behind a proxy that sets it (otherwise any client could claim HTTPS).
"""

import os

from django.core.exceptions import ImproperlyConfigured

MIN_SECRET_KEY_LENGTH = 50  # Django's own check (security.W009) asks for 50 characters, 5 of them different

_key = os.environ.get("SECRET_KEY", "")
if not _key:
    raise ImproperlyConfigured("SECRET_KEY must be set in production (chartbusters.settings.production).")
if len(_key) < MIN_SECRET_KEY_LENGTH or len(set(_key)) < 5:
    raise ImproperlyConfigured(
        f"SECRET_KEY must be a random string of at least {MIN_SECRET_KEY_LENGTH} characters (this one has "
        f"{len(_key)}); e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

from chartbusters.settings.base import *  # noqa: E402, F403

if env_bool("SECURE_PROXY_SSL_HEADER", False):  # noqa: F405
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)  # noqa: F405
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)  # noqa: F405
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)  # noqa: F405
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)  # noqa: F405
