"""AR-CNN sampler: budgets, seeding, long inputs, other tracks kept, the shipped checkpoint generates."""

import numpy as np
import pytest
import torch

from generation.engine.errors import MidiValidationError
from generation.engine.loading import load_default_model
from generation.engine.midi_io import melody_track
from generation.engine.models.arcnn.model import ARCNN
from generation.engine.models.arcnn.sampler import edit_rolls
from generation.engine.models.arcnn.spec import ARCNNConfig
from generation.engine.pipeline import generate as pipeline_generate
from generation.engine.representation import midi_to_rolls
from tests.engine.midi_factory import make_pm, note_tuples

TINY = ARCNNConfig(base_channels=4, levels=2, max_channels=8, window_steps=32)


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return ARCNN(TINY).eval()


def _scale_melody(n_bars: int, start_pitch: int = 60) -> list[tuple[int, float, float]]:
    steps = [0, 2, 4, 5, 7, 9, 11, 12, 11, 9, 7, 5, 4, 2]
    return [(start_pitch + steps[i % len(steps)], i, i + 1) for i in range(4 * n_bars)]


def _removed_notes(original: torch.Tensor, edited: torch.Tensor) -> list[int]:
    """Per sample: the input's notes (runs of cells) not kept whole."""
    from generation.engine.representation import roll_to_notes

    out = []
    for x, y in zip(original.numpy(), edited.numpy(), strict=True):
        pitches, starts, ends = roll_to_notes(x)
        out.append(sum(not y[s:e, p].all() for p, s, e in zip(pitches, starts, ends, strict=True)))
    return out


def _n_notes(original: torch.Tensor) -> list[int]:
    from generation.engine.representation import roll_to_notes

    return [len(roll_to_notes(x)[0]) for x in original.numpy()]


def _budget_check(original: torch.Tensor, edited: torch.Tensor, max_add: int, max_remove_pct: float) -> None:
    added = (edited & ~original).sum(dim=(1, 2))
    assert (added <= max_add).all(), added
    for removed, n in zip(_removed_notes(original, edited), _n_notes(original), strict=True):
        assert removed <= int(n * max_remove_pct / 100 + 1e-9), (removed, n)


def test_budgets_hold_when_the_model_wants_to_add(tiny_model):
    original = torch.zeros(3, 32, 128, dtype=torch.bool)
    original[:, :, 60] = True  # one long note: almost every cell is empty, so most flips would add
    edited = edit_rolls(tiny_model, original, iterations=100, temperature=6.0, max_add=5, max_remove_pct=10,
                        generator=torch.Generator().manual_seed(0))
    _budget_check(original, edited, 5, 10)
    assert (edited & ~original).sum(dim=(1, 2)).max() >= 4  # the budget was reached (then an added cell may go)


def test_budgets_hold_when_the_model_wants_to_remove(tiny_model):
    generator = torch.Generator().manual_seed(1)
    original = torch.rand(2, 32, 128, generator=generator) < 0.5  # dense: many notes (runs), most flips remove
    edited = edit_rolls(tiny_model, original, iterations=100, temperature=6.0, max_add=50, max_remove_pct=1,
                        generator=generator)
    _budget_check(original, edited, 50, 1)
    limits = [int(n * 0.01) for n in _n_notes(original)]
    assert min(limits) >= 5
    assert all(r >= limit - 2 for r, limit in zip(_removed_notes(original, edited), limits, strict=True))  # binding
    untouched = edit_rolls(tiny_model, original, iterations=0, temperature=1.0, max_add=50, max_remove_pct=100,
                           generator=generator)
    assert torch.equal(untouched, original)


def test_an_edit_is_a_note_and_iterations_bound_the_edits(tiny_model):
    from dataclasses import replace

    from generation.engine.representation import roll_to_notes

    original = torch.zeros(1, 32, 128, dtype=torch.bool)
    original[0, :16, 60] = True
    original[0, 16:, 62] = True
    model = ARCNN(replace(TINY, sustain_steps=4, pitch_low=40, pitch_high=70))
    model.load_state_dict(tiny_model.state_dict())
    for iterations in (1, 3, 7):
        edited = edit_rolls(model, original, iterations=iterations, temperature=1.0, max_add=500, max_remove_pct=0,
                            generator=torch.Generator().manual_seed(0))
        new_notes = len(roll_to_notes((edited & ~original)[0].numpy())[0])
        assert 1 <= new_notes <= iterations
        assert int((edited ^ original).sum()) <= 4 * iterations  # a note is at most sustain_steps cells


def test_generate_is_seedable_and_keeps_other_tracks(tiny_model):
    bass = [(40 + (i % 5), 4 * i, 4 * i + 4) for i in range(8)]
    drums = [(36, i, i + 0.5) for i in range(32)]
    pm = make_pm([drums, _scale_melody(8), bass], tempo=90.0, time_signature=(3, 4), drum_tracks=[0])
    params = {"iterations": 30}
    first = generate(tiny_model, pm, params, seed=7)
    again = generate(tiny_model, pm, params, seed=7)
    other = generate(tiny_model, pm, params, seed=8)
    beat = 60.0 / 90.0
    assert note_tuples(first, 1, beat=beat) == note_tuples(again, 1, beat=beat)
    assert note_tuples(first, 1, beat=beat) != note_tuples(other, 1, beat=beat)
    assert note_tuples(first, 1, beat=beat) != note_tuples(pm, 1, beat=beat)
    for track in (0, 2):  # drums and bass unchanged
        assert note_tuples(first, track, beat=beat) == note_tuples(pm, track, beat=beat)
    assert first.get_tempo_changes()[1][0] == pytest.approx(90.0)
    ts = first.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (3, 4)


def test_generate_with_zero_iterations_returns_the_input(tiny_model):
    pm = make_pm([_scale_melody(4)])
    out = generate(tiny_model, pm, {"iterations": 0}, seed=1)
    assert note_tuples(out, 0, beat=0.5) == note_tuples(pm, 0, beat=0.5)


def test_generate_respects_budgets_on_midi(tiny_model):
    pm = make_pm([_scale_melody(8)])
    params = {"iterations": 100, "max_add": 50, "max_remove_pct": 5, "temperature": 6}
    out = generate(tiny_model, pm, params, seed=0)
    before, after = midi_to_rolls(pm).tracks[0], midi_to_rolls(out).tracks[0]
    steps = max(len(before), len(after))
    before = np.pad(before, ((0, steps - len(before)), (0, 0)))
    after = np.pad(after, ((0, steps - len(after)), (0, 0)))
    assert (after & ~before).sum() <= 50
    kept = {(n.pitch, round(n.start, 4), round(n.end, 4)) for n in out.instruments[0].notes}
    gone = [n for n in pm.instruments[0].notes if (n.pitch, round(n.start, 4), round(n.end, 4)) not in kept]
    assert len(gone) <= int(len(pm.instruments[0].notes) * 0.05)


def test_thirty_two_bars_work(tiny_model):
    pm = make_pm([_scale_melody(32), [(36, 4 * i, 4 * i + 4) for i in range(32)]])
    out = generate(tiny_model, pm, {"iterations": 20}, seed=0)
    assert len(out.instruments) == 2
    assert note_tuples(out, 1, beat=0.5) == note_tuples(pm, 1, beat=0.5)
    assert max(n.end for n in out.instruments[0].notes) <= 32 * 4 * 0.5 + 1e-6


def generate(model, pm, params: dict, seed: int):
    """The AR-CNN through the one generation path (as every caller runs a sampler)."""
    return pipeline_generate("arcnn", pm, {**params, "seed": seed}, model=model).midi


def test_melody_is_the_first_non_drum_track_with_notes():
    pm = make_pm([[(36, 0, 1)], [], _scale_melody(1)], drum_tracks=[0])
    assert melody_track(pm) == 2
    with pytest.raises(MidiValidationError):
        melody_track(make_pm([[(36, 0, 1)]], drum_tracks=[0]))


@pytest.mark.slow
def test_shipped_checkpoint_generates_on_a_chorale_melody():
    from generation.engine.dataset import load_chorales, pieces_split

    model, meta = load_default_model("arcnn")
    assert meta["architecture"] == "arcnn"
    piece = pieces_split(load_chorales(), "test")[0]
    pm = piece.to_midi()
    out = generate(model, pm, {}, 11)
    assert len(out.instruments) == 4
    beat = 60.0 / piece.tempo_bpm
    assert note_tuples(out, 0, beat=beat) != note_tuples(pm, 0, beat=beat)
    for track in (1, 2, 3):
        assert note_tuples(out, track, beat=beat) == note_tuples(pm, track, beat=beat)
    kept = {(n.pitch, round(n.start, 4)) for n in out.instruments[0].notes}
    assert all((n.pitch, round(n.start, 4)) in kept for n in pm.instruments[0].notes)  # the tune stays
    assert 0 < len(out.instruments[0].notes) - len(pm.instruments[0].notes) <= 100  # at most 100 edits


def test_no_note_is_added_outside_the_training_pitch_range_even_at_temperature_6():
    from dataclasses import replace

    torch.manual_seed(0)
    model = ARCNN(replace(TINY, pitch_low=55, pitch_high=70)).eval()
    original = torch.zeros(4, 32, 128, dtype=torch.bool)
    original[:, :, 60] = True
    original[:, 0:4, 40] = True  # an input note below the range: the user's, it may stay
    edited = edit_rolls(model, original, iterations=100, temperature=6.0, max_add=500, max_remove_pct=100,
                        generator=torch.Generator().manual_seed(0))
    added = edited & ~original
    assert added.sum() > 50  # the sampler did add notes ...
    pitches = added.any(dim=1).nonzero()[:, 1]
    assert pitches.min() >= 55
    assert pitches.max() <= 70
    unmasked = edit_rolls(ARCNN(TINY).eval(), original, iterations=100, temperature=6.0, max_add=500,
                          max_remove_pct=100, generator=torch.Generator().manual_seed(0))
    outside = (unmasked & ~original).any(dim=1).nonzero()[:, 1]
    assert ((outside < 55) | (outside > 70)).any()  # without the mask, temperature 6 goes everywhere


@pytest.mark.parametrize("per_pass", [2, 3])
def test_several_flips_per_pass_make_as_many_edits_within_budgets(per_pass):
    from dataclasses import replace

    torch.manual_seed(0)
    model = ARCNN(replace(TINY, flips_per_pass=per_pass)).eval()
    original = torch.zeros(2, 32, 128, dtype=torch.bool)
    original[:, :, 60] = True
    edited = edit_rolls(model, original, iterations=7, temperature=1.0, max_add=500, max_remove_pct=100,
                        generator=torch.Generator().manual_seed(0))
    assert ((edited ^ original).sum(dim=(1, 2)) <= 7).all()  # one cell a note (sustain 0), at most 7 edits
    assert ((edited ^ original).sum(dim=(1, 2)) >= 5).all()  # the cells of one pass are distinct
    tight = edit_rolls(model, original, iterations=100, temperature=6.0, max_add=5, max_remove_pct=10,
                       generator=torch.Generator().manual_seed(1))
    _budget_check(original, tight, 5, 10)


def test_key_mask_adds_only_in_the_inputs_key():
    from dataclasses import replace

    from generation.engine.models.arcnn.sampler import estimate_key

    original = torch.zeros(2, 32, 128, dtype=torch.bool)
    c_major = [60, 64, 67, 72, 65, 62, 59, 60]  # C E G C F D B C: C major
    for i, pitch in enumerate(c_major):
        original[0, 4 * i : 4 * i + 4, pitch] = True
        original[1, 4 * i : 4 * i + 4, pitch + 2] = True  # the same tune in D major
    assert estimate_key(original[0].numpy()) == (0, "major")
    assert estimate_key(original[1].numpy()) == (2, "major")
    torch.manual_seed(0)
    model = ARCNN(replace(TINY, key_mask=True)).eval()
    edited = edit_rolls(model, original, iterations=100, temperature=6.0, max_add=500, max_remove_pct=100,
                        generator=torch.Generator().manual_seed(0))
    for b, tonic in ((0, 0), (1, 2)):
        added = (edited[b] & ~original[b]).any(dim=0).nonzero().flatten()
        assert len(added) > 5
        assert {(int(p) - tonic) % 12 for p in added} <= {0, 2, 4, 5, 7, 9, 11}


def test_an_added_note_is_held_within_the_inputs_note():
    from dataclasses import replace

    from generation.engine.representation import roll_to_notes

    original = torch.zeros(2, 32, 128, dtype=torch.bool)
    for i, pitch in enumerate([72, 74, 76, 77]):  # four half notes: onsets at 0, 8, 16, 24
        original[:, 8 * i : 8 * i + 8, pitch] = True
    torch.manual_seed(0)
    model = ARCNN(replace(TINY, sustain_steps=8, pitch_low=40, pitch_high=70)).eval()
    edited = edit_rolls(model, original, iterations=10, temperature=1.0, max_add=500, max_remove_pct=0,
                        generator=torch.Generator().manual_seed(0))
    added = edited & ~original
    assert torch.equal(edited & original, original)  # max_remove_pct 0: every input note stays
    for b in range(2):
        _pitches, starts, ends = roll_to_notes(added[b].numpy())
        assert 1 <= len(starts) <= 10  # one note an edit
        assert (ends - starts).max() > 1  # notes, not only sixteenths
        spans = zip(starts.tolist(), ends.tolist(), strict=True)
        assert all(s // 8 == (e - 1) // 8 for s, e in spans)  # no onset of the input crossed


# --------------------------------------------------------- each parameter does what docs/models.md says (shipped model)
# A C-major tune of my own (8 bars of 4/4, quarter and half notes, ending on C), and the same tune with six wrong
# notes laid over it: sixteenth and eighth notes a semitone off the key, between its notes.
TUNE = [(64, 0, 1), (67, 1, 2), (72, 2, 4), (71, 4, 5), (69, 5, 6), (67, 6, 8), (65, 8, 9), (64, 9, 10), (62, 10, 12),
        (64, 12, 13), (65, 13, 14), (67, 14, 16), (69, 16, 17), (71, 17, 18), (72, 18, 20), (74, 20, 21), (72, 21, 22),
        (71, 22, 24), (69, 24, 25), (67, 25, 26), (65, 26, 27), (64, 27, 28), (62, 28, 30), (60, 30, 32)]
WRONG = [(61, 3, 3.25), (66, 7, 7.5), (70, 11, 11.25), (63, 15, 15.5), (68, 23, 23.25), (73, 29, 29.5)]


@pytest.fixture(scope="module")
def shipped():
    return load_default_model("arcnn")[0]


def _tune(notes) -> "pretty_midi.PrettyMIDI":  # noqa: F821
    import pretty_midi

    pm = make_pm([notes], tempo=100.0)
    pm.key_signature_changes.append(pretty_midi.KeySignature(0, 0.0))  # C major, as the file says
    return pm


def _kept_and_added(pm, out) -> tuple[int, int, int]:
    """(input notes kept, input notes removed, cells added) of an edit."""
    beat = 60.0 / 100.0
    before, after = set(note_tuples(pm, 0, beat=beat)), set(note_tuples(out, 0, beat=beat))
    added_cells = sum(round((e - s) * 4) for p, s, e in after - before)
    return len(before & after), len(before - after), added_cells


@pytest.mark.slow
def test_max_remove_pct_lets_removals_happen_on_a_melody_with_wrong_notes(shipped):
    pm = _tune(sorted(TUNE + WRONG, key=lambda n: n[1]))
    beat = 60.0 / 100.0
    before = set(note_tuples(pm, 0, beat=beat))
    wrong = set(note_tuples(_tune(WRONG), 0, beat=beat))
    for seed in (0, 1, 3):
        gone = {pct: before - set(note_tuples(generate(shipped, pm, {"max_remove_pct": pct}, seed=seed), 0,
                                               beat=beat))
                for pct in (0, 5, 100)}
        assert not gone[0]  # 0: nothing of yours goes
        assert len(gone[5]) <= 1  # 5 % of 30 notes: one at most
        assert len(gone[100]) >= 2  # the model deletes wrong notes when it may ...
        assert gone[100] <= wrong  # ... and only those


@pytest.mark.slow
def test_max_add_caps_additions_and_never_removes_input_notes(shipped):
    pm = _tune(TUNE)
    for max_add in (50, 500):
        kept, removed, added = _kept_and_added(pm, generate(shipped, pm, {"max_add": max_add}, seed=1))
        assert added <= max_add
        assert removed == 0
        assert kept == len(TUNE)
    assert _kept_and_added(pm, generate(shipped, pm, {"max_add": 50}, seed=1))[2] >= 40  # the cap binds


@pytest.mark.slow
def test_temperature_changes_the_sampling(shipped):
    pm = _tune(TUNE)
    outs = [note_tuples(generate(shipped, pm, {"temperature": t}, seed=5), 0, beat=0.6) for t in (0.5, 1.0, 6.0)]
    assert outs[0] != outs[1] != outs[2] != outs[0]


@pytest.mark.slow
def test_iterations_is_a_maximum_and_the_sampler_stops_when_done(shipped):
    pm = _tune(TUNE)
    n_notes = [len(generate(shipped, pm, {"iterations": k}, seed=2).instruments[0].notes) - len(TUNE)
               for k in (0, 5, 100)]
    assert n_notes[0] == 0
    assert 1 <= n_notes[1] <= 5
    assert n_notes[1] < n_notes[2] <= 100
    # a whole chorale (all four voices in the edited track) has little left to change: it stops long before 100
    from generation.engine.dataset import load_chorales, pieces_split

    piece = pieces_split(load_chorales(), "test")[1]
    merged = torch.from_numpy(piece.rolls.any(axis=0)[:128].copy()).unsqueeze(0)
    edited = edit_rolls(shipped, merged, iterations=100, temperature=1.0, max_add=500, max_remove_pct=10,
                        generator=torch.Generator().manual_seed(0))
    alone = torch.from_numpy(piece.rolls[0][:128].copy()).unsqueeze(0)
    harmonized = edit_rolls(shipped, alone, iterations=100, temperature=1.0, max_add=500, max_remove_pct=10,
                            generator=torch.Generator().manual_seed(0))
    assert int((edited ^ merged).sum()) < int((harmonized ^ alone).sum()) / 3


# ------------------------------------------------------------------------------------------------- the chord rule
def test_a_beats_chord_holds_what_sounds_and_what_the_model_wants():
    from generation.engine.models.arcnn.chords import beat_chords

    roll = np.zeros((1, 8, 128), bool)
    roll[0, :, [71, 62]] = True  # B and D sound through both beats
    wish = np.zeros((1, 8, 128))
    wish[0, :4, 55] = 1.0  # beat 1: the model wants a G; beat 2: an F
    wish[0, 4:, 53] = 1.0
    c_major = np.zeros((1, 12), bool)
    c_major[0, [0, 2, 4, 5, 7, 9, 11]] = True
    chords = beat_chords(roll, wish, c_major, model_weight=1.0, tone_cost=0.1)
    assert set(np.flatnonzero(chords[0, 0])) == {7, 11, 2}  # G major
    assert set(np.flatnonzero(chords[0, 1])) == {11, 2, 5}  # B diminished: the triad beats G7 (one tone fewer)
    no_f = c_major.copy()
    no_f[0, 5] = False
    assert set(np.flatnonzero(beat_chords(roll, wish, no_f, model_weight=1.0, tone_cost=0.1)[0, 1])) == {7, 11, 2}


def test_every_added_note_belongs_to_the_chord_of_its_beat():
    """With the melody-degree prior dominating, each beat's chord is known before sampling (chords.chord_prior's
    best under the melody); an untrained model at temperature 6 adds anywhere in the key without the rule, and only
    that chord's tones, held only within it, with it."""
    from dataclasses import replace

    from generation.engine.models.arcnn.chords import CHORDS, chord_prior
    from generation.engine.representation import roll_to_notes

    original = torch.zeros(1, 32, 128, dtype=torch.bool)
    for beat, pitch in enumerate([72, 76, 79, 77, 74, 71, 72, 67]):  # C E G F D B C G, one a beat
        original[0, 4 * beat : 4 * beat + 4, pitch] = True
    c_major = torch.zeros(1, 12, dtype=torch.bool)
    c_major[0, [0, 2, 4, 5, 7, 9, 11]] = True
    expected = CHORDS[chord_prior(original[0].numpy(), (0, "major")).argmax(axis=1)]  # (beats, 12)
    torch.manual_seed(0)
    free = replace(TINY, key_mask=True, sustain_steps=4, pitch_low=40, pitch_high=70)
    outside = 0
    for rule in (True, False):
        model = ARCNN(replace(free, chord_rule=rule, chord_prior_weight=100.0)).eval()
        edited = edit_rolls(model, original, iterations=100, temperature=6.0, max_add=500, max_remove_pct=0,
                            key_classes=c_major, generator=torch.Generator().manual_seed(0))
        pitches, starts, ends = roll_to_notes((edited & ~original)[0].numpy())
        assert len(pitches) > 10
        fits = [all(expected[step // 4, p % 12] for step in range(s, e))
                for p, s, e in zip(pitches.tolist(), starts.tolist(), ends.tolist(), strict=True)]
        if rule:
            assert all(fits)
        else:
            outside = fits.count(False)
    assert outside > 3  # without the rule, notes outside the chord are added


def test_tied_additions_hold_a_tone_across_the_melodys_notes_up_to_the_sustain():
    from dataclasses import replace

    from generation.engine.representation import roll_to_notes

    original = torch.zeros(2, 32, 128, dtype=torch.bool)
    for i in range(16):  # eighth notes: the input's segments are 2 steps long
        original[:, 2 * i : 2 * i + 2, 72 + (i % 2) * 2] = True
    torch.manual_seed(0)
    lengths = {}
    for tie in (False, True):
        model = ARCNN(replace(TINY, sustain_steps=4, pitch_low=50, pitch_high=60, tie_added=tie)).eval()
        edited = edit_rolls(model, original, iterations=100, temperature=1.0, max_add=500, max_remove_pct=0,
                            generator=torch.Generator().manual_seed(0))
        assert torch.equal(edited & original, original)
        lengths[tie] = [int(e - s) for b in range(2) for _p, s, e in zip(*roll_to_notes((edited & ~original)[b]
                                                                                         .numpy()), strict=True)]
    assert max(lengths[False]) == 2  # re-struck every melody note
    assert max(lengths[True]) == 4  # held across two melody notes, the sustain at most


def test_max_voices_and_min_add_steps_bound_what_is_added():
    from dataclasses import replace

    from generation.engine.representation import roll_to_notes

    original = torch.zeros(2, 32, 128, dtype=torch.bool)
    for i in range(8):  # quarter notes
        original[:, 4 * i : 4 * i + 4, 60 + 2 * (i % 3)] = True
    torch.manual_seed(0)
    for voices, min_steps in ((0, 1), (2, 3)):
        model = ARCNN(replace(TINY, sustain_steps=4, pitch_low=40, pitch_high=70, max_voices=voices,
                              min_add_steps=min_steps)).eval()
        edited = edit_rolls(model, original, iterations=100, temperature=6.0, max_add=500, max_remove_pct=0,
                            generator=torch.Generator().manual_seed(0))
        lengths = [int(e - s) for b in range(2)
                   for _p, s, e in zip(*roll_to_notes((edited & ~original)[b].numpy()), strict=True)]
        most = int(edited.sum(dim=2).max())
        if voices:
            assert most <= voices
            assert min(lengths) >= min_steps
        else:
            assert most > 2  # unbounded: chords of several added notes ...
            assert min(lengths) < 3  # ... and shorter ones
