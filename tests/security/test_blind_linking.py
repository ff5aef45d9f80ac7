"""Blind until publication (issue 24, item 2): nothing public ties an entry's music to its entrant or title, and
nothing a judge reviews can be matched with a public file.

The attacks of the issue, each a check here: (a) a judge who logs out sees names the judge could not see logged in;
(b) every judge file was byte-identical to a public file; (c) audio durations matched reviews with leaderboard rows;
(d) assignment ids followed submission order; (e) the judge's MIDI was the raw upload, names in its meta text.
"""

from __future__ import annotations

import hashlib
import io

import mido
import pytest
import soundfile
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from rest_framework.test import APIClient

from chartbusters.accounts.roles import Role
from evaluation.models import JudgeAssignment, JudgingSettings, Rendering
from evaluation.review_copies import META_TEXT_TYPES
from evaluation.services.judging import judging_assign
from submissions.models import Submission, SubmissionOutput
from tests.factories import ChallengeFactory, entry_create, entry_score
from tests.security.conftest import ENTRANT_EMAIL, ENTRANT_NAME, ORIGINAL_FILENAME, set_phase
from tests.submissions.conftest import midi_bytes

pytestmark = pytest.mark.django_db

TITLE = "Quiet chorale"  # the world's ranked entry


def midi_with_names(name: str) -> bytes:
    """A melody whose every kind of meta text names ``name`` (what an entrant's notation program writes)."""
    mid = mido.MidiFile(file=io.BytesIO(midi_bytes()))
    track = mid.tracks[-1]
    texts = [mido.MetaMessage(kind, **{"name" if kind in ("track_name", "instrument_name", "device_name")
                                       else "text": f"{name} {kind}"}) for kind in sorted(META_TEXT_TYPES)]
    texts.append(mido.UnknownMetaMessage(0x08, data=tuple(f"{name} program".encode())))  # program name
    track[0:0] = texts
    buffer = io.BytesIO()
    mid.save(file=buffer)
    return buffer.getvalue()


def _render_public(submission, output=None) -> None:
    """Audio and piano roll rendered from the stored MIDI, as the worker does for the public pages."""
    from evaluation.services.rendering import submission_render_media

    submission_render_media(submission_id=submission.pk)


@pytest.fixture
def judged(world, cast, make_user):
    """The world's ranked entry (named in its MIDI meta text) and checkpoint output, rendered for real; two judges
    with a review of each, assigned by the platform."""
    ranked = world.ranked
    ranked.midi.save(ORIGINAL_FILENAME, ContentFile(midi_with_names(ENTRANT_NAME)), save=True)
    world.output.midi.save("out.mid", ContentFile(midi_with_names(ENTRANT_NAME)), save=True)
    Rendering.objects.filter(submission__challenge=world.challenge).delete()
    for submission in (ranked, world.checkpoint, world.others):
        _render_public(submission)
    second = make_user("second_judge", role=Role.JUDGE)
    world.challenge.judges.add(second)
    JudgeAssignment.objects.all().delete()
    set_phase(world.challenge, "judging")
    JudgingSettings.objects.create(challenge=world.challenge, judges_per_entry=2)
    judging_assign(challenge_id=world.challenge.pk, by=cast["organizer"])
    return world, [cast["judge"], second]


def _public_files(challenge) -> dict[str, bytes]:
    names = [*Submission.objects.filter(challenge=challenge).exclude(midi="").values_list("midi", flat=True),
             *SubmissionOutput.objects.filter(submission__challenge=challenge).values_list("midi", flat=True)]
    for audio, roll in Rendering.objects.filter(submission__challenge=challenge).values_list("audio", "pianoroll"):
        names += [audio, roll]
    found = {}
    for name in filter(None, names):
        with default_storage.open(name, "rb") as f:
            found[name] = f.read()
    return found


def _judge_files(judge) -> dict[str, bytes]:
    api = APIClient()
    api.force_authenticate(judge)
    files = {}
    for a in JudgeAssignment.objects.filter(judge=judge):
        body = api.get(f"/api/judging/assignments/{a.pk}/").json()
        urls = [v for item in body["listen"] for v in (item["audio_url"], item["pianoroll_url"]) if v]
        urls += [body["midi_url"]] if body["midi_url"] else []
        for url in urls:
            response = api.get(url)
            assert response.status_code == 200, url
            files[url] = b"".join(response.streaming_content) if response.streaming else response.content
    return files


def _seconds(data: bytes) -> float:
    info = soundfile.info(io.BytesIO(data))
    return info.frames / info.samplerate


def test_no_judge_file_equals_a_public_file_in_bytes_size_or_duration(judged):
    world, judges = judged
    public = _public_files(world.challenge)
    assert sum(name.endswith(".mp3") for name in public) >= 3  # the entries' and the output's audio, rendered
    public_hashes = {hashlib.sha256(data).hexdigest() for data in public.values()}
    public_sizes = {len(data) for data in public.values()}
    public_seconds = [_seconds(data) for name, data in public.items() if name.endswith(".mp3")]
    copies: dict[str, bytes] = {}
    for judge in judges:
        files = _judge_files(judge)
        assert any(url.endswith("/midi/") for url in files)
        assert any("/audio-" in url for url in files)
        copies |= {f"{judge.username} {url}": data for url, data in files.items()}
    for where, data in copies.items():
        assert hashlib.sha256(data).hexdigest() not in public_hashes, where
        assert len(data) not in public_sizes, where
        if "/audio-" in where:
            assert min(abs(_seconds(data) - s) for s in public_seconds) > 0.005, where
    # each judge's copy is their own: two judges of the same entry get different bytes
    by_entry: dict[str, set[str]] = {}
    for where, data in copies.items():
        url = where.split(" ", 1)[1]
        assignment = JudgeAssignment.objects.get(pk=int(url.split("/")[3]))
        key = f"{assignment.submission_id} {url.rsplit('/', 2)[1]}"
        by_entry.setdefault(key, set()).add(hashlib.sha256(data).hexdigest())
    reviews = JudgeAssignment.objects.values_list("submission_id", flat=True)
    assert all(len(hashes) == list(reviews).count(int(key.split()[0])) for key, hashes in by_entry.items())
    assert any(len(hashes) == 2 for hashes in by_entry.values())


def test_the_judges_midi_has_no_meta_text(judged):
    world, judges = judged
    public_midi = world.ranked.midi.open("rb").read()
    assert ENTRANT_NAME.encode() in public_midi  # the attack: names typed into the file
    for url, data in _judge_files(judges[0]).items():
        assert ENTRANT_NAME.encode() not in data, url
        assignment = JudgeAssignment.objects.get(pk=int(url.split("/")[3]))
        if url.endswith("/midi/") and assignment.submission_id == world.ranked.pk:
            mid = mido.MidiFile(file=io.BytesIO(data))
            assert not [m for t in mid.tracks for m in t if m.is_meta and m.type in META_TEXT_TYPES]
            notes = [m.note for t in mid.tracks for m in t if m.type == "note_on" and m.velocity]
            original = mido.MidiFile(file=io.BytesIO(public_midi))
            assert notes == [m.note for t in original.tracks for m in t if m.type == "note_on" and m.velocity]


PUBLIC_URLS = ("/challenges/", "/challenges/{slug}/", "/challenges/{slug}/leaderboard/", "/api/challenges/",
               "/api/challenges/{slug}/", "/api/challenges/{slug}/leaderboard/", "/submissions/{ranked}/",
               "/api/submissions/{ranked}/", "/submissions/{checkpoint_id}/", "/api/submissions/{checkpoint_id}/")


@pytest.mark.parametrize("phase", ["open", "judging"])
@pytest.mark.parametrize("role", ["anonymous", "judge", "other", "outsider"])
def test_no_public_response_names_the_entrant_or_the_title(world, cast, phase, role):
    set_phase(world.challenge, phase)
    client = Client()
    if cast[role] is not None:
        client.force_login(cast[role])
    values = world.values()
    for template in PUBLIC_URLS:
        url = template.format(**values)
        response = client.get(url)
        text = response.content.decode()
        for secret in (ENTRANT_NAME, ENTRANT_EMAIL, ORIGINAL_FILENAME, TITLE):
            assert secret not in text, f"{role} while {phase}: {url} shows {secret!r}"
    response = client.get(f"/api/challenges/{world.challenge.slug}/leaderboard/").json()
    ranked = [row for row in response["rows"] if row["submission"] == world.ranked.pk]
    assert ranked
    assert ranked[0]["audio_url"]


def test_names_without_music_when_the_organizer_chooses_it(world, cast):
    set_phase(world.challenge, "open")
    JudgingSettings.objects.create(challenge=world.challenge, public_board=JudgingSettings.PublicBoard.NAMES)
    values = world.values()
    for role in ("anonymous", "other", "outsider"):
        client = Client()
        if cast[role] is not None:
            client.force_login(cast[role])
        body = client.get(f"/api/challenges/{world.challenge.slug}/leaderboard/").json()
        assert ENTRANT_NAME in [row["entrant"] for row in body["rows"]], role
        assert all(row["audio_url"] is None for row in body["rows"] if row["entrant"] != role), role
        detail = client.get(f"/api/submissions/{world.ranked.pk}/").json()
        assert (detail["midi_url"], detail["audio_url"], detail["pianoroll_url"]) == (None, None, None)
        for url in ("/files/entry/{ranked_uuid}/", "/files/audio/{ranked_audio}/", "/files/pianoroll/{ranked_audio}/"):
            assert client.get(url.format(**values)).status_code == 404, (role, url)
    judge = Client()
    judge.force_login(cast["judge"])  # judges: neither names nor music
    body = judge.get(f"/api/challenges/{world.challenge.slug}/leaderboard/").json()
    assert ENTRANT_NAME not in str(body)
    owner = Client()
    owner.force_login(cast["entrant"])  # the entrant hears their own entry
    assert owner.get(f"/files/entry/{world.ranked.public_id}/").status_code == 200
    set_phase(world.challenge, "published")
    assert Client().get(f"/files/entry/{world.ranked.public_id}/").status_code == 200


def test_assignment_ids_are_in_random_order(db, make_user):
    challenge = ChallengeFactory(slug="many-entries")
    organizer = make_user("org", role=Role.ORGANIZER)
    challenge.organizers.add(organizer)
    judge = make_user("j1", role=Role.JUDGE)
    challenge.judges.add(judge)
    entries = [entry_score(entry_create(challenge=challenge, entrant=make_user(f"e{i}", role=Role.ENTRANT)),
                       automatic=50.0 + i) for i in range(16)]
    set_phase(challenge, "judging")
    JudgingSettings.objects.create(challenge=challenge, judges_per_entry=1)
    judging_assign(challenge_id=challenge.pk, by=organizer)
    order = list(JudgeAssignment.objects.order_by("pk").values_list("submission_id", flat=True))
    assert sorted(order) == sorted(e.pk for e in entries)
    assert order != sorted(order)  # 1 in 16! by chance
