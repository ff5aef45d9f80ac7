"""Stored files: nothing under MEDIA_ROOT is served directly, every download is access-checked, names are random.

The attacks of issue 9 item 1, each now refused: path tricks on /media/, guessable paths holding user ids and
uploaded names, hidden input names in ``outputs[].input_name``, files of entries the API hides.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import clear_url_caches
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from chartbusters.challenges.models import InputMelody
from evaluation.selectors.submissions import REFERENCE_SOURCE
from submissions.services.compositions import composition_create
from submissions.services.intake import submission_create_composition
from tests.factories import TINY_MIDI, TINY_MP3, ChallengeFactory, input_melody_create
from tests.security.conftest import ENTRANT_NAME, HIDDEN_INPUT_NAME, ORIGINAL_FILENAME, REFERENCE_NAME, set_phase
from tests.submissions.conftest import midi_bytes

pytestmark = pytest.mark.django_db

FILE_URL = re.compile(r"^/files/[a-z-]+/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/$")
SECRET_BYTES = b"MThd-the-hidden-melody-bytes"


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def debug_urls(settings):
    """The URL map as the development server (DEBUG on) builds it: no /media/ route may appear there either."""
    import chartbusters.urls

    settings.DEBUG = True
    importlib.reload(chartbusters.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(chartbusters.urls)
    clear_url_caches()


@pytest.fixture
def hidden_files(db, media_root):
    """A hidden input stored today (random name) and one left from before (the old guessable layout)."""
    challenge = ChallengeFactory(slug="harvest", kind="melody-harvest")
    melody = input_melody_create(challenge, name="chorale-r010-soprano.mid")
    legacy = media_root / "challenges" / "harvest" / "inputs" / "chorale-r010-soprano.mid"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(SECRET_BYTES)
    (media_root / melody.midi.name).write_bytes(SECRET_BYTES)
    return melody


LEGACY = "challenges/harvest/inputs/chorale-r010-soprano.mid"
PATH_TRICKS = [
    f"/media/{LEGACY}",
    f"/media//{LEGACY}",
    f"/media/%2e/{LEGACY}",
    f"/media/%2f{LEGACY}",
    f"/media/x/../{LEGACY}",
    f"/media/%2e%2e/media/{LEGACY}",
    f"/media/x/%2e%2e/{LEGACY}",
    f"//media/{LEGACY}",
]


@pytest.mark.parametrize("path", PATH_TRICKS)
def test_path_tricks_on_media_reach_nothing(debug_urls, hidden_files, path):
    for user in (None,):
        response = client_for(user).get(path)
        assert response.status_code == 404, path
        assert SECRET_BYTES not in body_of(response)


@pytest.mark.parametrize("template", [
    "/media/{name}", "/media//{name}", "/media/%2e/{name}", "/media/x/../{name}",
    "/files/input/{uuid}/", "/files//input/{uuid}/", "/files/%2e/input/{uuid}/", "/files/input/{uuid}/../../{name}",
    "/files/input/%2e%2e/%2e%2e/media/{name}", "/files/x/../input/{uuid}/", "/files/input/{uuid}/%2e%2e/",
    "/files/reference/{uuid}/", "/files/entry/{uuid}/", "/files/{name}",
])
def test_path_tricks_on_files_reach_nothing(debug_urls, hidden_files, make_user, template):
    path = template.format(name=hidden_files.midi.name, uuid=hidden_files.public_id)
    entrant = make_user("mallory")
    for user in (None, entrant):
        response = client_for(user).get(path)
        assert response.status_code == 404, path
        assert SECRET_BYTES not in body_of(response)


def test_the_challenges_organizer_downloads_the_hidden_input(hidden_files, make_user):
    organizer = make_user("olga", is_staff=True)
    hidden_files.challenge.organizers.add(organizer)
    response = client_for(organizer).get(f"/files/input/{hidden_files.public_id}/")
    assert response.status_code == 200
    assert body_of(response) == SECRET_BYTES
    assert response["Content-Disposition"] == f'attachment; filename="input-{hidden_files.public_id.hex[:8]}.mid"'
    assert "chorale" not in response["Content-Disposition"]


def test_stored_names_are_random_and_the_uploaded_name_is_kept(db, media_root, make_user):
    entrant = make_user("ada_lovelace")
    upload = SimpleUploadedFile("Ada Lovelace - my tune.mid", midi_bytes(), content_type="audio/midi")
    composition = composition_create(owner=entrant, title="Tune", midi=upload)
    challenge = ChallengeFactory(slug="mgr")
    entry = submission_create_composition(
        challenge=challenge, entrant=entrant, title="Entry", licence_accepted=True,
        midi_file=SimpleUploadedFile("Ada Lovelace - entry.mid", midi_bytes()),
    )
    melody = InputMelody.objects.create(challenge=challenge, name="secret.mid",
                                        midi=SimpleUploadedFile("secret.mid", TINY_MIDI))
    assert re.fullmatch(r"compositions/[0-9a-f]{32}\.mid", composition.midi.name)
    assert re.fullmatch(r"submissions/[0-9a-f]{32}\.mid", entry.midi.name)
    assert re.fullmatch(r"challenges/inputs/[0-9a-f]{32}\.mid", melody.midi.name)
    assert (composition.original_filename, entry.original_filename) == (
        "Ada Lovelace - my tune.mid", "Ada Lovelace - entry.mid")
    for stored in media_root.rglob("*"):
        assert "lovelace" not in str(stored).lower()  # "ada" alone can occur in a random hex name
        assert f"/{entrant.pk}/" not in str(stored)
    # Entering a saved composition keeps its uploaded name for the entrant, not its stored one.
    again = submission_create_composition(challenge=challenge, entrant=entrant, title="Again", licence_accepted=True,
                                          composition_id=composition.pk)
    assert again.original_filename == "Ada Lovelace - my tune.mid"
    html = client_for(entrant).get("/compositions/").content.decode()
    assert f'href="/files/composition/{composition.public_id}/"' in html
    assert "Ada Lovelace - my tune.mid" in html  # shown to its owner


def test_api_urls_are_access_checked_and_inputs_are_not_named(world, cast):
    set_phase(world.challenge, "judging")
    api = APIClient()
    api.force_authenticate(cast["entrant"])
    body = api.get(f"/api/submissions/{world.checkpoint.pk}/").json()
    assert body["midi_url"] is None
    assert body["checkpoint_url"] == f"/files/checkpoint/{world.checkpoint.public_id}/"
    [output] = body["outputs"]
    assert output["input_name"] == "input 1"
    assert output["midi_url"] == f"/files/output/{world.output.public_id}/"
    assert output["audio_url"] == f"/files/audio/{world.output_rendering.public_id}/"
    assert output["pianoroll_url"] == f"/files/pianoroll/{world.output_rendering.public_id}/"
    assert HIDDEN_INPUT_NAME not in str(body)

    ranked = api.get(f"/api/submissions/{world.ranked.pk}/").json()
    for key in ("midi_url", "audio_url", "pianoroll_url"):
        assert FILE_URL.match(ranked[key]), ranked[key]
    assert ORIGINAL_FILENAME not in str(ranked)

    other = APIClient()
    other.force_authenticate(cast["other"])
    public = other.get(f"/api/submissions/{world.checkpoint.pk}/").json()
    assert public["checkpoint_url"] is None  # the weights are the entrant's and the organizers' only
    assert [o["input_name"] for o in public["outputs"]] == ["input 1"]

    api.force_authenticate(cast["organizer"])
    organizer_view = api.get(f"/api/submissions/{world.checkpoint.pk}/").json()
    assert organizer_view["outputs"][0]["input_name"] == HIDDEN_INPUT_NAME


def test_reference_file_names_stay_with_the_organizers(world, cast):
    from evaluation.models import Score

    longest = {"kind": "reference", "source": REFERENCE_NAME, "bars": 3.0, "notes": 12}
    Score.objects.filter(submission=world.ranked).update(parts={"originality": {"longest": longest}})
    url = f"/api/submissions/{world.ranked.pk}/"
    for role in ("entrant", "other"):
        seen = client_for(cast[role]).get(url).json()["score"]["parts"]["originality"]["longest"]
        assert seen["source"] == REFERENCE_SOURCE, role
        assert seen["bars"] == 3.0
    organizer = client_for(cast["organizer"]).get(url).json()["score"]["parts"]["originality"]["longest"]
    assert organizer["source"] == REFERENCE_NAME


def test_download_headers_name_nobody(world, cast):
    response = client_for(cast["other"]).get(f"/files/entry/{world.ranked.public_id}/")
    assert response.status_code == 200
    assert body_of(response) == TINY_MIDI
    assert response["Content-Type"] == "audio/midi"
    assert response["Content-Disposition"] == f'attachment; filename="entry-{world.ranked.public_id.hex[:8]}.mid"'
    assert response["Cache-Control"] == "private, no-cache"
    audio = client_for().get(f"/files/audio/{world.ranked_rendering.public_id}/")
    assert (audio["Content-Type"], body_of(audio)) == ("audio/mpeg", TINY_MP3)
    assert audio["Content-Disposition"].startswith("inline; ")
    for header in (response["Content-Disposition"], audio["Content-Disposition"]):
        assert ENTRANT_NAME not in header
        assert ORIGINAL_FILENAME not in header


def test_api_tokens_download_and_refusals_are_json(world, cast):
    url = f"/files/checkpoint/{world.checkpoint.public_id}/"
    mine = APIClient()
    mine.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=cast['entrant']).key}")
    assert mine.get(url).status_code == 200
    theirs = APIClient()
    theirs.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=cast['other']).key}")
    refused = theirs.get(url, HTTP_ACCEPT="audio/*")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    assert client_for().get(f"/files/no-such-kind/{world.checkpoint.public_id}/").status_code == 404
    assert client_for().get("/files/entry/12/").status_code == 404  # sequential ids name nothing


def test_a_row_whose_file_is_gone_is_404(world, cast, media_root):
    (media_root / world.ranked.midi.name).unlink()
    response = client_for(cast["entrant"]).get(f"/files/entry/{world.ranked.public_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_x_accel_redirect_and_x_sendfile_hand_the_bytes_to_the_web_server(world, cast, settings, media_root):
    url = f"/files/checkpoint/{world.checkpoint.public_id}/"
    name = world.checkpoint.checkpoint.name
    settings.CHARTBUSTERS_FILE_SERVING = "x-accel-redirect"
    response = client_for(cast["entrant"]).get(url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{name}"
    assert response.content == b""
    assert response["Content-Disposition"].startswith('attachment; filename="checkpoint-')
    refused = client_for(cast["other"]).get(url)
    assert refused.status_code == 404
    assert "X-Accel-Redirect" not in refused

    settings.CHARTBUSTERS_FILE_INTERNAL_PREFIX = "/internal/media"
    assert client_for(cast["entrant"]).get(url)["X-Accel-Redirect"] == f"/internal/media/{name}"

    settings.CHARTBUSTERS_FILE_SERVING = "x-sendfile"
    response = client_for(cast["entrant"]).get(url)
    assert Path(response["X-Sendfile"]) == media_root / name
    assert response.content == b""


def test_an_unknown_serving_mode_is_refused(settings):
    import subprocess
    import sys

    from chartbusters.files import file_serving_mode

    settings.CHARTBUSTERS_FILE_SERVING = "nginx"
    with pytest.raises(ImproperlyConfigured, match="CHARTBUSTERS_FILE_SERVING"):
        file_serving_mode()
    started = subprocess.run(  # and the settings refuse to start with it
        [sys.executable, "-c", "import chartbusters.settings.base"], capture_output=True, text=True,
        env={"CHARTBUSTERS_FILE_SERVING": "nginx", "PATH": "/usr/bin:/bin"}, cwd=Path(__file__).parents[2],
    )
    assert started.returncode != 0
    assert "CHARTBUSTERS_FILE_SERVING is 'nginx'" in started.stderr
