"""Why an entry is refused or a transition is illegal; the API maps ``EntryRefusedError`` to its JSON error body."""

from __future__ import annotations

from datetime import datetime

from chartbusters.errors import ApplicationError


class EntryRefusedError(ApplicationError):
    """An entry the platform will not take: ``code`` is stable, ``message`` a sentence a person can act on.

    ``status`` is the HTTP status an API answers with (401, 403, 404, 413, 422, 429). ``retry_at`` is set for a
    daily quota refusal: when the entrant may submit again.
    """

    def __init__(self, code: str, message: str, *, status: int, retry_at: datetime | None = None) -> None:
        super().__init__(code, message, status=status)
        self.retry_at = retry_at


class IllegalTransitionError(Exception):
    """A lifecycle move the state machine forbids (e.g. scored -> generating)."""


class NotOrganizerError(Exception):
    """An organizer action by someone who does not organize the submission's challenge."""
