"""The application's one error type: services raise it, the API's exception handler
(``chartbusters.api.errors.api_exception_handler``) turns it into ``{"error": {"code", "message"}}`` with its status
and, for a wait, ``Retry-After``; pages show its message their way and answer through :func:`refusal_page`."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpResponse


class ApplicationError(Exception):
    """A refusal a person can act on: ``code`` is stable, ``message`` a sentence, ``status`` the HTTP status.

    A refusal that ends by waiting (429) says how long: ``retry_after`` seconds, or ``retry_at`` the moment it ends
    (a daily quota's reset; ``retry_after`` is then the seconds until it).
    """

    def __init__(self, code: str, message: str, *, status: int = 400, retry_after: int | None = None,
                 retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_at = retry_at
        if retry_after is None and retry_at is not None:
            retry_after = int((retry_at - datetime.now(UTC)).total_seconds()) + 1
        self.retry_after = None if retry_after is None else max(1, int(retry_after))

    def __str__(self) -> str:
        return self.message


def refusal_page(response: HttpResponse, refusal: ApplicationError | None) -> HttpResponse:
    """A page's answer to a refusal: ``response`` (the page showing the message as a form error or a message, or
    a redirect back to it) with the refusal's status (a redirect stays a redirect) and Retry-After for a wait;
    ``response`` as it is when there is no refusal."""
    if refusal is None:
        return response
    if not 300 <= response.status_code < 400:
        response.status_code = refusal.status
    if refusal.retry_after is not None:
        response["Retry-After"] = str(refusal.retry_after)
    return response
