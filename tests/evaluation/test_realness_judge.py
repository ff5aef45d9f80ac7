"""Realness that judges the music (issue 23): negatives by what is wrong, never by who made it; performance
augmentation; inaudible notes as silence; a transposition-invariant input; adversarial families and the hill-climb;
the entry page's explanations (reference ranges, the least style-like passages)."""

from __future__ import annotations

import itertools

import numpy as np
import pretty_midi
import pytest

from evaluation.automatic import AUDIBLE_VELOCITY, ScoringError, heard, realness_passages, score_pieces
from evaluation.views.charts import passage_marks, score_bars
from generation.engine import registry
from generation.engine.dataset import load_chorales, pieces_split, transpose
from generation.engine.hill_climb import climb, mutate, start_piece
from generation.engine.models.discriminator.data import (
    anchored,
    feature_windows,
    performed,
    piece_features,
    piece_windows,
)
from generation.engine.models.discriminator.train import family_corruptors
from generation.engine.recombined_music import CORPUS, corpus_sources, inversion, retrograde, voice_shifted
from generation.engine.representation import roll_to_notes
from generation.engine.trivial_music import parallel_scale


@pytest.fixture(scope="module")
def chorale():
    return pieces_split(load_chorales(), "test")[0]


# ------------------------------------------------------------------------------------- negatives by what is wrong
def test_no_generator_output_is_a_negative():
    """The families the discriminator trains and is measured on are musical faults; no registered generator's name
    (its output) is among them, and training no longer receives generators' outputs at all."""
    import inspect

    from generation.engine import runs
    from generation.engine.models.discriminator import train

    families = set(family_corruptors(corpus=corpus_sources(pieces_split(load_chorales(), "valid")[:3])))
    generators = set(registry.generator_names())
    assert not families & generators
    assert not any(name.startswith(tuple(generators)) for name in families)
    assert "generated" not in inspect.signature(train.train).parameters
    assert "generated_families" not in inspect.getsource(runs)
    assert {"parallel_scale", "parallel_arpeggio", "retrograde", "inversion", "voice_shifted", *CORPUS} <= families


# ------------------------------------------------------------------------------------- performance augmentation
def test_performed_shortens_stretches_and_moves_notes(chorale):
    tracks, onsets = chorale.rolls[:, :64], chorale.onsets[:, :64]
    p0, s0, e0 = roll_to_notes(tracks[0], onsets[0])
    staccato, st_on = performed(tracks, onsets, 64, articulation=0.4)
    p1, s1, e1 = roll_to_notes(staccato[0], st_on[0])
    assert np.array_equal(p0, p1)
    assert np.array_equal(s0, s1)
    assert (e1 - s1).sum() < 0.6 * (e0 - s0).sum()  # shorter (40 % of each value, at least one step)
    slow, slow_on = performed(tracks, onsets, 128, factor=2.0)
    p2, s2, _e2 = roll_to_notes(slow[0], slow_on[0])
    assert np.array_equal(s2, 2 * s0)
    assert np.array_equal(p2, p0)
    jittered, _ = performed(tracks, onsets, 64, jitter_steps=0.24, rng=np.random.default_rng(0))
    assert np.array_equal(jittered, tracks)  # +- 30 ms moves no onset off its 125-ms step


# ------------------------------------------------------------------------------------- transposition invariance
def test_anchored_windows_are_the_same_in_every_key(chorale):
    base = piece_windows(chorale.rolls, chorale.onsets, 64, 32, n_pitches=64)
    for shift in (-7, -1, 5, 11):
        moved = piece_windows(transpose(chorale.rolls, shift), transpose(chorale.onsets, shift), 64, 32, n_pitches=64)
        assert np.array_equal(base, moved), shift
    assert base.shape[-1] == 64


def test_notes_beyond_the_anchored_rows_fold_into_the_top_row():
    tracks = np.zeros((1, 64, 128), dtype=bool)
    tracks[0, :, 30] = True
    tracks[0, 10:20, 120] = True  # 90 semitones above the lowest note
    x = anchored(feature_windows(piece_features(tracks), 64, 64), 64)
    assert x[0, 4, :, 0].all()
    assert x[0, 4, 10:20, 63].all()
    assert not x[0, 4, :10, 63].any()


# ------------------------------------------------------------------------------------- adversarial families
def test_recombinations_are_made_from_the_real_notes(chorale):
    rng = np.random.default_rng(0)
    tracks, onsets = chorale.rolls, chorale.onsets
    back, _back_on = retrograde(*retrograde(tracks, onsets, rng), rng)
    assert np.array_equal(back.any(axis=0), tracks.any(axis=0))  # backwards twice: the piece again
    inv, _ = inversion(tracks, onsets, rng)
    assert inv.sum() == tracks.sum()
    assert not np.array_equal(inv.any(axis=0), tracks.any(axis=0))
    shifted, _ = voice_shifted(tracks, onsets, rng)
    assert shifted.shape == tracks.shape
    assert not np.array_equal(shifted, tracks)
    corpus = corpus_sources(pieces_split(load_chorales(), "test")[:6])
    for name, family in CORPUS.items():
        out, out_on = family(corpus, 240, rng)
        assert out.shape[1:] == (240, 128), name
        assert out[:, :200].any(axis=(0, 2)).mean() > 0.8, name  # music all along, not silence
        assert not (out_on & ~out).any(), name


def test_the_hill_climb_never_lets_its_objective_drop():
    """The adversary keeps a mutation only when the objective does not drop: here, notes of C major (a stand-in
    objective any scorer can replace)."""
    c_major = np.zeros(128, dtype=bool)
    c_major[[p for p in range(128) if p % 12 in (0, 2, 4, 5, 7, 9, 11)]] = True

    def in_c(tracks, onsets):
        notes = tracks.any(axis=0)
        return float(notes[:, c_major].sum() / max(1, notes.sum()))

    seen = []
    climber = climb(in_c, 96, 150, np.random.default_rng(3), on_step=lambda c: seen.append(c.score))
    assert all(b >= a for a, b in itertools.pairwise(seen))
    assert (climber.steps == 150 and seen[-1] > seen[0]) or seen[0] == 1.0
    voices = start_piece(96, np.random.default_rng(0))
    assert sum(len(p) for p, _s, _e in voices) > 0
    changed = mutate(voices, np.random.default_rng(1))
    assert any(len(a[0]) != len(b[0]) or not np.array_equal(a[0], b[0]) or not np.array_equal(a[2], b[2])
               for a, b in zip(voices, changed, strict=True))  # fmt: skip
    tracks, _ = parallel_scale(96, np.random.default_rng(0))
    assert tracks.shape[0] == 4


# ------------------------------------------------------------------------------------- what the scorer hears
def _chorale_midi(chorale, velocity: int = 80) -> pretty_midi.PrettyMIDI:
    pm = chorale.to_midi()
    for inst in pm.instruments:
        for n in inst.notes:
            n.velocity = velocity
    return pm


def test_inaudible_notes_are_silence(chorale):
    pm = _chorale_midi(chorale)
    noisy = _chorale_midi(chorale)
    ghost = pretty_midi.Instrument(program=0, name="ghost")
    ghost.notes = [pretty_midi.Note(AUDIBLE_VELOCITY - 1, 30 + i % 40, i * 0.1, i * 0.1 + 0.1) for i in range(200)]
    noisy.instruments.append(ghost)
    assert sum(len(i.notes) for i in heard(noisy).instruments) == sum(len(i.notes) for i in pm.instruments)
    a, b = score_pieces([pm]), score_pieces([noisy])
    assert b.automatic_unpenalized == pytest.approx(a.automatic_unpenalized)
    assert b.parts["metrics"]["pitch_range"]["value"] == a.parts["metrics"]["pitch_range"]["value"]
    with pytest.raises(ScoringError):
        score_pieces([_chorale_midi(chorale, velocity=AUDIBLE_VELOCITY - 1)])  # nobody hears it: nothing to score
    assert len(noisy.instruments) == len(pm.instruments) + 1  # the entry itself is left as it was


# ------------------------------------------------------------------------------------- explained on the page
def test_parts_give_each_metric_its_reference_range_and_the_lowest_passages(chorale):
    result = score_pieces([_chorale_midi(chorale)])
    for name, metric in result.parts["metrics"].items():
        assert metric["p10"] <= metric["p90"], name
        expected = ("below" if metric["value"] < metric["p10"] else
                    "above" if metric["value"] > metric["p90"] else "within")  # fmt: skip
        assert metric["direction"] == expected
    passages = result.parts["realness_passages"]
    assert passages["windows"]
    assert passages["text"]
    mean = np.mean([w["realness"] for w in passages["windows"]])
    assert result.parts["realness_model"]["realness"] == pytest.approx(mean, abs=1e-3)
    bars = score_bars(style=result.style, realness=result.realness, parts=result.parts)
    assert any("reference 10-90 %" in b.text for b in bars)


def test_the_lowest_passages_are_named_and_placed_on_the_piano_roll():
    probs = np.array([0.9, 0.05, 0.8, 0.3, 0.95])
    spans = [(0, 8), (4, 12), (8, 16), (12, 20), (16, 24)]
    parts = realness_passages(probs, spans, 24.0)
    assert [w["start"] for w in parts["lowest"]] == [4, 12]
    assert "0:04-0:12 (realness 0.05)" in parts["text"]
    assert "0:12-0:20 (realness 0.30)" in parts["text"]
    marks = passage_marks({"realness_passages": parts, "n_outputs": 1})
    assert len(marks) == 2
    assert marks[0].left < marks[1].left
    assert marks[0].width == pytest.approx(marks[1].width)
    assert all(m.left >= 0 and m.left + m.width <= 100 for m in marks)
    fine = realness_passages(np.array([0.9, 0.8]), [(0, 8), (4, 12)], 12.0)
    assert fine["lowest"] == []
    assert "Every passage" in fine["text"]


def test_the_shipped_model_gives_the_same_realness_in_every_key(chorale):
    from evaluation.realness import load_model, model_identity
    from generation.engine.models.discriminator.model import realness

    model = load_model()
    assert model.config.n_pitches < 128  # read from each window's lowest note: no transposition averaging
    base = realness(model, chorale.rolls, chorale.onsets)
    for shift in (-6, -1, 4, 9):
        assert realness(model, transpose(chorale.rolls, shift), transpose(chorale.onsets, shift)) == pytest.approx(
            base, abs=1e-6
        )
    assert model_identity(model) == model_identity(model)
    assert len(model_identity(model)) == 16


def test_a_legacy_absolute_pitch_model_still_scores_one_figure_per_window(chorale):
    """Challenge models trained before the anchored input (n_pitches 128) load and score as before: each window
    averaged over the 8 transpositions, one figure per window."""
    from generation.engine.models.discriminator.data import window_starts
    from generation.engine.models.discriminator.model import build_model, realness_by_window
    from generation.engine.models.discriminator.spec import config_from_dict

    model = build_model(config_from_dict({"n_pitches": 128, "channels": 4, "pitch_kernel": 5}))
    probs = realness_by_window(model, chorale.rolls, chorale.onsets)
    assert len(probs) == len(window_starts(chorale.rolls.shape[1], 64, 32))
    assert ((probs >= 0) & (probs <= 1)).all()
