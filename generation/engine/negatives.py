"""Generators' outputs on real excerpts, to see how realness judges them (torch; workers and the command line only).

They are never the discriminator's negatives (docs/design.md §5: negatives are defined by what is musically wrong,
never by who made a piece; a model whose music is good must be able to score well). Every registered generator is
run the way a user runs it, through the one generation path (``pipeline.generate``), on a real excerpt (the melody
alone for a model that adds parts; the voices in one track for one that edits or continues a track): its shipped
checkpoint (when there is one) and an untrained copy of the same architecture. Re-measuring the card receives these
families as arguments (rows without a target), so no model imports another.

    python -m generation.engine.negatives --remeasure   # re-measure the shipped discriminator's card, no retraining
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterable

import numpy as np

from generation.engine import loading, registry
from generation.engine.dataset import Piece, load_chorales, pieces_split
from generation.engine.errors import ArchitectureUnavailableError
from generation.engine.models.discriminator.train import Corruptor, sounded_piece
from generation.engine.pipeline import generate
from generation.engine.representation import SOUNDED_STEPS_PER_SECOND
from generation.engine.trivial_music import as_midi


def _fit_length(tracks: np.ndarray, n_steps: int) -> np.ndarray:
    out = np.zeros((max(1, tracks.shape[0]), n_steps, 128), dtype=bool)
    out[: tracks.shape[0], : min(n_steps, tracks.shape[1])] = tracks[:, :n_steps]
    return out


MAX_CONTINUATION_SECONDS = 30.0  # docs/design.md section 4: a continuation adds at most 30 s


def generator_family(name: str, model) -> Corruptor:
    """``fn(piece, rng) -> (tracks, onsets)``: ``model``'s output on the piece's melody, on the sounded grid, at the
    piece's length. What a user gives each kind of model: one that adds parts (spec ``EDITS`` "none") gets the
    melody (highest voice) alone; one that edits or continues a track gets the piece's voices in one track (a piano
    part, as DeepComposer's users gave it), so the negative is as full as the real piece and differs by the model's
    work only. A model that continues (spec ``CONTINUES``) gets the first half and writes the rest (at most 30 s).
    A longer output is cut, a shorter one padded with silence."""
    spec = registry.get_spec(name)
    continues = bool(getattr(spec, "CONTINUES", False))
    melody_only = spec.EDITS == "none"

    def corrupt(piece: Piece, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n_steps = piece.rolls.shape[1]
        keep = n_steps
        params = {"seed": int(rng.integers(2**31))}
        if continues:
            total = n_steps / SOUNDED_STEPS_PER_SECOND
            extension = min(MAX_CONTINUATION_SECONDS, max(1.0, total / 2))
            keep = max(1, n_steps - round(extension * SOUNDED_STEPS_PER_SECOND))
            params["extension_seconds"] = extension
        if melody_only:
            tracks, onsets = piece.rolls[:1, :keep], None if piece.onsets is None else piece.onsets[:1, :keep]
        else:
            tracks = piece.rolls[:, :keep].any(axis=0, keepdims=True)
            onsets = None if piece.onsets is None else piece.onsets[:, :keep].any(axis=0, keepdims=True)
        result = generate(name, as_midi(tracks, onsets), params, model=model)
        out = sounded_piece(result.midi, piece.name)
        if out is None:
            empty = np.zeros((1, n_steps, 128), dtype=bool)
            return empty, empty.copy()
        return _fit_length(out.rolls, n_steps), _fit_length(out.onsets, n_steps)

    return corrupt


def weights_sha256(name: str) -> str | None:
    weights = loading.default_checkpoint_dir(name) / "model.safetensors"
    return hashlib.sha256(weights.read_bytes()).hexdigest() if weights.exists() else None


def generated_families(names: Iterable[str] | None = None, *, untrained: bool = True,
                       seed: int = 0) -> tuple[dict[str, Corruptor], dict[str, str]]:
    """({family name: output maker}, {family name: what made it}) for every registered generator (or ``names``): its
    shipped model as ``<name>`` and, with ``untrained``, a randomly initialised one as ``<name>_untrained``."""
    import torch

    families: dict[str, Corruptor] = {}
    made_by: dict[str, str] = {}
    for name in names if names is not None else registry.generator_names():
        try:
            model, _meta = loading.load_default_model(name)
        except ArchitectureUnavailableError:
            model = None
        if model is not None:
            families[name] = generator_family(name, model)
            made_by[name] = f"the shipped {name} (model.safetensors sha256 {weights_sha256(name)[:16]}...)"
        if untrained:
            torch.manual_seed(seed)
            families[f"{name}_untrained"] = generator_family(name, loading.build_model(name).eval())
            made_by[f"{name}_untrained"] = f"an untrained {name} (default config, torch seed {seed})"
    return families, made_by


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="How realness judges the generators' outputs (never negatives).")
    parser.add_argument("--remeasure", action="store_true",
                        help="re-measure the shipped discriminator on the test chorales with today's generators")
    parser.add_argument("--dry-run", action="store_true", help="print the figures; leave the checkpoint as it is")
    args = parser.parse_args(argv)
    if not args.remeasure:
        parser.print_help()
        return
    import torch

    from generation.engine.models.discriminator.measure import remeasure

    torch.set_num_threads(1)
    generated, made_by = generated_families()
    metrics = remeasure(loading.default_checkpoint_dir("discriminator"), test=pieces_split(load_chorales(), "test"),
                        generated=generated, generated_from=made_by, write=not args.dry_run)
    for family, auc in metrics["auc"].items():
        sys.stdout.write(f"{family:<20} ROC AUC {auc:.3f}  mean realness {metrics['mean_realness'][family]:.3f}\n")
    sys.stdout.write(f"real mean realness {metrics['mean_realness']['real']:.3f}; ECE {metrics['ece']:.3f}\n")


if __name__ == "__main__":
    main()
