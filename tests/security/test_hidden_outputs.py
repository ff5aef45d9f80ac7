"""Hidden inputs stay with the organizers until the challenge closes (issue 24, item 3).

The attack: an entrant downloads their Melody Harvest outputs while the challenge is open and reads every note of
every hidden input (the models keep the melody). Now outputs made from hidden inputs (public or private part) are
the organizers' only until entries close, the entrant included; outputs made from the example inputs are the
entrant's at once.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from chartbusters.challenges.models import InputMelody
from evaluation.models import Rendering
from tests.factories import entry_create, entry_score, rendering_create
from tests.security.conftest import set_phase
from tests.submissions.conftest import midi_bytes

pytestmark = pytest.mark.django_db

ROLES = {"example-a.mid": "example", "example-b.mid": "example", "hidden-public.mid": "public",
         "hidden-private.mid": "private"}


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def harvest(world, cast):
    """The world's challenge with two example inputs and two hidden ones; a checkpoint entry of the entrant with an
    output (and its audio) from each, the output keeping its input's melody note for note."""
    challenge = world.challenge
    InputMelody.objects.filter(challenge=challenge).delete()
    entry = entry_create(challenge=challenge, entrant=cast["entrant"], kind="checkpoint", title="Four outputs")
    melodies = {}
    for i, (name, role) in enumerate(ROLES.items()):
        melody = midi_bytes(pitch=50 + 5 * i, n_notes=9 + i)
        melodies[name] = melody
        InputMelody.objects.create(challenge=challenge, name=name, role=role, midi=ContentFile(melody, name=name))
        output = entry.outputs.create(input_name=name, midi=ContentFile(melody, name="output.mid"))
        rendering_create(entry, output=output)
    entry_score(entry, automatic=55.0)
    return entry, melodies


def _reachable(client: Client, entry) -> dict[str, bytes]:
    """Every file the viewer reaches from the entry's API answer and page, and every output URL tried directly."""
    urls = set()
    detail = client.get(f"/api/submissions/{entry.pk}/")
    if detail.status_code == 200:
        for output in detail.json()["outputs"]:
            urls |= {output[k] for k in ("midi_url", "audio_url", "pianoroll_url") if output[k]}
    for output in entry.outputs.all():
        urls |= {f"/files/output/{output.public_id}/", f"/files/output-audio/{output.public_id}/"}
    for rendering in Rendering.objects.filter(submission=entry, output__isnull=False):
        urls |= {f"/files/audio/{rendering.public_id}/", f"/files/pianoroll/{rendering.public_id}/"}
    found = {}
    for url in urls:
        response = client.get(url)
        if response.status_code == 200:
            found[url] = _body(response)
    return found


def _outputs_heard(client: Client, entry, melodies) -> set[str]:
    """The inputs whose melody (their output's MIDI, note for note) the viewer could download."""
    files = _reachable(client, entry)
    return {name for name, melody in melodies.items() if melody in files.values()}


def test_the_entrant_hears_only_the_example_outputs_while_open(harvest, cast):
    entry, melodies = harvest
    set_phase(entry.challenge, "open")
    entrant = Client()
    entrant.force_login(cast["entrant"])
    assert _outputs_heard(entrant, entry, melodies) == {"example-a.mid", "example-b.mid"}
    assert len(entrant.get(f"/api/submissions/{entry.pk}/").json()["outputs"]) == 2
    page = entrant.get(f"/submissions/{entry.pk}/").content.decode()
    hidden = [o for o in entry.outputs.all() if ROLES[o.input_name] != "example"]
    assert all(str(o.public_id) not in page for o in hidden)
    for role in ("anonymous", "other", "judge", "outsider"):
        client = Client()
        if cast[role] is not None:
            client.force_login(cast[role])
        assert _outputs_heard(client, entry, melodies) == set(), role


def test_organizers_hear_every_output_while_open(harvest, cast):
    entry, melodies = harvest
    set_phase(entry.challenge, "open")
    for role in ("organizer", "superuser"):
        client = Client()
        client.force_login(cast[role])
        assert _outputs_heard(client, entry, melodies) == set(ROLES), role


def test_after_the_close_the_entrant_hears_every_output(harvest, cast):
    entry, melodies = harvest
    set_phase(entry.challenge, "judging")
    entrant = Client()
    entrant.force_login(cast["entrant"])
    assert _outputs_heard(entrant, entry, melodies) == set(ROLES)
    assert len(entrant.get(f"/api/submissions/{entry.pk}/").json()["outputs"]) == 4
