"""Realness: the shipped discriminator's calibrated probability that a piece is real music of the reference style.

Worker only: torch is imported inside the functions. The model is the shipped checkpoint
(generation/checkpoints/discriminator/), loaded once per process through the engine registry.
"""

from __future__ import annotations

import functools

import numpy as np
import pretty_midi

from generation.engine.representation import midi_to_rolls

TORCH_THREADS = 1  # a scoring worker scores one piece at a time; one thread leaves the other core to the next task


@functools.lru_cache(maxsize=1)
def load_model():
    """The default discriminator, loaded once per process."""
    import torch

    if torch.get_num_threads() > TORCH_THREADS:
        torch.set_num_threads(TORCH_THREADS)
    from generation.engine.registry import load_default_model

    model, _meta = load_default_model("discriminator")
    return model


def pitched_rolls(pm: pretty_midi.PrettyMIDI) -> tuple[np.ndarray, np.ndarray]:
    """(n_tracks, T, 128) rolls and onsets of the non-drum tracks."""
    rolls = midi_to_rolls(pm)
    keep = [i for i, drum in enumerate(rolls.is_drum) if not drum]
    return rolls.tracks[keep], rolls.onsets[keep]


def realness_of(pm: pretty_midi.PrettyMIDI, model=None) -> float:
    from generation.engine.discriminator import realness

    tracks, onsets = pitched_rolls(pm)
    return realness(model or load_model(), tracks, onsets)
