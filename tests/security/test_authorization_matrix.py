"""Who gets what, for every page, API endpoint and file URL, for each role in each phase of a challenge.

One row per URL: the expected status for each role, in the order of ``ROLES`` (anonymous, entrant, another
entrant, a judge of the challenge, an organizer of it, an organizer of another challenge, a superuser), per phase
(open; judging: closed for entries, results not final; published). Where a phase is not given, the row is the same
as in the open phase. The world (tests/security/conftest.py) holds the entrant's ranked composition entry with
audio and piano roll, a ranked checkpoint entry with one output made from a hidden input melody, a failed entry,
a disqualified entry, a saved composition, a hidden input melody and a reference file.

Blind judging: while the challenge is being judged, no response to anyone without organizer rights (other than
the entrant) holds the entrant's name, e-mail or uploaded file name; a judge sees none of them from the start.
Hidden input and reference file names reach the organizers only, in every phase.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.conftest import (
    ENTRANT_EMAIL,
    ENTRANT_NAME,
    HIDDEN_INPUT_NAME,
    ORIGINAL_FILENAME,
    PHASES,
    REFERENCE_NAME,
    ROLES,
    set_phase,
)
from tests.submissions.conftest import midi_bytes

pytestmark = pytest.mark.django_db

ALL = "200 200 200 200 200 200 200"
LOGGED_IN = "302 200 200 200 200 200 200"  # pages: anonymous is sent to the log-in page
API_LOGGED_IN = "401 200 200 200 200 200 200"
FULL = "404 200 404 404 200 404 200"  # the entrant, the challenge's organizers and superusers
ORGANIZERS = "404 404 404 404 200 404 200"
OWNER = "404 200 404 404 404 404 200"
CSV = "401 403 403 403 200 403 200"
NEVER = "302 403 403 403 403 403 403"
JUDGE_ONLY = "302 404 404 200 404 404 404"  # the judge's own review: not even superusers (they see the overview)
API_JUDGE_ONLY = "401 404 404 200 404 404 404"
REVIEW_FILE = "404 404 404 200 404 404 404"
API_OWNER = "401 200 404 404 404 404 200"
API_BAD_FORM = "401 400 400 400 400 400 400"

UNKNOWN_TOKEN = "00000000-0000-4000-8000-000000000000"

# (what, method, URL, {phase: statuses}); a phase left out has the open phase's statuses.
MATRIX = [
    # Pages
    ("challenge list", "GET", "/challenges/", {"open": ALL}),
    ("challenge page", "GET", "/challenges/{slug}/", {"open": ALL}),
    ("leaderboard page", "GET", "/challenges/{slug}/leaderboard/", {"open": ALL}),
    ("entry form", "GET", "/challenges/{slug}/submit/",
     {"open": "302 200 200 403 403 200 200", "judging": NEVER, "published": NEVER}),
    ("my submissions page", "GET", "/submissions/mine/", {"open": LOGGED_IN}),
    ("ranked entry page", "GET", "/submissions/{ranked}/", {"open": ALL}),
    ("checkpoint entry page", "GET", "/submissions/{checkpoint_id}/", {"open": ALL}),
    ("failed entry page", "GET", "/submissions/{failed}/", {"open": FULL}),
    ("disqualified entry page", "GET", "/submissions/{disqualified}/", {"open": FULL}),
    ("compositions page", "GET", "/compositions/", {"open": LOGGED_IN}),
    ("admin", "GET", "/admin/", {"open": "302 302 302 302 200 200 200"}),
    ("admin entry", "GET", "/admin/submissions/submission/{failed}/change/", {"open": "302 302 302 302 200 404 200"}),
    # API
    ("API challenges", "GET", "/api/challenges/", {"open": ALL}),
    ("API challenge", "GET", "/api/challenges/{slug}/", {"open": ALL}),
    ("API leaderboard", "GET", "/api/challenges/{slug}/leaderboard/", {"open": ALL}),
    ("API leaderboard CSV", "GET", "/api/challenges/{slug}/leaderboard.csv", {"open": CSV}),
    ("API leaderboard ?format=csv", "GET", "/api/challenges/{slug}/leaderboard/?format=csv", {"open": CSV}),
    ("API my submissions", "GET", "/api/submissions/?mine=1", {"open": API_LOGGED_IN}),
    ("API ranked entry", "GET", "/api/submissions/{ranked}/", {"open": ALL}),
    ("API checkpoint entry", "GET", "/api/submissions/{checkpoint_id}/", {"open": ALL}),
    ("API failed entry", "GET", "/api/submissions/{failed}/", {"open": FULL}),
    ("API disqualified entry", "GET", "/api/submissions/{disqualified}/", {"open": FULL}),
    # A MIDI file to this Melody Harvest challenge: 422 (wrong kind) means the caller got past every permission.
    ("API enter", "POST", "/api/challenges/{slug}/submissions/",
     {"open": "401 422 422 403 403 422 422", "judging": "401 403 403 403 403 403 403",
      "published": "401 403 403 403 403 403 403"}),
    # Files
    ("entry MIDI", "GET", "/files/entry/{ranked_uuid}/", {"open": ALL}),
    ("entry audio", "GET", "/files/audio/{ranked_audio}/", {"open": ALL}),
    ("entry piano roll", "GET", "/files/pianoroll/{ranked_audio}/", {"open": ALL}),
    ("failed entry MIDI", "GET", "/files/entry/{failed_uuid}/", {"open": FULL}),
    ("disqualified entry MIDI", "GET", "/files/entry/{disqualified_uuid}/", {"open": FULL}),
    ("checkpoint", "GET", "/files/checkpoint/{checkpoint_uuid}/", {"open": FULL}),
    # Outputs made from a hidden input: the organizers' only until entries close, the entrant's included (issue 24).
    ("output MIDI", "GET", "/files/output/{output_uuid}/", {"open": ORGANIZERS, "judging": ALL, "published": ALL}),
    ("output audio", "GET", "/files/audio/{output_audio}/", {"open": ORGANIZERS, "judging": ALL, "published": ALL}),
    ("output piano roll", "GET", "/files/pianoroll/{output_audio}/",
     {"open": ORGANIZERS, "judging": ALL, "published": ALL}),
    ("output audio (its own field)", "GET", "/files/output-audio/{output_uuid}/",
     {"open": ORGANIZERS, "judging": ALL, "published": ALL}),
    ("hidden input melody", "GET", "/files/input/{input_uuid}/", {"open": ORGANIZERS}),
    ("reference file", "GET", "/files/reference/{reference_uuid}/", {"open": ORGANIZERS}),
    ("saved composition", "GET", "/files/composition/{composition_uuid}/", {"open": OWNER}),
    # Judging: a judge's queue and entry (theirs only), the organizers' overview, likes (the world's judge has one
    # review, of the entrant's ranked entry; a POST here is a draft with no marks, refused once results are out).
    ("judging queue page", "GET", "/judging/", {"open": LOGGED_IN}),
    ("judge's entry page", "GET", "/judging/assignments/{assignment}/", {"open": JUDGE_ONLY}),
    ("judging overview page", "GET", "/judging/{slug}/", {"open": "302 404 404 404 200 404 200"}),
    ("judge's entry audio", "GET", "/judging/assignments/{assignment}/files/audio-0/", {"open": REVIEW_FILE}),
    ("judge's entry MIDI", "GET", "/judging/assignments/{assignment}/files/midi/", {"open": REVIEW_FILE}),
    ("API judge's assignments", "GET", "/api/judging/assignments/", {"open": API_LOGGED_IN}),
    ("API judge's assignment", "GET", "/api/judging/assignments/{assignment}/", {"open": API_JUDGE_ONLY}),
    ("API score an assignment", "POST", "/api/judging/assignments/{assignment}/score/",
     {"open": API_JUDGE_ONLY, "published": "401 404 404 409 404 404 404"}),
    # Likes: everyone signed in fetched the entry's audio above (a listen), so the page's like (a redirect back
    # with a message) counts for all but the entrant (own entry), the judge and the organizers (their challenge,
    # issue 24); the API's second like is then 409.
    ("like page", "POST", "/submissions/{ranked}/like/", {"open": "302 302 302 302 302 302 302"}),
    ("API like", "POST", "/api/submissions/{ranked}/like/", {"open": "401 403 409 403 403 409 409"}),
    # The studio: a job and its files are its owner's (and superusers'); the forms here lack a model or a source
    # (400: past every permission).
    ("studio page", "GET", "/studio/", {"open": LOGGED_IN}),
    ("API generate", "POST", "/api/generate/", {"open": API_BAD_FORM}),
    ("API jobs", "GET", "/api/jobs/", {"open": API_LOGGED_IN}),
    ("API job", "GET", "/api/jobs/{job}/", {"open": API_OWNER}),
    ("API job notes", "GET", "/api/jobs/{job}/notes/", {"open": API_OWNER}),
    ("API studio models", "GET", "/api/studio/models/", {"open": API_LOGGED_IN}),
    ("API studio notes", "POST", "/api/studio/notes/", {"open": API_BAD_FORM}),
    ("API studio save", "POST", "/api/studio/save/", {"open": API_BAD_FORM}),
    ("API own models", "GET", "/api/models/", {"open": API_LOGGED_IN}),
    ("API own model upload", "POST", "/api/models/", {"open": API_BAD_FORM}),
    ("studio input MIDI", "GET", "/files/job-input/{job_uuid}/", {"open": OWNER}),
    ("studio output MIDI", "GET", "/files/job-output/{job_uuid}/", {"open": OWNER}),
    ("studio audio", "GET", "/files/job-audio/{job_uuid}/", {"open": OWNER}),
    # Training in the browser and My models (docs/studio.md "Train your own model"); the learning pages are public.
    ("train page", "GET", "/train/", {"open": LOGGED_IN}),
    ("training run page", "GET", "/train/{training}/", {"open": "302 200 404 404 404 404 200"}),
    ("my models page", "GET", "/models/", {"open": LOGGED_IN}),
    ("learn index", "GET", "/learn/", {"open": ALL}),
    ("learn page", "GET", "/learn/arcnn/", {"open": ALL}),
    ("API trainings", "GET", "/api/trainings/", {"open": API_LOGGED_IN}),
    ("API training start", "POST", "/api/trainings/", {"open": API_BAD_FORM}),
    ("API training options", "GET", "/api/trainings/options/", {"open": API_LOGGED_IN}),
    ("API training", "GET", "/api/trainings/{training}/", {"open": API_OWNER}),
    ("API training cancel", "POST", "/api/trainings/{training}/cancel/", {"open": "401 409 404 404 404 404 404"}),
    ("API own model (DELETE only)", "GET", "/api/models/{model}/", {"open": "401 405 405 405 405 405 405"}),
    ("API own model submit", "POST", "/api/models/{model}/submit/", {"open": API_BAD_FORM}),
    ("model download", "GET", "/files/model/{model_uuid}/", {"open": OWNER}),
    ("model loss plot", "GET", "/files/model-loss/{model_uuid}/", {"open": OWNER}),
    ("model submit page", "POST", "/models/{model}/submit/", {"open": "302 302 302 302 302 302 302"}),
    # My compositions: only the owner's rename goes through (submit names no challenge here: 404 for all); the
    # delete comes last, as it removes the composition.
    ("rename composition", "POST", "/compositions/{composition_id}/rename/", {"open": "302 302 404 404 404 404 404"}),
    ("submit composition", "POST", "/compositions/{composition_id}/submit/", {"open": "302 404 404 404 404 404 404"}),
    ("delete composition", "POST", "/compositions/{composition_id}/delete/", {"open": "302 302 404 404 404 404 404"}),
    ("delete model", "POST", "/models/{model}/delete/", {"open": "302 302 302 302 302 302 302"}),
    # Listening in pairs (issue 26): judges, organizers and superusers never vote; the world has one ranked entry,
    # so no pair can be made (409); closed once results are out. A pair's URLs name a pair this listener was given
    # (an unknown token: 404 for the excerpt; the forms here are empty, 400 past every permission).
    ("listen page", "GET", "/listen/{slug}/",
     {"open": "302 200 200 403 403 200 403", "published": "302 409 409 403 403 409 403"}),
    ("listen vote page", "POST", f"/listen/{{slug}}/pairs/{UNKNOWN_TOKEN}/vote/",
     {"open": "302 302 302 302 302 302 302"}),
    ("listen excerpt", "GET", f"/listen/pairs/{UNKNOWN_TOKEN}/1/", {"open": "404 404 404 404 404 404 404"}),
    ("API pair", "GET", "/api/challenges/{slug}/pair/", {"open": "401 409 409 403 403 409 403"}),
    ("API pair played", "POST", f"/api/pairs/{UNKNOWN_TOKEN}/played/", {"open": API_BAD_FORM}),
    ("API pair vote", "POST", f"/api/pairs/{UNKNOWN_TOKEN}/vote/", {"open": API_BAD_FORM}),
    # Final entries (issue 26): the entrant's own only; this challenge has no private inputs (409).
    ("API mark final", "POST", "/api/submissions/{checkpoint_id}/final/", {"open": "401 409 404 404 404 404 404"}),
    ("mark final page", "POST", "/submissions/{checkpoint_id}/final/", {"open": "302 302 404 404 404 404 404"}),
    ("API studio MIDI import", "POST", "/api/studio/midi/", {"open": API_BAD_FORM}),
]

BLIND_SECRETS = (ENTRANT_NAME, ENTRANT_EMAIL, ORIGINAL_FILENAME)
ORGANIZER_SECRETS = (HIDDEN_INPUT_NAME, REFERENCE_NAME)


def expected(statuses: dict, phase: str, role: str) -> int:
    return int((statuses.get(phase) or statuses["open"]).split()[ROLES.index(role)])


def blind_for(role: str, phase: str) -> bool:
    """Who must not see who entered what: everyone but the entrant and organizers from the opening of a challenge
    with human judging (the world's, alpha 0.5, its public board showing music without names) until its results
    are published (issue 24: a judge who logs out sees no more than logged in)."""
    return role not in ("entrant", "organizer", "superuser") and phase != "published"


def _send(client: Client, method: str, url: str):
    if method == "POST":
        upload = {"title": "Late", "accept_licence": "true", "composition": _midi_upload()}
        return client.post(url, upload)
    return client.get(url)


def _midi_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("piece.mid", midi_bytes(), content_type="audio/midi")


def _text(response) -> str:
    """Body and headers (Content-Disposition, redirects) as text."""
    body = b"".join(response.streaming_content) if response.streaming else response.content  # closes files
    return body.decode("utf-8", errors="replace") + "\n" + "\n".join(f"{k}: {v}" for k, v in response.items())


def test_the_matrix_covers_every_route():
    """Every URL pattern of the site is in the matrix, or deliberately out of it (not about who sees what)."""
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    routes = {r for r in walk(get_resolver().url_patterns) if not r.startswith("admin/")}
    out_of_scope = {
        "", "accounts/signup/", "accounts/login/", "accounts/logout/", "accounts/password-reset/",
        "accounts/password-reset/sent/", "accounts/reset/<uidb64>/<token>/", "accounts/reset/done/",
        "api/schema/", "api/docs/", "api/auth/token/",
    }
    covered = {
        "challenges/", "challenges/<slug:slug>/", "challenges/<slug:slug>/leaderboard/",
        "challenges/<slug:slug>/submit/", "submissions/mine/", "submissions/<int:submission_id>/", "compositions/",
        "api/challenges/", "api/challenges/<slug:slug>/", "api/challenges/<slug:slug>/leaderboard/",
        "api/challenges/<slug:slug>/leaderboard.csv", "api/submissions/", "api/submissions/<int:submission_id>/",
        "api/challenges/<slug:slug>/submissions/", "files/<slug:kind>/<uuid:token>/",
        "judging/", "judging/assignments/<int:assignment_id>/", "judging/<slug:slug>/",
        "judging/assignments/<int:assignment_id>/files/<slug:name>/",
        "api/judging/assignments/", "api/judging/assignments/<int:assignment_id>/",
        "api/judging/assignments/<int:assignment_id>/score/", "submissions/<int:submission_id>/like/",
        "api/submissions/<int:submission_id>/like/",
        "studio/", "api/generate/", "api/jobs/", "api/jobs/<int:job_id>/", "api/jobs/<int:job_id>/notes/",
        "api/studio/models/", "api/studio/notes/", "api/studio/save/", "api/models/",
        "compositions/<int:pk>/rename/", "compositions/<int:pk>/submit/", "compositions/<int:pk>/delete/",
        "train/", "train/<int:job_id>/", "models/", "models/<int:checkpoint_id>/submit/",
        "models/<int:checkpoint_id>/delete/", "learn/", "learn/<slug:topic>/", "api/trainings/",
        "api/trainings/options/", "api/trainings/<int:job_id>/", "api/trainings/<int:job_id>/cancel/",
        "api/models/<int:checkpoint_id>/", "api/models/<int:checkpoint_id>/submit/",
        "listen/<slug:slug>/", "listen/<slug:slug>/pairs/<uuid:token>/vote/",
        "listen/pairs/<uuid:token>/<int:which>/", "api/challenges/<slug:slug>/pair/",
        "api/pairs/<uuid:token>/played/", "api/pairs/<uuid:token>/vote/",
        "api/submissions/<int:submission_id>/final/", "submissions/<int:submission_id>/final/", "api/studio/midi/",
    }
    assert routes - out_of_scope == covered, "a new route: add it to MATRIX (and here)"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("phase", PHASES)
def test_authorization_matrix(world, cast, phase, role):
    set_phase(world.challenge, phase)
    client = Client()
    if cast[role] is not None:
        client.force_login(cast[role])
    values = world.values()
    wrong, leaks = [], []
    for what, method, template, statuses in MATRIX:
        url = template.format(**values)
        response = _send(client, method, url)
        want = expected(statuses, phase, role)
        text = _text(response)
        if response.status_code != want:
            wrong.append(f"{what} {method} {url}: {response.status_code}, expected {want}")
        secrets = (BLIND_SECRETS if blind_for(role, phase) else ()) + (
            ORGANIZER_SECRETS if role not in ("organizer", "superuser") else ()
        )
        leaks += [f"{what} {url} shows {secret!r}" for secret in secrets if secret in text]
    assert not wrong, f"{role} while {phase}:\n" + "\n".join(wrong)
    assert not leaks, f"{role} while {phase}:\n" + "\n".join(leaks)
