"""A Melody Harvest challenge with one of every stored file, people in every role, and the challenge's phases.

The entrant's name, e-mail and uploaded file name are distinctive, so that a test can look for them in any body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from chartbusters.accounts.roles import Role
from chartbusters.challenges.models import Challenge
from evaluation.models import JudgeAssignment
from submissions.services.moderation import submission_disqualify
from tests.factories import (
    ChallengeFactory,
    composition_create_for,
    entry_create,
    entry_fail,
    entry_score,
    input_melody_create,
    output_create,
    reference_file_create,
    rendering_create,
)

ENTRANT_NAME = "quillon_entrant"
ENTRANT_EMAIL = "quillon.secret@example.com"
ORIGINAL_FILENAME = "quillon-private-upload.mid"
HIDDEN_INPUT_NAME = "secret-hidden-melody-7.mid"
REFERENCE_NAME = "secret-reference-piece.mid"
ROLES = ("anonymous", "entrant", "other", "judge", "organizer", "outsider", "superuser")
PHASES = ("open", "judging", "published")


def set_phase(challenge: Challenge, phase: str) -> Challenge:
    """open: entries accepted; judging: closed, results not final (blind); published: results published."""
    now = timezone.now()
    opens, closes, ends = {
        "open": (-2, 5, 10), "judging": (-10, -1, 5), "published": (-20, -10, -1),
    }[phase]
    challenge.opens_at = now + timedelta(days=opens)
    challenge.closes_at = now + timedelta(days=closes)
    challenge.judging_ends_at = now + timedelta(days=ends)
    challenge.results_published = phase == "published"
    challenge.save()
    return challenge


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def cast(make_user):
    """One user per role; ``cast["anonymous"]`` is None."""
    users = {
        "anonymous": None,
        "entrant": make_user(ENTRANT_NAME, role=Role.ENTRANT),
        "other": make_user("other_entrant", role=Role.ENTRANT),
        "judge": make_user("the_judge", role=Role.JUDGE),
        "organizer": make_user("the_organizer", role=Role.ORGANIZER),
        "outsider": make_user("other_organizer", role=Role.ORGANIZER),
        "superuser": get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests"),
    }
    users["entrant"].email = ENTRANT_EMAIL
    users["entrant"].save(update_fields=["email"])
    return users


@dataclass
class World:
    challenge: Challenge
    ranked: object  # the entrant's scored composition entry, with audio and piano roll
    ranked_rendering: object
    checkpoint: object  # the entrant's scored checkpoint entry, with one output
    output: object
    output_rendering: object
    failed: object  # the entrant's failed entry
    disqualified: object  # the entrant's scored, then disqualified entry
    others: object  # another entrant's scored entry
    input_melody: object
    reference: object
    composition: object  # the entrant's saved composition
    assignment: object = None  # the judge's review of the ranked entry (entry #1)
    job: object = None  # the entrant's finished studio job (input, output MIDI and audio)
    training: object = None  # the entrant's finished training run and its model (weights, loss plot, zip)

    def values(self) -> dict:
        return {
            "slug": self.challenge.slug, "ranked": self.ranked.pk, "failed": self.failed.pk,
            "disqualified": self.disqualified.pk, "disqualified_uuid": self.disqualified.public_id,
            "checkpoint_id": self.checkpoint.pk,
            "ranked_uuid": self.ranked.public_id, "ranked_audio": self.ranked_rendering.public_id,
            "failed_uuid": self.failed.public_id, "checkpoint_uuid": self.checkpoint.public_id,
            "output_uuid": self.output.public_id, "output_audio": self.output_rendering.public_id,
            "input_uuid": self.input_melody.public_id, "reference_uuid": self.reference.public_id,
            "composition_uuid": self.composition.public_id, "composition_id": self.composition.pk,
            "assignment": self.assignment.pk, "job": self.job.pk, "job_uuid": self.job.public_id,
            "training": self.training.pk, "model": self.training.checkpoint.pk,
            "model_uuid": self.training.checkpoint.public_id,
        }


@pytest.fixture
def world(db, media_root, cast) -> World:
    """Built while the challenge is open; ``set_phase`` then moves it to judging or published."""
    challenge = ChallengeFactory(slug="harvest-sec", kind=Challenge.Kind.MELODY_HARVEST)
    challenge.organizers.add(cast["organizer"])
    challenge.judges.add(cast["judge"])
    ChallengeFactory(slug="elsewhere").organizers.add(cast["outsider"])
    entrant = cast["entrant"]

    ranked = entry_score(entry_create(challenge=challenge, entrant=entrant, title="Quiet chorale",
                                      original_filename=ORIGINAL_FILENAME), automatic=80.0)
    checkpoint = entry_create(challenge=challenge, entrant=entrant, kind="checkpoint", title="My model")
    output = output_create(checkpoint, input_name=HIDDEN_INPUT_NAME)
    output_rendering = rendering_create(checkpoint, output=output)
    entry_score(checkpoint, automatic=60.0)
    failed = entry_fail(entry_create(challenge=challenge, entrant=entrant, title="Broken",
                                     original_filename=ORIGINAL_FILENAME))
    disqualified = entry_score(entry_create(challenge=challenge, entrant=entrant, title="Copied"), automatic=99.0)
    submission_disqualify(submission_id=disqualified.pk, disqualified_by=cast["organizer"], reason="A copy.")
    others = entry_score(entry_create(challenge=challenge, entrant=cast["other"], title="Their piece"), automatic=70.0)
    assignment = JudgeAssignment.objects.create(challenge=challenge, submission=ranked, judge=cast["judge"], round=1,
                                                entry_number=1)
    return World(
        assignment=assignment,
        challenge=challenge, ranked=ranked, ranked_rendering=rendering_create(ranked), checkpoint=checkpoint,
        output=output, output_rendering=output_rendering, failed=failed, disqualified=disqualified, others=others,
        input_melody=input_melody_create(challenge, name=HIDDEN_INPUT_NAME),
        reference=reference_file_create(challenge, name=REFERENCE_NAME),
        composition=composition_create_for(entrant, original_filename=ORIGINAL_FILENAME),
        job=studio_job_create(entrant),
        training=training_create_done(entrant),
    )


def studio_job_create(owner):
    """A finished studio job of ``owner``'s: input, output MIDI and audio stored."""
    from django.core.files.base import ContentFile

    from generation.models import GenerationJob
    from tests.submissions.conftest import midi_bytes

    job = GenerationJob(owner=owner, model_name="arcnn", seed=1, status="done", progress=100)
    job.input_midi.save("in.mid", ContentFile(midi_bytes()), save=False)
    job.output_midi.save("out.mid", ContentFile(midi_bytes(pitch=62)), save=False)
    job.audio.save("a.mp3", ContentFile(b"ID3 not really audio"), save=False)
    job.save()
    return job


def training_create_done(owner):
    """A finished training run of ``owner``'s, with its model: weights, loss plot and download zip stored."""
    from django.core.files.base import ContentFile

    from generation.models import TrainingJob, UserCheckpoint
    from tests.factories import TINY_PNG, TINY_WEIGHTS

    model = UserCheckpoint(owner=owner, name="My reels", architecture="arcnn", config={"architecture": "arcnn"},
                           card="# AR-CNN trained on your-midi")
    model.weights.save("model.safetensors", ContentFile(TINY_WEIGHTS), save=False)
    model.loss_plot.save("loss.png", ContentFile(TINY_PNG), save=False)
    model.bundle.save("model.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18), save=False)
    model.save()
    return TrainingJob.objects.create(owner=owner, name="My reels", model_name="arcnn", dataset="upload",
                                      status="done", progress=100, steps_done=3, steps_total=3, checkpoint=model,
                                      files={"used": ["a.mid", "b.mid", "c.mid"], "refused": []})
