"""Why an entry is refused or a transition is illegal; the API's exception handler maps ``EntryRefusedError`` (an
ApplicationError) to its JSON error body."""

from __future__ import annotations

from chartbusters.errors import ApplicationError


class EntryRefusedError(ApplicationError):
    """An entry the platform will not take: ``code`` is stable, ``message`` a sentence a person can act on.

    ``status`` is the HTTP status an API answers with (401, 403, 404, 413, 422, 429). ``retry_at`` is set for a
    daily quota refusal: when the entrant may submit again (the API sends it and Retry-After).
    """


class IllegalTransitionError(Exception):
    """A lifecycle move the state machine forbids (e.g. scored -> generating)."""


class NotOrganizerError(Exception):
    """An organizer action by someone who does not organize the submission's challenge."""
