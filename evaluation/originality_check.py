"""The originality check of an entry against the training data, the challenge's reference set and its earlier entries,
and the service that registers an entry's fingerprint for later ones (DESIGN section 5).

Known music is indexed once: the chorales (training data; the default reference set is their train split) in an
``.npz`` next to the dataset cache, built on first use (under a second) and kept in memory; a challenge's reference
files and hidden input melodies in memory, keyed by their digest. Earlier entries: their n-gram hashes are rows of
``OriginalityGram`` (indexed by challenge and hash), so one query finds the few entries that share any n-gram.

"Earlier" means a lower submission id; the same entrant's own entries are not copies and are left out. A Melody
Harvest challenge's input melodies are given to every entrant: passages found in them never count.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pretty_midi
from django.db import transaction

from evaluation.originality import (
    INDEX_VERSION,
    Line,
    LineIndex,
    line_tokens,
    lines_from_midi,
    lines_from_piece,
    mask_given_material,
    ngram_hashes,
)
from generation.engine.errors import EngineError
from generation.engine.midi_io import first_time_signature, load_midi, steps_per_bar_of
from generation.engine.representation import STEPS_PER_BEAT

DEFAULT_THRESHOLD_BARS = 2.0
_MEMORY: dict[str, LineIndex] = {}


def entry_lines(pms: list[pretty_midi.PrettyMIDI], source: str = "entry") -> list[Line]:
    """Melody lines of every output; with several outputs each track name says which output it is."""
    lines = []
    for i, pm in enumerate(pms):
        spb = steps_per_bar_of(first_time_signature(pm), STEPS_PER_BEAT)
        for line in lines_from_midi(pm, source, spb):
            if len(pms) > 1:
                line.track = f"output {i + 1}: {line.track}"
            lines.append(line)
    return lines


def training_index() -> LineIndex:
    """Every chorale (train, valid and test split), cached on disk and in memory."""
    from generation.engine.dataset import DATA_VERSION, default_cache_dir, load_chorales

    path = default_cache_dir() / f"originality-chorales-v{DATA_VERSION}.{INDEX_VERSION}.npz"
    key = str(path)
    if key not in _MEMORY:
        if path.exists():
            _MEMORY[key] = LineIndex.load(path)
        else:
            index = LineIndex([line for piece in load_chorales() for line in lines_from_piece(piece)])
            index.save(path)
            _MEMORY[key] = index
    return _MEMORY[key]


def _files_index(kind: str, files) -> LineIndex:
    """Lines of a challenge's stored MIDI files (reference files or input melodies), cached by their digest."""
    files = sorted(files, key=lambda f: f.pk)
    digest = hashlib.sha256("".join(f"{f.pk}\0{f.name}\0{f.midi.name}\n" for f in files).encode()).hexdigest()
    key = f"{kind}:{digest}"
    if key not in _MEMORY:
        lines = []
        for f in files:
            try:
                with f.midi.open("rb") as src:
                    pm = load_midi(src.read())
            except (EngineError, OSError):
                continue
            lines += lines_from_midi(pm, f.name, steps_per_bar_of(first_time_signature(pm), STEPS_PER_BEAT))
        _MEMORY[key] = LineIndex(lines)
    return _MEMORY[key]


def _query_hashes(query: list[Line]) -> list[int]:
    out: set[int] = set()
    for line in query:
        hashes, usable = ngram_hashes(line_tokens(line))
        out.update(int(h) for h in hashes[usable])
    return sorted(out)


def earlier_entries_index(challenge, query: list[Line], exclude_submission_id: int | None) -> LineIndex:
    """Earlier entries of the challenge by other entrants that share at least one n-gram with ``query``."""
    from evaluation.models import OriginalityFingerprint, OriginalityGram
    from submissions.models import Submission

    hashes = _query_hashes(query)
    if not hashes:
        return LineIndex([])
    grams = OriginalityGram.objects.filter(challenge=challenge, hash__in=hashes)
    fingerprints = OriginalityFingerprint.objects.filter(pk__in=grams.values("fingerprint_id"))
    if exclude_submission_id is not None:
        fingerprints = fingerprints.filter(submission_id__lt=exclude_submission_id)
        entrant_id = Submission.objects.filter(pk=exclude_submission_id).values_list("entrant_id", flat=True).first()
        if entrant_id is not None:
            fingerprints = fingerprints.exclude(entrant_id=entrant_id)
    lines = [Line.from_json(data) for lines in fingerprints.values_list("lines", flat=True) for data in lines]
    return LineIndex(lines)


def originality_check(pms: list[pretty_midi.PrettyMIDI], *, challenge=None,
                      exclude_submission_id: int | None = None) -> dict:
    """``{"longest": match | None, "threshold_bars", "flagged", "checked": [...]}``; a match is a dict with bars,
    notes, source, source_track, source_bar, entry_track, entry_bar and kind (training / reference / entry)."""
    query = entry_lines(pms)
    masks = None
    checked = ["training data (all Bach chorales)"]
    indexes: list[tuple[str, LineIndex]] = [("training", training_index())]
    if challenge is not None:
        given = list(challenge.input_melodies.all())
        if given:
            masks = mask_given_material(query, _files_index("given", given))
        references = list(challenge.reference_files.all())
        if references:
            indexes.append(("reference", _files_index("reference", references)))
            checked.append(f"reference set ({len(references)} files)")
        indexes.append(("entry", earlier_entries_index(challenge, query, exclude_submission_id)))
        checked.append("earlier entries of the challenge")
    longest = None
    for kind, index in indexes:
        found = index.match(query, masks)
        if found is not None and (longest is None or found.bars > longest["bars"]):
            longest = {**found.to_dict(), "kind": kind}
    threshold = float(challenge.originality_threshold_bars) if challenge is not None else DEFAULT_THRESHOLD_BARS
    return {"longest": longest, "threshold_bars": threshold,
            "flagged": bool(longest is not None and longest["bars"] > threshold), "checked": checked}


@transaction.atomic
def originality_register(*, submission_id: int, paths: list[Path] | None = None,
                         pms: list[pretty_midi.PrettyMIDI] | None = None) -> int:
    """Store the entry's melody lines and n-gram hashes so that later entries are checked against it (replacing
    what a previous run stored). Returns the number of hashes stored."""
    from evaluation.models import OriginalityFingerprint, OriginalityGram
    from submissions.models import Submission

    submission = Submission.objects.get(pk=submission_id)
    if pms is None:
        pms = [load_midi(p) for p in paths or []]
    lines = entry_lines(pms, source=f"submission {submission_id}")
    OriginalityFingerprint.objects.filter(submission_id=submission_id).delete()
    fingerprint = OriginalityFingerprint.objects.create(
        submission=submission, challenge_id=submission.challenge_id, entrant_id=submission.entrant_id,
        lines=[line.to_json() for line in lines],
    )
    hashes = _query_hashes(lines)
    OriginalityGram.objects.bulk_create(
        [OriginalityGram(fingerprint=fingerprint, challenge_id=submission.challenge_id, hash=h) for h in hashes],
        batch_size=1000,
    )
    return len(hashes)
