"""Audio and piano roll of an entry and of each output of a checkpoint entry (stored in evaluation.Rendering).

A checkpoint entry's outputs also get ``SubmissionOutput.audio`` pointing at the same stored file, so pages of
other apps that read that field play it too.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.db.models.fields.files import FieldFile

from evaluation.audio import render_audio
from evaluation.models import Rendering
from evaluation.pianoroll import render_pianoroll_png
from evaluation.services.leaderboard import leaderboard_version_bump
from submissions.models import Submission, SubmissionOutput

logger = logging.getLogger(__name__)

RENDER_FAILED = "The audio could not be rendered ({reason}); the MIDI file is still available to download."


AUDIO_SUFFIX = ".mp3"  # plays in every browser; libsndfile (the soundfile wheel) encodes it, no ffmpeg needed


def _render_files(midi: FieldFile, *, stem: str, tmp: Path) -> tuple[Path, Path]:
    midi_path = tmp / f"{stem}.mid"
    with midi.open("rb") as src:
        midi_path.write_bytes(src.read())
    audio = render_audio(midi_path, tmp / f"{stem}{AUDIO_SUFFIX}")
    roll = render_pianoroll_png(midi_path, tmp / f"{stem}.png")
    return Path(audio), Path(roll)


@transaction.atomic
def _rendering_store(*, submission_id: int, output_id: int | None, audio: Path, roll: Path) -> Rendering:
    rendering, _ = Rendering.objects.select_for_update().get_or_create(submission_id=submission_id, output_id=output_id)
    with audio.open("rb") as a, roll.open("rb") as r:
        rendering.audio.save(audio.name, File(a), save=False)
        rendering.pianoroll.save(roll.name, File(r), save=False)
    rendering.error = ""
    rendering.save(update_fields=["audio", "pianoroll", "error"])
    if output_id is not None:
        SubmissionOutput.objects.filter(pk=output_id).update(audio=rendering.audio.name)
    else:  # the leaderboard rows carry the entry's audio: cached pages must show it
        challenge_id = Submission.objects.values_list("challenge_id", flat=True).get(pk=submission_id)
        leaderboard_version_bump(challenge_id=challenge_id)
    return rendering


@transaction.atomic
def _rendering_fail(*, submission_id: int, output_id: int | None, reason: str) -> Rendering:
    rendering, _ = Rendering.objects.select_for_update().get_or_create(submission_id=submission_id, output_id=output_id)
    rendering.error = RENDER_FAILED.format(reason=reason)
    rendering.save(update_fields=["error"])
    return rendering


def submission_render_media(*, submission_id: int) -> list[Rendering]:
    """Render the entry's MIDI (composition entries) and every output (checkpoint entries)."""
    submission = Submission.objects.get(pk=submission_id)
    targets: list[tuple[int | None, FieldFile, str]] = []
    if submission.midi:
        targets.append((None, submission.midi, f"entry-{submission.pk}"))
    targets += [(o.pk, o.midi, f"output-{o.pk}") for o in submission.outputs.all() if o.midi]
    renderings = []
    with tempfile.TemporaryDirectory(prefix="chartbusters-render-") as tmp:
        for output_id, midi, stem in targets:
            try:
                audio, roll = _render_files(midi, stem=stem, tmp=Path(tmp))
            except Exception as exc:  # a page must say so rather than wait for audio forever
                logger.exception("Rendering %s of submission %s failed", stem, submission_id)
                reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                renderings.append(_rendering_fail(submission_id=submission_id, output_id=output_id, reason=reason))
                continue
            renderings.append(
                _rendering_store(submission_id=submission_id, output_id=output_id, audio=audio, roll=roll)
            )
    return renderings
