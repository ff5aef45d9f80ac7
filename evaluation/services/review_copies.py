"""A judge's anonymized copy of a review file (``evaluation.review_copies`` says how it is made), made on first
request and kept under MEDIA_ROOT (served only through the review's own URL, like every stored file).

Each copy is the judge's own: the random lead-in, tail pad and nonce are drawn from a generator seeded by a keyed
hash of (assignment, file, source), so a copy is stable for its judge, differs from every other judge's copy of the
same entry, and no one without the server's secret key can predict it.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from chartbusters.files import StoredFile
from evaluation.review_copies import anonymize_midi, png_with_nonce
from evaluation.selectors.judging import ReviewSource, judging_public_file_sizes

SUFFIXES = {"midi": ".mid", "audio": ".mp3", "pianoroll": ".png"}
FOLDER = "review-copies"


def _key(source: ReviewSource) -> str:
    message = f"{source.assignment_id}:{source.name}:{source.midi_name}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _make(source: ReviewSource, *, rng: random.Random) -> bytes:
    avoid = judging_public_file_sizes(challenge_id=source.challenge_id)
    with default_storage.open(source.midi_name, "rb") as f:
        midi = anonymize_midi(f.read(), rng=rng, avoid_sizes=avoid, ordinal=source.ordinal)
    if source.kind == "midi":
        return midi
    with tempfile.TemporaryDirectory(prefix="chartbusters-review-") as tmp:
        midi_path = Path(tmp) / "entry.mid"
        midi_path.write_bytes(midi)
        if source.kind == "audio":
            from evaluation.audio import render_audio

            return render_audio(midi_path, Path(tmp) / "entry.mp3").read_bytes()
        from evaluation.pianoroll import render_pianoroll_png

        png = render_pianoroll_png(midi_path, Path(tmp) / "entry.png").read_bytes()
        return png_with_nonce(png, rng=rng, avoid_sizes=avoid)


def review_copy_get_or_make(*, source: ReviewSource) -> StoredFile:
    """The judge's copy of ``source`` (made now if it is not there yet)."""
    key = _key(source)
    suffix = SUFFIXES[source.kind]
    name = f"{FOLDER}/{key[:2]}/{key[2:34]}{suffix}"
    if not default_storage.exists(name):
        data = _make(source, rng=random.Random(int(key[34:], 16)))
        if not default_storage.exists(name):  # two requests at once: the first one's copy stays
            default_storage.save(name, ContentFile(data))
    return StoredFile(name=name, download_name=f"entry-{source.entry_number}-{source.name}{suffix}")
