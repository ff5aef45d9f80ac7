"""Rate limits (issues 9, 24): log-in, sign-up, password resets, uploads, generation and likes; 429 + Retry-After.

One rule for every route: a scope (``login``, ``signup``, ``reset``, ``upload``, ``generate``, ``like``) has a rate
from settings (``RATE_LIMIT_LOGIN = "10/15m"``: 10 per 15 minutes; ``"off"`` disables it) and two counters per
window, one for the user (for log-in: the username tried from this address; for password resets: the e-mail
address) and one for the client's address. Signed-in actions (uploads, generation, likes) count per user only,
anonymous ones per address. A request is refused when either counter has reached the rate; ``RateLimitedError``
(an ApplicationError) carries the seconds to wait. The API's exception handler turns it into 429 ``{"error": {"code":
"rate_limited", ...}}`` with ``Retry-After``; pages show its message as a form error with the same status and header
(``chartbusters.errors.refusal_page``).

Counters live in the ``RATE_LIMIT_CACHE`` cache alias (settings: the database cache, or Redis when the broker is
Redis), so every web process and machine shares them. Windows are fixed (they start at multiples of their length
since the epoch), so the wait is at most one window.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import caches
from django.http import HttpRequest

from chartbusters.errors import ApplicationError, refusal_page

SCOPES: dict[str, tuple[str, str]] = {  # scope -> (setting, what is counted, in a sentence)
    "login": ("RATE_LIMIT_LOGIN", "failed log-ins for this account from your address, or from your address"),
    "signup": ("RATE_LIMIT_SIGNUP", "sign-up attempts from your address"),
    "upload": ("RATE_LIMIT_UPLOAD", "uploads from your account"),
    "generate": ("RATE_LIMIT_GENERATE", "generation requests from your account"),
    "like": ("RATE_LIMIT_LIKE", "likes from your account"),
    "reset": ("RATE_LIMIT_PASSWORD_RESET", "password reset requests for this address or from yours"),
    "vote": ("RATE_LIMIT_VOTE", "pair votes from your account"),
}
RATE_LIMITED_MESSAGE = "Too many {what}; try again in {wait}."
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RateLimitedError(ApplicationError):
    """Refused by a rate limit (429 ``rate_limited``): ``retry_after`` seconds until the window that refused it
    ends."""

    def __init__(self, *, scope: str, retry_after: int) -> None:
        wait = max(1, int(retry_after))
        super().__init__("rate_limited", RATE_LIMITED_MESSAGE.format(what=SCOPES[scope][1], wait=wait_text(wait)),
                         status=429, retry_after=wait)
        self.scope = scope


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str) -> Rate | None:
    """``"10/15m"`` -> Rate(10, 900); ``"5/h"`` -> Rate(5, 3600); ``"off"``, ``""`` or ``"0"`` -> None."""
    if text is None or str(text).strip().lower() in {"", "0", "off", "none"}:
        return None
    match = _RATE.match(str(text))
    if not match:
        raise ValueError(f"a rate limit is COUNT/PERIOD, e.g. 10/15m or 100/1h (s, m, h, d), found {text!r}")
    count, amount, unit = int(match[1]), int(match[2] or 1), match[3]
    return Rate(count, amount * _UNIT_SECONDS[unit]) if count > 0 and amount > 0 else None


def wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{-(-minutes // 60)} hours"


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind ``RATE_LIMIT_PROXY_COUNT`` trusted reverse proxies the address
    the outermost of them saw (X-Forwarded-For, counted from the right: a client cannot forge it)."""
    proxies = int(getattr(settings, "RATE_LIMIT_PROXY_COUNT", 0))
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _rate(scope: str) -> Rate | None:
    return parse_rate(getattr(settings, SCOPES[scope][0]))


def _keys(scope: str, rate: Rate, *, user_key: str | None, address: str | None, now: float) -> tuple[list[str], int]:
    window = int(now // rate.seconds)
    keys = []
    for kind, ident in (("user", user_key), ("address", address)):
        if ident:
            digest = hashlib.sha256(str(ident).strip().lower().encode()).hexdigest()[:32]
            keys.append(f"ratelimit:{scope}:{kind}:{digest}:{window}")
    return keys, int((window + 1) * rate.seconds - now) + 1


def rate_limit_check(*, scope: str, user_key: str | None, address: str | None) -> None:
    """Raise RateLimitedError when the user's or the address's counter of ``scope`` has reached its rate."""
    rate = _rate(scope)
    if rate is None:
        return
    keys, retry_after = _keys(scope, rate, user_key=user_key, address=address, now=time.time())
    counts = caches[settings.RATE_LIMIT_CACHE].get_many(keys)
    if any(int(value) >= rate.count for value in counts.values()):
        raise RateLimitedError(scope=scope, retry_after=retry_after)


def rate_limit_hit(*, scope: str, user_key: str | None, address: str | None) -> None:
    """Count one event of ``scope`` for the user and the address."""
    rate = _rate(scope)
    if rate is None:
        return
    cache = caches[settings.RATE_LIMIT_CACHE]
    keys, _ = _keys(scope, rate, user_key=user_key, address=address, now=time.time())
    for key in keys:
        if not cache.add(key, 1, timeout=rate.seconds + 60):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=rate.seconds + 60)


def rate_limit_take(*, scope: str, user_key: str | None, address: str | None) -> None:
    """Check, then count: every attempt of ``scope`` counts (uploads, generation)."""
    rate_limit_check(scope=scope, user_key=user_key, address=address)
    rate_limit_hit(scope=scope, user_key=user_key, address=address)


def rate_limit_request(request: HttpRequest, *, scope: str) -> None:
    """``rate_limit_take`` for a request: a signed-in user's per user id only (a class entering from one school
    address is many users), an anonymous one's per client address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        rate_limit_take(scope=scope, user_key=str(user.pk), address=None)
    else:
        rate_limit_take(scope=scope, user_key=None, address=client_address(request))


def authenticate_limited(request: HttpRequest, *, username: str, password: str):
    """``authenticate`` behind the log-in limit: RateLimitedError while the (username, address) pair or the address
    has had too many failed log-ins (even with the right password); a failed attempt counts, a success does not.
    Counted per pair, not per account, so that nobody can lock a judge out from their own address."""
    address = client_address(request)
    pair = f"{str(username).strip().lower()}|{address}"
    rate_limit_check(scope="login", user_key=pair, address=address)
    user = authenticate(request, username=username, password=password)
    if user is None:
        rate_limit_hit(scope="login", user_key=pair, address=address)
    return user


def with_rate_limit_status(view):
    """For page views whose form carries ``rate_limited`` (a RateLimitedError): answer 429 with Retry-After."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        return refusal_page(response, getattr(form, "rate_limited", None))

    return wrapped
