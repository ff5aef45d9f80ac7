"""Organizer actions: rerun and disqualify (services and admin actions), recorded with who and when; organizers
see only their own challenges' entries."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.utils import timezone

from chartbusters.accounts.roles import Role
from submissions.models import Submission, SubmissionOutput
from submissions.services.errors import IllegalTransitionError, NotOrganizerError
from submissions.services.moderation import submission_disqualify, submission_requalify, submission_rerun
from submissions.signals import submission_changed
from tests.conftest import TEST_PASSWORD
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.django_db
S = Submission.Status
CHANGELIST = "/admin/submissions/submission/"


def entry(challenge, entrant, *, status=S.SCORED, kind=Submission.Kind.COMPOSITION, **fields):
    return Submission.objects.create(challenge=challenge, entrant=entrant, kind=kind, title=f"{status} entry",
                                     licence="CC BY 4.0", status=status, **fields)


def admin_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def test_rerun_resets_to_queued_and_queues_the_right_task(users, mgr, harvest, monkeypatch, request,
                                                          django_capture_on_commit_callbacks, media_root):
    sent = []
    monkeypatch.setattr("chartbusters.celery.app.send_task", lambda name, **kw: sent.append((name, kw["queue"])))
    events = []

    def record(sender, *, submission, event, **kwargs):
        events.append((submission.pk, event))

    submission_changed.connect(record, sender=Submission, dispatch_uid="test-listener")
    request.addfinalizer(lambda: submission_changed.disconnect(dispatch_uid="test-listener", sender=Submission))
    composition = entry(mgr, users["entrant"], status=S.FAILED, error="The worker died.", progress=50,
                        finished_at=timezone.now())
    checkpoint = entry(harvest, users["entrant"], kind=Submission.Kind.CHECKPOINT)
    SubmissionOutput.objects.create(submission=checkpoint, input_name="in-1", midi="x.mid")
    with django_capture_on_commit_callbacks(execute=True):
        submission_rerun(submission_id=composition.pk, rerun_by=users["organizer"])
        submission_rerun(submission_id=checkpoint.pk, rerun_by=users["organizer"])
    rerun = Submission.objects.get(pk=composition.pk)
    assert (rerun.status, rerun.progress, rerun.error, rerun.finished_at) == (S.QUEUED, 0, "", None)
    assert (rerun.rerun_count, rerun.last_rerun_by) == (1, users["organizer"])
    assert rerun.last_rerun_at is not None
    assert not SubmissionOutput.objects.filter(submission=checkpoint).exists()
    assert sent == [("evaluation.score_submission", "scoring"), ("submissions.run_checkpoint_entry", "entries")]
    assert (composition.pk, "rerun") in events
    assert (checkpoint.pk, "rerun") in events


@pytest.mark.parametrize("status", [S.QUEUED, S.GENERATING, S.SCORING])
def test_running_entries_cannot_be_rerun(users, harvest, status):
    running = entry(harvest, users["entrant"], status=status, kind=Submission.Kind.CHECKPOINT)
    with pytest.raises(IllegalTransitionError):
        submission_rerun(submission_id=running.pk, rerun_by=users["organizer"])
    assert Submission.objects.get(pk=running.pk).rerun_count == 0


@pytest.mark.parametrize("who", ["entrant", "other", "judge"])
def test_only_the_challenges_organizers_may_act(users, mgr, who):
    scored = entry(mgr, users["entrant"])
    with pytest.raises(NotOrganizerError):
        submission_rerun(submission_id=scored.pk, rerun_by=users[who])
    with pytest.raises(NotOrganizerError):
        submission_disqualify(submission_id=scored.pk, disqualified_by=users[who], reason="no")
    assert Submission.objects.get(pk=scored.pk).disqualified is False


def test_disqualify_records_who_when_why_and_can_be_undone(users, mgr):
    scored = entry(mgr, users["entrant"])
    submission_disqualify(submission_id=scored.pk, disqualified_by=users["organizer"], reason="Copied Bach.")
    dq = Submission.objects.get(pk=scored.pk)
    assert (dq.disqualified, dq.disqualified_by, dq.disqualification_reason) == (True, users["organizer"],
                                                                                 "Copied Bach.")
    assert dq.disqualified_at is not None
    with pytest.raises(ValueError, match="reason"):
        submission_disqualify(submission_id=scored.pk, disqualified_by=users["organizer"], reason=" ")
    submission_requalify(submission_id=scored.pk, requalified_by=users["organizer"])
    assert Submission.objects.get(pk=scored.pk).disqualified is False


# Admin ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def foreign(make_user):
    """A challenge organized by someone else, with one entry."""
    boss = make_user("boss", role=Role.ORGANIZER)
    challenge = ChallengeFactory(slug="foreign")
    challenge.organizers.add(boss)
    return entry(challenge, make_user("fred", role=Role.ENTRANT), status=S.FAILED)


def test_admin_shows_organizers_only_their_challenges(users, mgr, foreign, make_user):
    mine = entry(mgr, users["entrant"])
    client = admin_client(users["organizer"])
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    ids = {s.pk for s in response.context["cl"].result_list}
    assert ids == {mine.pk}
    assert client.get(f"{CHANGELIST}{foreign.pk}/change/").status_code in (302, 404)
    superuser = make_user("root", is_staff=True, is_superuser=True)
    ids = {s.pk for s in admin_client(superuser).get(CHANGELIST).context["cl"].result_list}
    assert ids == {mine.pk, foreign.pk}


@pytest.mark.parametrize("who", ["entrant", "judge"])
def test_admin_is_closed_to_entrants_and_judges(users, who):
    response = admin_client(users[who]).get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_list_filters(users, mgr):
    entry(mgr, users["entrant"], status=S.FAILED)
    entry(mgr, users["entrant"], status=S.SCORED)
    client = admin_client(users["organizer"])
    response = client.get(CHANGELIST, {"status__exact": "failed"})
    assert [s.status for s in response.context["cl"].result_list] == [S.FAILED]


def test_admin_rerun_action(users, mgr, foreign, media_root):
    scored = entry(mgr, users["entrant"])
    running = entry(mgr, users["entrant"], status=S.SCORING)
    client = admin_client(users["organizer"])
    response = client.post(CHANGELIST, {"action": "rerun_selected",
                                        ACTION_CHECKBOX_NAME: [scored.pk, running.pk, foreign.pk]}, follow=True)
    assert response.status_code == 200
    assert Submission.objects.get(pk=scored.pk).status == S.QUEUED
    assert Submission.objects.get(pk=scored.pk).last_rerun_by == users["organizer"]
    assert Submission.objects.get(pk=running.pk).status == S.SCORING  # skipped, with a warning
    assert Submission.objects.get(pk=foreign.pk).status == S.FAILED  # not theirs: not even in the queryset
    text = response.content.decode()
    assert "Queued 1 entry to run again." in text
    assert f"Skipped #{running.pk}" in text


def test_admin_disqualify_action_asks_for_a_reason(users, mgr):
    scored = entry(mgr, users["entrant"])
    client = admin_client(users["organizer"])
    confirm = client.post(CHANGELIST, {"action": "disqualify_selected", ACTION_CHECKBOX_NAME: [scored.pk]})
    assert confirm.status_code == 200
    assert b"Disqualify these entries?" in confirm.content
    assert Submission.objects.get(pk=scored.pk).disqualified is False
    done = client.post(CHANGELIST, {"action": "disqualify_selected", ACTION_CHECKBOX_NAME: [scored.pk],
                                    "reason": "Plagiarism of chorale 12."}, follow=True)
    assert b"Disqualified 1 entry." in done.content
    dq = Submission.objects.get(pk=scored.pk)
    assert (dq.disqualified, dq.disqualified_by, dq.disqualification_reason) == (
        True, users["organizer"], "Plagiarism of chorale 12.")


def test_admin_shows_organizers_only_compositions_entered_in_their_challenges(users, mgr, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from submissions.models import Composition
    from tests.submissions.conftest import midi_bytes

    entered = Composition.objects.create(owner=users["entrant"], title="Entered",
                                         midi=SimpleUploadedFile("a.mid", midi_bytes()))
    Composition.objects.create(owner=users["entrant"], title="Private", midi=SimpleUploadedFile("b.mid", midi_bytes()))
    entry(mgr, users["entrant"], composition=entered)
    response = admin_client(users["organizer"]).get("/admin/submissions/composition/")
    assert response.status_code == 200
    assert [c.title for c in response.context["cl"].result_list] == ["Entered"]
