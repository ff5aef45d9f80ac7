"""The Transformer continues the input as the same piece going on (issue 22), on tunes written note by note for these
tests (tests/engine/tunes.py: major, minor, dorian; 4/4, 3/4, 6/8; ♩ 72-200) and a four-voice hymn: no cluster of
note starts, no note shorter than the input's shortest, its tempo's grid, its key, its voices, its real end."""

import itertools

import numpy as np
import pretty_midi
import pytest
import torch

from generation.engine.keys import in_key_share, key_of
from generation.engine.loading import load_default_model
from generation.engine.models.transformer.model import Transformer
from generation.engine.models.transformer.sampler import grid_share, largest_chord, performance_of
from generation.engine.models.transformer.spec import TransformerConfig
from generation.engine.pipeline import generate
from tests.engine.tunes import TUNES, hymn_midi, tune_midi

INPUTS = [*TUNES, "hymn"]
# docs/models.md's sampling settings: the defaults, top-k, cold and hot nucleus, top-k over all at a high temperature
SAMPLING = [
    {},
    {"sampling": "topk", "k": 40},
    {"p": 0.5, "temperature": 0.5},
    {"p": 1.0, "temperature": 2},
    {"sampling": "topk", "k": 309, "temperature": 6},
]


def _midi(name: str) -> pretty_midi.PrettyMIDI:
    return hymn_midi() if name == "hymn" else tune_midi(name)


def _new(pm_in, pm_out):
    return [
        n
        for i, inst in enumerate(pm_out.instruments)
        if not inst.is_drum
        for n in inst.notes[len(pm_in.instruments[i].notes) :]
    ]


@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(1)
    return load_default_model("transformer")[0]


@pytest.fixture(scope="module")
def untrained():
    torch.manual_seed(0)
    return Transformer(TransformerConfig(context=64, d_model=32, n_layers=1, n_heads=2)).eval()


def _check_no_cluster(source, out):
    perf = performance_of(source)
    new = _new(source, out)
    assert new
    onsets = [n.start for n in new]
    assert largest_chord(onsets) <= perf.chord, "more note starts in 100 ms than the input's largest chord"
    # across the join too: the input's last onsets and the first new ones
    assert largest_chord([n.start for inst in source.instruments for n in inst.notes] + onsets) <= perf.chord
    assert min(n.end - n.start for n in new) >= perf.shortest - 1e-4, "a note shorter than the input's shortest"


@pytest.mark.parametrize(("name", "raw"), list(itertools.product(INPUTS, SAMPLING)))
def test_an_untrained_model_never_clusters_seeds_1_to_8(untrained, name, raw):
    """The mask alone holds it: a random model (whose top choices are anything) at every documented setting."""
    for seed in range(1, 9):
        source = _midi(name)
        out = generate("transformer", source, {**raw, "seed": seed, "extension_seconds": 8}, model=untrained).midi
        _check_no_cluster(source, out)


@pytest.mark.parametrize("raw", SAMPLING)
def test_the_shipped_model_never_clusters_seeds_1_to_8(shipped, raw):
    for name, seed in itertools.product(("e_minor_6_8_200", "hymn"), range(1, 9)):
        source = _midi(name)
        out = generate("transformer", source, {**raw, "seed": seed, "extension_seconds": 6}, model=shipped).midi
        _check_no_cluster(source, out)


def test_a_note_that_must_end_is_closed_before_anything_else():
    """The issue's trace: a note at max_note_seconds used to leave only NOTE_ONs; now only its NOTE_OFF is left."""
    from generation.engine import events
    from generation.engine.models.transformer.sampler import ExtensionState

    state = ExtensionState(end=500, max_note=40, max_rest=100, velocity=80, grid=15)
    state.step(events.NOTE_ON_OFFSET + 60 - events.MIN_PITCH)
    state.step(events.TIME_SHIFT_OFFSET + 29)  # 30 ticks: a grid point
    mask = state.allowed()
    assert not mask[events.TIME_SHIFT_OFFSET + 14]  # 45 ticks would pass max_note (40)
    assert mask[events.TIME_SHIFT_OFFSET + 9]  # no grid point before 40: the shift to the deadline remains
    state.step(events.TIME_SHIFT_OFFSET + 9)
    mask = state.allowed()
    assert mask.sum() == 1
    assert mask[events.NOTE_OFF_OFFSET + 60 - events.MIN_PITCH]


@pytest.mark.parametrize("name", INPUTS)
def test_the_continuation_keeps_the_inputs_tempo_grid_and_key(shipped, name):
    source = _midi(name)
    perf = performance_of(source)
    eighth = 30.0 / perf.tempo_bpm
    values = {round(n.end - n.start, 3) for n in source.instruments[0].notes}  # the input's note values
    for seed in (1, 2):
        out = generate("transformer", source, {"seed": seed, "extension_seconds": 12}, model=shipped).midi
        new = _new(source, out)
        onsets = sorted({round(n.start, 4) for n in new})
        assert grid_share(onsets, eighth, perf.origin) >= 0.85
        gaps, counts = np.unique(np.round(np.diff(onsets), 3), return_counts=True)
        assert min(abs(gaps[np.argmax(counts)] - v) for v in values) < 0.011, "the commonest gap is a note value"
        assert in_key_share([n.pitch for n in new], perf.key) >= 0.9


def test_a_chorale_like_hymn_goes_on_in_four_voices_each_in_its_range(shipped):
    source = hymn_midi()
    out = generate("transformer", source, {"seed": 3, "extension_seconds": 12}, model=shipped).midi
    for i, inst in enumerate(source.instruments):
        pitches = [n.pitch for n in inst.notes]
        added = out.instruments[i].notes[len(inst.notes) :]
        assert len(added) >= 8, f"voice {inst.name} goes on"
        inside = [min(pitches) - 4 <= n.pitch <= max(pitches) + 4 for n in added]
        assert np.mean(inside) >= 0.8, f"voice {inst.name} stays near its range"
    soprano_alone = pretty_midi.PrettyMIDI(initial_tempo=90.0)
    soprano_alone.instruments.append(source.instruments[0])
    alone = generate("transformer", soprano_alone, {"seed": 3, "extension_seconds": 12}, model=shipped).midi
    assert [(n.pitch, n.start) for n in alone.instruments[0].notes] != [
        (n.pitch, n.start) for n in out.instruments[0].notes
    ]


def test_a_melody_goes_on_as_a_melody(shipped):
    source = tune_midi("g_major_4_4_120")
    out = generate("transformer", source, {"seed": 5, "extension_seconds": 12}, model=shipped).midi
    new = sorted(_new(source, out), key=lambda n: n.start)
    assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(new)), "one note at a time"


def test_the_input_ends_at_its_last_note_and_later_lyrics_are_dropped(untrained):
    source = tune_midi("a_minor_3_4_72")
    last = source.instruments[0].notes[-1].end
    source.lyrics.append(pretty_midi.Lyric("la", last - 1.0))
    source.lyrics.append(pretty_midi.Lyric("end", last + 6.0))
    source.text_events.append(pretty_midi.Text("credits", last + 8.0))
    result = generate("transformer", source, {"seed": 1, "extension_seconds": 5}, model=untrained)
    new = _new(source, result.midi)
    assert min(n.start for n in new) < last + 2.0 + 1e-6  # at most max_rest after the last note, not after the text
    assert result.midi.get_end_time() == pytest.approx(last + 5.0, abs=0.01)
    assert [lyric.text for lyric in result.midi.lyrics] == ["la"]
    assert len(result.adjustments) == 1
    assert "2 text or lyric events" in result.adjustments[0]
    plain = generate("transformer", tune_midi("a_minor_3_4_72"), {"seed": 1, "extension_seconds": 5}, model=untrained)
    assert plain.adjustments == []


def test_key_of_reads_the_signature_else_estimates():
    assert key_of(tune_midi("g_major_4_4_120")) == (7, "major")
    assert key_of(tune_midi("e_minor_6_8_200")) == (4, "minor")
    assert key_of(tune_midi("d_dorian_6_8_180")) == (2, "minor")  # no signature: D dorian reads as D minor
    unsigned = tune_midi("a_minor_3_4_72")
    unsigned.key_signature_changes = []
    assert key_of(unsigned) == (9, "minor")
    unsigned = tune_midi("f_major_3_4_160")
    unsigned.key_signature_changes = []
    assert key_of(unsigned) == (5, "major")


def test_the_tempo_is_estimated_when_the_file_has_none_that_fits():
    """A tune written at ♩ = 150 into a file that says 120 (none set): its beat is found from the onsets."""
    source = tune_midi("g_major_4_4_120")
    fast = pretty_midi.PrettyMIDI()  # 120 bpm: no tempo set
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(80, n.pitch, n.start * 0.8, n.end * 0.8) for n in source.instruments[0].notes]
    fast.instruments.append(inst)
    perf = performance_of(fast)
    assert perf.tempo_estimated
    assert perf.tempo_bpm == pytest.approx(150, abs=1)


def test_note_starts_keep_to_the_inputs_pace():
    """After a first chord, a note may start only while the extension is behind the prompt's pace (x PACE_SLACK)."""
    from generation.engine import events
    from generation.engine.models.transformer.sampler import ExtensionState

    state = ExtensionState(end=1000, max_note=300, max_rest=200, velocity=80, chord=1, max_open=1, rate=1 / 50)
    on, off = events.NOTE_ON_OFFSET + 60 - events.MIN_PITCH, events.NOTE_OFF_OFFSET + 60 - events.MIN_PITCH
    for _ in range(2):  # two notes in 20 ticks: ahead of 1 + one every 50 ticks
        assert state.allowed()[on]
        state.step(on)
        state.step(events.TIME_SHIFT_OFFSET + 9)
        state.step(off)
    assert not state.allowed()[events.NOTE_ON_OFFSET : events.NOTE_OFF_OFFSET].any()
    state.step(events.TIME_SHIFT_OFFSET + 29)  # tick 50: 1 + 50 / 50 = 2 starts allowed, 2 made
    assert not state.allowed()[on]
    state.step(events.TIME_SHIFT_OFFSET + 9)  # tick 60: behind again
    assert state.allowed()[on]


def test_a_melody_keeps_its_pace(shipped):
    source = tune_midi("g_major_4_4_120")
    notes = source.instruments[0].notes
    pace = len(notes) / notes[-1].end
    for seed in (1, 2, 3):
        out = generate("transformer", source, {"seed": seed, "extension_seconds": 12}, model=shipped).midi
        assert len(_new(source, out)) <= 1 + 1.2 * pace * 12
