"""A challenge's own realness model: queued when its reference set changes, trained by a worker (docs/design.md §5).

``realness_model_request`` runs wherever reference files are saved or deleted (admin, bundle, shell: a signal
calls it) and queues ``evaluation.train_realness_model`` once per change; ``realness_model_train`` (the task, on the
``training`` queue) reads the current files, trains a small discriminator on them (generation.engine.realness, with a
held-out quarter), stores the weights and card on the row, and measures the set's style figures (ReferenceStats), so
that scoring only reads. Until the row is ready, scoring falls back to the default model and says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from chartbusters.challenges.models import Challenge
from chartbusters.dispatch import send_task
from evaluation.models import RealnessModel
from evaluation.realness_card import weak_families_card
from evaluation.reference import reference_files_digest, reference_stats_compute
from evaluation.services.rescoring import challenge_rescore_request

logger = logging.getLogger(__name__)

TRAIN_TASK = "evaluation.train_realness_model"
TRAIN_QUEUE = "training"  # minutes of training: never holds up scoring, generation or audio
MIN_PIECES = 3  # two to train on and one to hold out at the least; 20 or more is recommended
TOO_FEW_PIECES = ("The reference set has {n} usable piece(s); at least {minimum} are needed to train a realness model "
                  "(20 or more recommended).")
MODEL_READY_REASON = "the challenge's realness model is ready (trained on its current reference set)"
TRAIN_FAILED = "Training the realness model failed because of an internal error (it has been logged); {action}"


def steps_for(n_pieces: int) -> int:
    """Training steps for a reference set: enough for the augmentation to show every piece many times, within the
    task's time limit (about 0.2 s a step on one shared CPU thread: 20 pieces ~3 min, 120 pieces ~7 min)."""
    return int(min(2000, max(800, 15 * n_pieces)))


@transaction.atomic
def realness_model_request(*, challenge_id: int) -> RealnessModel | None:
    """Queue training when the challenge's reference files differ from what its model was (or is being) trained on.
    No reference files: the row goes (the default model applies)."""
    challenge = Challenge.objects.select_for_update().filter(pk=challenge_id).first()
    if challenge is None:  # the challenge itself is being deleted
        return None
    files = list(challenge.reference_files.all())
    if not files:
        RealnessModel.objects.filter(challenge=challenge).delete()
        return None
    digest = reference_files_digest(files)
    row = RealnessModel.objects.filter(challenge=challenge).first()
    if row is not None and row.files_digest == digest and row.status != RealnessModel.Status.FAILED:
        return row
    already_queued = row is not None and row.status == RealnessModel.Status.QUEUED
    row, _ = RealnessModel.objects.update_or_create(
        challenge=challenge,
        defaults={"files_digest": digest, "status": RealnessModel.Status.QUEUED, "progress": 0, "error": "",
                  "started_at": None, "finished_at": None},
    )
    if not already_queued:  # the queued task reads the files as they are when it runs
        send_task(TRAIN_TASK, args=(challenge.pk,), queue=TRAIN_QUEUE)
    return row


def _set(row_id: int, **fields) -> None:
    RealnessModel.objects.filter(pk=row_id).update(updated_at=timezone.now(), **fields)


def realness_model_train(*, challenge_id: int) -> str:
    """Train on the current reference files; returns the status the row ends in. A set that changes meanwhile
    queues another run (realness_model_request), so the last one wins."""
    from generation.engine.midi_io import load_midi
    from generation.engine.realness import reference_piece, train_on_reference_set

    challenge = Challenge.objects.get(pk=challenge_id)
    files = list(challenge.reference_files.all())
    row = RealnessModel.objects.filter(challenge=challenge).first()
    if row is None or not files:
        return "nothing to train"
    digest = reference_files_digest(files)
    _set(row.pk, status=RealnessModel.Status.TRAINING, progress=1, started_at=timezone.now(), files_digest=digest,
         error="")
    pieces = []
    for f in files:
        try:
            with f.midi.open("rb") as src:
                piece = reference_piece(load_midi(src.read()), f.name)
        except Exception as exc:
            logger.warning("Reference file %s refused: %s", f.name, exc)
            piece = None
        if piece is not None:
            pieces.append(piece)
    if len(pieces) < MIN_PIECES:
        _set(row.pk, status=RealnessModel.Status.FAILED, progress=0, finished_at=timezone.now(),
             error=TOO_FEW_PIECES.format(n=len(pieces), minimum=MIN_PIECES))
        return RealnessModel.Status.FAILED
    try:
        reference_stats_compute(challenge=challenge)
        with tempfile.TemporaryDirectory(prefix="chartbusters-realness-train-") as tmp:
            train_on_reference_set(
                pieces=pieces, steps=steps_for(len(pieces)), out=tmp,
                trained_on=f"challenge {challenge.slug}: {len(pieces)} reference pieces",
                on_progress=lambda step, total: _set(row.pk, progress=max(1, min(99, 100 * step // total))))
            meta = json.loads((Path(tmp) / "config.json").read_text())
            weights = (Path(tmp) / "model.safetensors").read_bytes()
            card = (Path(tmp) / "MODEL_CARD.md").read_text()
    except Exception:
        logger.exception("Training the realness model of challenge %s failed", challenge_id)
        _set(row.pk, status=RealnessModel.Status.FAILED, progress=0, finished_at=timezone.now(),
             error=TRAIN_FAILED.format(action="save the reference set again to retry."))
        return RealnessModel.Status.FAILED
    with transaction.atomic():
        row = RealnessModel.objects.select_for_update().get(pk=row.pk)
        if row.weights:
            row.weights.delete(save=False)
        row.weights.save("model.safetensors", ContentFile(weights), save=False)
        row.weights_sha256 = hashlib.sha256(weights).hexdigest()  # the realness part of the scorer version
        row.files_digest = digest  # the files it was trained on (a change meanwhile is queued below)
        row.config = meta
        row.metrics = {**meta.get("metrics", {}), "n_pieces": len(pieces)}
        row.model_card = weak_families_card(card, row.metrics)
        row.status = RealnessModel.Status.READY
        row.progress = 100
        row.finished_at = timezone.now()
        row.save()
    if reference_files_digest(challenge.reference_files.all()) != digest:
        realness_model_request(challenge_id=challenge_id)
    else:  # entries scored meanwhile by the default model are rescored by this one, all at once
        challenge_rescore_request(challenge_id=challenge_id, reason=MODEL_READY_REASON)
    return RealnessModel.Status.READY

