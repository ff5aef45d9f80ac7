"""GAN accompaniment sampler: the melody comes back note for note, parts move with the melody's key, seeds repeat,
and melodies at the edges (one note, 32+ bars, 3/4 and 6/8, very high or low, long rests) get stated adjustments."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest
import torch

from generation.engine.models.gan.model import accompany, build_model
from generation.engine.models.gan.sampler import MAX_BARS, adjustments_of, generate
from generation.engine.models.gan.spec import VOICE_RANGES, GANConfig
from generation.engine.representation import midi_to_rolls

from .midi_factory import make_pm

SMALL = GANConfig(hidden=16, noise_dim=4, critic_hidden=8)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(SMALL).eval()


def _tune(n_bars: int = 8, base: int = 67, beats_per_bar: int = 4, rest_bars: tuple[int, int] | None = None):
    """A folk-like melody: quarter and half notes on a major scale from ``base``, optional rest bars."""
    steps = [0, 2, 4, 5, 7, 5, 4, 2, 0, 4, 7, 12]
    notes, _beat = [], 0.0
    for i in range(n_bars * beats_per_bar):
        bar = i // beats_per_bar
        if rest_bars and rest_bars[0] <= bar < rest_bars[1]:
            continue
        notes.append((base + steps[i % len(steps)], float(i), float(i + 1)))
    return notes


def _notes(inst: pretty_midi.Instrument) -> list[tuple]:
    return [(n.pitch, n.start, n.end, n.velocity) for n in inst.notes]


def _parts(pm: pretty_midi.PrettyMIDI) -> list[list[tuple[int, float, float]]]:
    return [[(n.pitch, round(n.start, 6), round(n.end, 6)) for n in inst.notes] for inst in pm.instruments[1:]]


def test_melody_kept_note_for_note_and_three_programmed_tracks(model):
    pm = make_pm([_tune()], tempo=96)
    pm.instruments[0].notes[3].velocity = 101  # an odd velocity must survive too
    out = generate(model, pm, {"programs": [48, 52, 19]}, seed=1)
    assert _notes(out.instruments[0]) == _notes(pm.instruments[0])
    assert [(i.program, i.name) for i in out.instruments[1:]] == [(48, "Alto"), (52, "Tenor"), (19, "Bass")]
    assert out.get_end_time() <= pm.get_end_time() + 1e-6  # no part runs past the melody
    assert out.get_tempo_changes()[1][0] == pytest.approx(96)
    assert adjustments_of(out) == []


@pytest.mark.parametrize("semitones", [7, 12, -5])
def test_parts_follow_the_melody_into_another_key(model, semitones, monkeypatch):
    """The model reads the melody moved to its key and register, so a transposed melody gives the same parts,
    transposed back -- with the voices' sung ranges opened up: those do not move with the tune (see the next test)."""
    monkeypatch.setitem(VOICE_RANGES, "chorale", ((0, 127),) * 3)
    pm = make_pm([_tune()])
    moved = make_pm([[(p + semitones, s, e) for p, s, e in _tune()]])
    parts, moved_parts = _parts(generate(model, pm, {}, seed=3)), _parts(generate(model, moved, {}, seed=3))
    assert [[(p + semitones, s, e) for p, s, e in part] for part in parts] == moved_parts


def test_parts_stay_in_their_sung_ranges_whatever_the_tune_s_register(model):
    """The same tune a fifth lower: the parts are not dragged down with it -- each voice keeps its sung range."""
    low = make_pm([[(p - 7, s, e) for p, s, e in _tune()]])
    parts = generate(model, low, {}, seed=3).instruments[1:]
    inside = [sum(lo <= n.pitch <= hi for n in part.notes) / max(1, len(part.notes))
              for (lo, hi), part in zip(VOICE_RANGES["chorale"], parts, strict=True)]
    assert min(inside) >= 0.9, inside


def test_same_seed_same_output(model):
    pm = make_pm([_tune()])
    assert _parts(generate(model, pm, {}, seed=5)) == _parts(generate(model, pm, {}, seed=5))


def test_window_walk_keeps_each_window_and_continues_from_it(model):
    """A second window starts from the end of the first (given, not generated): the first window's parts come back
    unchanged when the melody goes on, and the walk covers every step."""
    cfg = model.config
    w, hop = cfg.window_steps, cfg.window_steps - cfg.context_steps
    n = hop + w
    rng = np.random.default_rng(0)
    pitch = rng.integers(62, 80, (1, n))
    onset = np.zeros((1, n), dtype=bool)
    onset[0, ::4] = True
    two = accompany(model, pitch, onset, 16, torch.Generator().manual_seed(0))[0]
    one = accompany(model, pitch[:, :w], onset[:, :w], 16, torch.Generator().manual_seed(0))[0]
    assert two.shape == (1, 3, n)
    assert one.shape == (1, 3, w)
    assert np.array_equal(two[:, :, :w], one)
    assert ((two >= cfg.lowest_pitch) | (two == -1)).all()


@pytest.mark.parametrize(("melody", "time_signature"), [
    ([(72, 0.0, 1.0)], (4, 4)),  # one note
    (_tune(1), (4, 4)),  # one bar
    (_tune(32), (4, 4)),  # the longest accepted
    (_tune(8, beats_per_bar=3), (3, 4)),
    ([(67 + (i % 5), 1.5 * i, 1.5 * i + 1.5) for i in range(16)], (6, 8)),
])
def test_edge_melodies(model, melody, time_signature):
    pm = make_pm([melody], time_signature=time_signature)
    out = generate(model, pm, {}, seed=0)
    assert _notes(out.instruments[0]) == _notes(pm.instruments[0])
    assert len(out.instruments) == 4
    ts = out.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == time_signature
    assert out.get_end_time() <= pm.get_end_time() + 1e-6


def test_longer_than_32_bars_is_stated(model):
    pm = make_pm([_tune(MAX_BARS + 4)])
    out = generate(model, pm, {}, seed=0)
    assert _notes(out.instruments[0]) == _notes(pm.instruments[0])
    bar_seconds = 2.0  # 4/4 at 120 bpm
    assert max(n.end for inst in out.instruments[1:] for n in inst.notes) <= MAX_BARS * bar_seconds + 1e-6
    assert any("longer than 32 bars" in a for a in adjustments_of(out))


# a bass line 65 semitones down is below pitch 0
@pytest.mark.parametrize(("base", "word"), [(118, None), (2, "low")])
def test_very_high_and_very_low_melodies_are_adjusted_not_refused(model, base, word):
    notes = [(min(127, max(0, p - 67 + base)), s, e) for p, s, e in _tune()]
    pm = make_pm([notes])
    out = generate(model, pm, {}, seed=0)
    assert _notes(out.instruments[0]) == _notes(pm.instruments[0])
    pitches = [n.pitch for inst in out.instruments[1:] for n in inst.notes]
    assert all(0 <= p <= 127 for p in pitches)
    said = " ".join(adjustments_of(out))
    assert "transposed" in said
    if word:
        assert f"so {word}" in said
    assert all(t.time == 0 for t in out.text_events)


def test_long_rests_silence_the_parts_and_are_stated(model):
    pm = make_pm([_tune(8, rest_bars=(2, 5))])
    out = generate(model, pm, {}, seed=0)
    assert any("rests from bar 3 to bar 5" in a for a in adjustments_of(out))
    for inst in out.instruments[1:]:
        assert not [n for n in inst.notes if n.end > 2 * 2.0 + 1e-6 and n.start < 5 * 2.0 - 1e-6]  # bars 3-5


def test_through_the_pipeline_every_input_track_is_kept_and_three_are_added(model):
    from generation.engine.pipeline import generate as pipeline_generate

    pm = make_pm([[(48, 0.0, 4.0)], _tune(2)], programs=[32, 73])  # the melody is the higher track, second in the file
    result = pipeline_generate("gan", pm, {"programs": "48,52,19", "seed": 4}, model=model)
    out = result.midi
    assert [_notes(i) for i in out.instruments[:2]] == [_notes(i) for i in pm.instruments]
    assert [i.program for i in out.instruments] == [32, 73, 48, 52, 19]
    assert any("track 2" in a for a in adjustments_of(out))
    assert midi_to_rolls(out).tracks.shape[0] == 5
    again = pipeline_generate("gan", pm, {"seed": 4}, model=model).midi  # other programs, same seed: same notes
    assert [_notes(i) for i in again.instruments[2:]] == [_notes(i) for i in out.instruments[2:]]
