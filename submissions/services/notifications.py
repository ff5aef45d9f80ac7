"""E-mails to the entrant when an entry is scored, fails, is disqualified or its results are published; sent once
the transaction commits. Every e-mail links to its entry (``settings.SITE_URL`` + the entry's page)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mail
from django.db import transaction

from submissions.models import Submission

logger = logging.getLogger(__name__)

SCORED_SUBJECT = "Your entry \u201c{title}\u201d to {challenge} has been scored"
SCORED_BODY = (
    "Hello {name},\n\nyour entry \u201c{title}\u201d to the challenge \u201c{challenge}\u201d has been scored.\n"
    "See its score and how it was computed on Chartbusters (entry #{id}):\n{url}\n"
)
FAILED_SUBJECT = "Your entry \u201c{title}\u201d to {challenge} could not be scored"
FAILED_BODY = (
    "Hello {name},\n\nyour entry \u201c{title}\u201d to the challenge \u201c{challenge}\u201d could not be scored:\n\n"
    "{error}\n\n{quota_note}\n\nThe entry: {url}\n"
)
DISQUALIFIED_SUBJECT = "Your entry \u201c{title}\u201d to {challenge} has been disqualified"
DISQUALIFIED_BODY = (
    "Hello {name},\n\nthe organizers of \u201c{challenge}\u201d disqualified your entry \u201c{title}\u201d "
    "(entry #{id}). Their reason:\n\n{reason}\n\nThe entry no longer ranks. See it here:\n{url}\n"
)
RESULTS_SUBJECT = "The results of {challenge} are published"
RESULTS_BODY_JUDGED = (
    "Hello {name},\n\nthe results of \u201c{challenge}\u201d are published. The judges' marks and comments on your "
    "entry \u201c{title}\u201d (entry #{id}) and its final score are on its page:\n{url}\n"
)
RESULTS_BODY_UNJUDGED = (
    "Hello {name},\n\nthe results of \u201c{challenge}\u201d are published. Your entry \u201c{title}\u201d "
    "(entry #{id}) was not among the entries the judges reviewed; its final score is its automatic score:\n{url}\n"
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
        "url": entry_url(submission.pk),
        "reason": submission.disqualification_reason,
    }


def entry_url(submission_id: int) -> str:
    """The entry's page, as an absolute address for e-mails."""
    return f"{settings.SITE_URL}/submissions/{submission_id}/"


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


def submission_notify_disqualified(*, submission: Submission) -> None:
    """Tell the entrant that an organizer disqualified their entry, with the organizer's reason and a link."""
    to = submission.entrant.email
    if to:
        ctx = _context(submission)
        _send_on_commit(to=to, subject=DISQUALIFIED_SUBJECT.format(**ctx), body=DISQUALIFIED_BODY.format(**ctx))


def submissions_notify_results(*, submissions: list[Submission], judged_ids: set[int]) -> None:
    """Tell each entrant that the challenge's results are published (judged or not), with a link to the entry: one
    mail connection for all of them, once the transaction commits."""
    messages = []
    for submission in submissions:
        if submission.entrant.email:
            ctx = _context(submission)
            body = RESULTS_BODY_JUDGED if submission.pk in judged_ids else RESULTS_BODY_UNJUDGED
            messages.append(EmailMessage(RESULTS_SUBJECT.format(**ctx), body.format(**ctx),
                                         settings.DEFAULT_FROM_EMAIL, [submission.entrant.email]))

    def _send() -> None:
        try:
            get_connection().send_messages(messages)
        except Exception:  # a mail server down must not undo the publication
            logger.exception("Could not send %d results e-mails", len(messages))

    if messages:
        transaction.on_commit(_send)
