"""The tiny test model's sampler: adds one note per bar to the melody track (the model's likeliest pitch, with
seeded Gumbel noise). Returns a new file at 120 bpm with the melody only, so the pipeline's restoring (tempo, meter,
the other tracks) is what puts the input's back."""

from __future__ import annotations

import numpy as np
import torch

from generation.engine.midi_io import melody_track
from generation.engine.representation import midi_to_rolls, replace_tracks, rolls_to_midi


def generate(model, pm, params: dict, seed: int | None):
    rolls = midi_to_rolls(pm)
    index = melody_track(pm)
    rng = np.random.default_rng(seed)
    tracks, onsets = rolls.tracks.copy(), rolls.onsets.copy()
    with torch.no_grad():
        logits = model(torch.from_numpy(tracks[index].astype(np.float32))).numpy()
    temperature = float(params.get("temperature", 1.0))
    for step in range(0, rolls.n_steps, rolls.steps_per_bar):
        pitch = int(np.argmax(logits[step] / temperature + rng.gumbel(size=128)))
        tracks[index, step, pitch] = onsets[index, step, pitch] = True
    return rolls_to_midi(replace_tracks(rolls, tracks, onsets))
