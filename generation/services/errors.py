"""The studio's one application error: the API maps it to its JSON body and status, pages show its message."""

from __future__ import annotations


class StudioError(Exception):
    """A request the studio refuses: ``code`` is stable, ``message`` a sentence a person can act on, ``status`` the
    HTTP status (400/404/409/413/422/429); ``retry_after`` (seconds) for 429."""

    def __init__(self, code: str, message: str, *, status: int = 422, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message
