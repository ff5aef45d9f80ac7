"""factory-boy factories for the foundation models (any test may import them)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from chartbusters.challenges.models import Challenge


class ChallengeFactory(factory.django.DjangoModelFactory):
    """An open, published Melody-Go-Round challenge unless told otherwise."""

    class Meta:
        model = Challenge
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"challenge-{n}")
    title = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    description = "## Rules\n\nCompose *something*."
    kind = Challenge.Kind.MELODY_GO_ROUND
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyAttribute(lambda o: o.opens_at + timedelta(days=31))
    judging_ends_at = factory.LazyAttribute(lambda o: o.closes_at + timedelta(days=15))
    published = True


# --- Rows with stored files, for the access tests (tests/security): made through the models and the lifecycle and
# scoring services, never through a worker. Every file is a few real bytes under the current MEDIA_ROOT.

# The smallest Standard MIDI File: a header and one empty track.
# one middle C, a beat long (a judge's copy is rendered from it)
TINY_MIDI = (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x0c"
             b"\x00\x90\x3c\x40\x60\x80\x3c\x40\x00\xff\x2f\x00")
TINY_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
TINY_MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 8
TINY_WEIGHTS = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "


def _file(data: bytes, name: str):
    from django.core.files.base import ContentFile

    return ContentFile(data, name=name)


def entry_create(*, challenge, entrant, kind: str = "composition", title: str = "entry",
                 original_filename: str = ""):
    """A queued entry with its file: the MIDI of a composition entry, the weights of a checkpoint entry."""
    from submissions.models import Submission

    submission = Submission(challenge=challenge, entrant=entrant, kind=kind, title=title, licence="CC BY 4.0",
                            original_filename=original_filename)
    if kind == Submission.Kind.COMPOSITION:
        submission.midi = _file(TINY_MIDI, original_filename or "entry.mid")
    else:
        submission.checkpoint = _file(TINY_WEIGHTS, "model.safetensors")
        submission.checkpoint_config = {"architecture": "arcnn", "config": {}}
    submission.save()
    return submission


def entry_score(submission, *, automatic: float = 70.0):
    """Take ``submission`` through generating (checkpoints) -> scoring -> scored with a stored score."""
    from evaluation.services.score_store import score_store
    from submissions.services.lifecycle import (
        submission_mark_generating,
        submission_mark_scored,
        submission_mark_scoring,
    )

    if submission.kind == "checkpoint":
        submission_mark_generating(submission_id=submission.pk)
    submission_mark_scoring(submission_id=submission.pk)
    score_store(submission_id=submission.pk, automatic=automatic, style=automatic / 100, realness=automatic / 100,
                parts={"weights": {"style": 1.0, "realness": 1.0}})
    submission_mark_scored(submission_id=submission.pk)
    submission.refresh_from_db()
    return submission


def entry_fail(submission, *, error: str = "The piece has no notes; add some."):
    from submissions.services.lifecycle import submission_mark_failed, submission_mark_scoring

    submission_mark_scoring(submission_id=submission.pk)
    submission_mark_failed(submission_id=submission.pk, error=error, platform_fault=False)
    submission.refresh_from_db()
    return submission


def output_create(submission, *, input_name: str):
    """A generated output of a checkpoint entry (made from the hidden input ``input_name``)."""
    from submissions.models import SubmissionOutput

    return SubmissionOutput.objects.create(submission=submission, input_name=input_name,
                                           midi=_file(TINY_MIDI, f"{input_name}.mid"))


def rendering_create(submission, *, output=None):
    """Audio and piano roll of an entry (``output`` None) or of one of its outputs."""
    from evaluation.models import Rendering
    from submissions.models import SubmissionOutput

    rendering = Rendering.objects.create(submission=submission, output=output, audio=_file(TINY_MP3, "audio.mp3"),
                                         pianoroll=_file(TINY_PNG, "roll.png"))
    if output is not None:  # as evaluation.services.rendering does
        SubmissionOutput.objects.filter(pk=output.pk).update(audio=rendering.audio.name)
    return rendering


def input_melody_create(challenge, *, name: str):
    from chartbusters.challenges.models import InputMelody

    return InputMelody.objects.create(challenge=challenge, name=name, midi=_file(TINY_MIDI, name))


def reference_file_create(challenge, *, name: str):
    from chartbusters.challenges.models import ReferenceFile

    return ReferenceFile.objects.create(challenge=challenge, name=name, midi=_file(TINY_MIDI, name))


def composition_create_for(owner, *, title: str = "Saved", original_filename: str = "my-tune.mid"):
    from submissions.models import Composition

    return Composition.objects.create(owner=owner, title=title, original_filename=original_filename,
                                      midi=_file(TINY_MIDI, original_filename))
