"""The application's one error type: services raise it, the API's exception handler and the pages turn it into
an answer (``{"error": {"code", "message"}}`` with ``status``, or a form error)."""

from __future__ import annotations


class ApplicationError(Exception):
    """A refusal a person can act on: ``code`` is stable, ``message`` a sentence, ``status`` the HTTP status."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message
