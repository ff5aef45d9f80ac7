"""The shipped GAN accompanies a folk tune through `manage.py generate gan`, as a new user would try it."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from generation.engine.loading import CHECKPOINTS_DIR
from generation.engine.midi_io import load_midi, write_midi
from tests.engine.midi_factory import make_pm

GAN_DIR = CHECKPOINTS_DIR / "gan"
# "Muss i denn" (a German folk song), first 8 bars, in G major: (pitch, start beat, end beat)
FOLK = [(62, 0, 1), (67, 1, 2), (67, 2, 3), (71, 3, 4), (71, 4, 6), (69, 6, 7), (71, 7, 8), (72, 8, 10), (71, 10, 11),
        (69, 11, 12), (67, 12, 16), (69, 16, 17), (71, 17, 18), (72, 18, 19), (74, 19, 20), (74, 20, 22), (72, 22, 23),
        (71, 23, 24), (69, 24, 26), (67, 26, 27), (66, 27, 28), (67, 28, 32)]
G_MAJOR = {7, 9, 11, 0, 2, 4, 6}


@pytest.mark.slow
def test_generate_gan_with_the_shipped_checkpoint(tmp_path):
    assert (GAN_DIR / "model.safetensors").exists(), "the GAN checkpoint must ship in generation/checkpoints/gan"
    source = write_midi(make_pm([FOLK], tempo=100.0), tmp_path / "folk.mid")
    out_path = tmp_path / "out.mid"
    out = StringIO()
    call_command("generate", "gan", str(source), "-o", str(out_path), "--param", "programs=52,52,52", "--seed", "11",
                 "--json", stdout=out)
    assert json.loads(out.getvalue())["seed"] == 11
    result = load_midi(out_path)
    melody, *parts = result.instruments
    assert [(n.pitch, round(n.start, 4)) for n in melody.notes] == [(p, round(s * 0.6, 4)) for p, s, _e in FOLK]
    assert [p.program for p in parts] == [52, 52, 52]
    pitches = [np.array([n.pitch for n in part.notes]) for part in parts]
    assert all(len(p) >= 8 for p in pitches)  # parts that move, not one held chord
    in_key = np.mean([pc in G_MAJOR for p in pitches for pc in p % 12])
    assert in_key >= 0.8, in_key
    assert np.median(pitches[0]) > np.median(pitches[1]) > np.median(pitches[2])  # alto over tenor over bass
    assert np.median(pitches[0]) < 71  # under the melody


@pytest.mark.slow
def test_the_shipped_checkpoint_harmonizes_test_chorales_and_seeds_differ():
    """Two test-split chorale sopranos through the shipped GAN, seeds 0 and 1: the parts sound with the melody as
    issue 20 asks (pooled over both), notes are held, and the two seeds give different accompaniments."""
    from generation.engine.dataset import load_chorales, pieces_split
    from generation.engine.loading import load_default_model
    from generation.engine.models.gan.encoding import top_line
    from generation.engine.models.gan.musician import notes_differing, piece_counts, pooled, ratio
    from generation.engine.models.gan.sampler import generate
    from generation.engine.representation import midi_to_rolls

    model, _meta = load_default_model("gan")
    ranges = [(57, 72), (52, 66), (38, 60)]  # the chorales' alto, tenor, bass (1st-99th percentile, train split)
    rows, differing = [], []
    for piece in pieces_split(load_chorales(), "test")[:2]:
        pm = piece.to_midi()
        pm.instruments = pm.instruments[:1]
        t = piece.rolls.shape[1]
        outs = []
        for seed in (0, 1):
            rolls = midi_to_rolls(generate(model, pm, {}, seed=seed), min_steps=t)
            lines = [top_line(rolls.tracks[v][:t], rolls.onsets[v][:t]) for v in range(4)]
            outs.append((np.stack([p for p, _ in lines]), np.stack([o for _, o in lines])))
        real = np.stack([top_line(piece.rolls[v], piece.onsets[v])[0] for v in range(4)])
        rows.append(piece_counts(*outs[0], key=(0, "major"), ranges=ranges, real=real))
        differing.append(notes_differing(*outs))
    measured = pooled(rows)
    assert measured["consonant_beats"] >= 0.75, measured
    assert measured["second_seventh_beats"] <= 0.2, measured
    assert measured["chord_beats"] >= 0.85, measured
    assert measured["bach_chord_notes"] >= 0.5, measured
    assert measured["note_beats"] >= 0.7, measured
    assert measured["parallels_per_100"] <= 1.5, measured
    assert ratio((sum(d[0] for d in differing), sum(d[1] for d in differing))) >= 0.25
