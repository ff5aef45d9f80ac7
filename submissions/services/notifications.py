"""E-mails to the entrant when an entry is scored or fails; sent once the transaction commits."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from submissions.models import Submission

logger = logging.getLogger(__name__)

SCORED_SUBJECT = "Your entry \u201c{title}\u201d to {challenge} has been scored"
SCORED_BODY = (
    "Hello {name},\n\nyour entry \u201c{title}\u201d to the challenge \u201c{challenge}\u201d has been scored.\n"
    "See its score and how it was computed on Chartbusters (entry #{id}).\n"
)
FAILED_SUBJECT = "Your entry \u201c{title}\u201d to {challenge} could not be scored"
FAILED_BODY = (
    "Hello {name},\n\nyour entry \u201c{title}\u201d to the challenge \u201c{challenge}\u201d could not be scored:\n\n"
    "{error}\n\n{quota_note}"
)
QUOTA_NOTE_NOT_COUNTED = "This entry does not count against your quota."
QUOTA_NOTE_COUNTED = "This entry counts against your quota."


def _context(submission: Submission) -> dict:
    entrant = submission.entrant
    return {
        "id": submission.pk,
        "title": submission.title,
        "challenge": submission.challenge.title,
        "name": entrant.get_full_name() or entrant.get_username(),
        "error": submission.error,
        "quota_note": QUOTA_NOTE_COUNTED if submission.counts_against_quota else QUOTA_NOTE_NOT_COUNTED,
    }


def _send_on_commit(*, to: str, subject: str, body: str) -> None:
    def _send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
        except Exception:  # a mail server down must not fail the job that already finished
            logger.exception("Could not send the e-mail %r to %s", subject, to)

    transaction.on_commit(_send)


def submission_notify_finished(*, submission: Submission) -> None:
    """Queue the e-mail for a scored or failed entry (nothing when the entrant has no e-mail address)."""
    to = submission.entrant.email
    if not to:
        return
    ctx = _context(submission)
    if submission.status == Submission.Status.SCORED:
        _send_on_commit(to=to, subject=SCORED_SUBJECT.format(**ctx), body=SCORED_BODY.format(**ctx))
    elif submission.status == Submission.Status.FAILED:
        _send_on_commit(to=to, subject=FAILED_SUBJECT.format(**ctx), body=FAILED_BODY.format(**ctx))
