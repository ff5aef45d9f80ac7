"""Production: secrets have no default. SECRET_KEY must be set (50 characters or more) and DEBUG is off unless set.

HTTPS (docs/operations.md "Running on PostgreSQL + Redis"):
``SECURE_SSL_REDIRECT`` (default on) and ``SECURE_HSTS_SECONDS``
(default 0: HSTS off until you set it) come from the environment; ``SECURE_PROXY_SSL_HEADER=1`` trusts the
X-Forwarded-Proto header, only behind a proxy that sets it (otherwise any client could claim HTTPS).
"""

from django.core.exceptions import ImproperlyConfigured

from chartbusters.settings.environment import env

MIN_SECRET_KEY_LENGTH = 50  # Django's own check (security.W009) asks for 50 characters, 5 of them different

_key = env.str("SECRET_KEY", default="")  # checked before base.py would fall back to the development key
if not _key:
    raise ImproperlyConfigured("SECRET_KEY must be set in production (chartbusters.settings.production).")
if len(_key) < MIN_SECRET_KEY_LENGTH or len(set(_key)) < 5:
    raise ImproperlyConfigured(
        f"SECRET_KEY must be a random string of at least {MIN_SECRET_KEY_LENGTH} characters (this one has "
        f"{len(_key)}); e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

from chartbusters.settings.base import *  # noqa: E402, F403

if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
