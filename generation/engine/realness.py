"""The realness discriminator as the apps use it (scoring, and a challenge's own realness model): each window's
realness and where the windows lie, a reference piece read as the discriminator reads it, training on a reference
set, and an adversarial round against a whole scorer. A public module (docs/design.md section 2): the apps never
import ``models.discriminator`` or ``hill_climb`` themselves. Torch is imported when a function is called.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from generation.engine.dataset import Piece
from generation.engine.training import ProgressCallback


def window_realness(model: Any, tracks: np.ndarray, onsets: np.ndarray | None = None) -> tuple[np.ndarray, list[int]]:
    """Each window's calibrated realness and the step (sounded grid) where it starts; the piece's realness is their
    mean. ``tracks``, ``onsets``: ``representation.sounded_rolls`` of the piece."""
    from generation.engine.models.discriminator.data import window_starts
    from generation.engine.models.discriminator.model import realness_by_window

    config = model.config
    return (realness_by_window(model, tracks, onsets),
            window_starts(tracks.shape[1], config.window_steps, config.hop_steps))


def reference_piece(pm: Any, name: str) -> Piece | None:
    """A reference file (a PrettyMIDI) on the sounded grid, as the discriminator trains on it (None: nothing sounds)."""
    from generation.engine.models.discriminator.train import sounded_piece

    return sounded_piece(pm, name)


def train_on_reference_set(*, pieces: list[Piece], steps: int, out: str | Path, trained_on: str,
                           on_progress: ProgressCallback | None = None) -> dict:
    """Train a realness model on a challenge's reference pieces (``reference_piece``) into ``out``; returns the
    metrics (held-out AUCs per family). No progress bar: ``on_progress`` gets (steps done, steps in all)."""
    from generation.engine.models.discriminator.train import train

    return train(pieces=pieces, steps=steps, out=out, progress=False, trained_on=trained_on,
                 on_progress=on_progress)


def scorer_climb_round(score: Callable[[Any], float], *, first_seed: int, climbs: int, steps: int, keep_every: int,
                       out: str | Path | None = None, replace: bool = False,
                       on_step: Callable[[], None] | None = None) -> dict:
    """An adversarial round against a whole scorer (docs/scoring.md): ``score(pretty_midi) -> float`` is climbed
    from parallel-harmony scales and what the climbs find is stored as the next training's ``scorer_climb``
    negatives (``hill_climb.climb_round``: its refusals are ValueErrors that name the fix)."""
    from generation.engine.hill_climb import SCORER_CLIMBS_PATH, climb_round
    from generation.engine.trivial_music import as_midi

    return climb_round(lambda tracks, onsets: score(as_midi(tracks, onsets)), first_seed=first_seed, climbs=climbs,
                       steps=steps, keep_every=keep_every, out=Path(out) if out else SCORER_CLIMBS_PATH,
                       replace=replace, on_step=on_step)
