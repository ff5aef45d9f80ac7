"""Transformer sampler guarantees, as properties over seeds and parameter settings on a tiny untrained model: the
output is the input followed by exactly the requested extension, no rest and no note over its maximum, every note
closed, pitches 21-108; seeding; the controls; the one generation path keeps tempo, meter and other tracks."""

import itertools

import pytest
import torch

from generation.engine import events
from generation.engine.errors import MidiValidationError
from generation.engine.models.transformer.model import Transformer
from generation.engine.models.transformer.sampler import (
    MAX_NOTES_PER_SECOND,
    MAX_POLYPHONY,
    ExtensionState,
    filter_logits,
    prompt_tokens,
    sample_extension,
)
from generation.engine.models.transformer.spec import PARAMS, TransformerConfig
from generation.engine.params import validate_params
from generation.engine.pipeline import generate
from tests.engine.midi_factory import make_pm, note_tuples

TINY = TransformerConfig(context=32, d_model=16, n_layers=1, n_heads=2, dropout=0.0)
TEMPO = 90.0
BEAT = 60.0 / TEMPO


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return Transformer(TINY).eval()


def _input():
    melody = [(72, 0, 1), (71, 1, 2), (69, 2, 3), (67, 3, 4), (69, 4, 6), (71, 6, 8), (72, 8, 12), (74, 12, 14)]
    bass = [(48, 0, 4), (43, 4, 8), (45, 8, 12), (43, 12, 16)]  # the bass outlasts the melody by 2 beats
    drums = [(36, k, k + 0.25) for k in range(16)]
    return make_pm([melody, bass, drums], tempo=TEMPO, time_signature=(3, 4), drum_tracks=(2,))


def _new_notes(source, out, tracks):
    """The notes the extension added to ``tracks`` (the input's notes checked unchanged)."""
    new = []
    for track in tracks:
        n_old = len(source.instruments[track].notes)
        old = out.instruments[track].notes[:n_old]
        assert [(n.pitch, n.start, n.end) for n in old] == [(n.pitch, n.start, n.end)
                                                            for n in source.instruments[track].notes]
        new += out.instruments[track].notes[n_old:]
    return new


def _check_extension(source, out, params, tracks=(0, 1)):
    """Every guarantee of the sampler's docstring, checked on the output file (``tracks``: the pitched ones)."""
    input_end = source.get_end_time()
    target = input_end + params["extension_seconds"]
    assert out.get_end_time() == pytest.approx(target, abs=0.01)  # exactly the extension, within one time step
    new = _new_notes(source, out, tracks)
    assert new, "the extension has notes"
    for note in new:
        assert events.MIN_PITCH <= note.pitch <= events.MAX_PITCH
        assert input_end - 1e-9 <= note.start < note.end <= target + 1e-6  # closed, inside the extension
        assert note.end - note.start <= params["max_note_seconds"] + 1e-6
    assert max(n.end for n in new) == pytest.approx(out.get_end_time(), abs=1e-9)  # sounding to the very end
    # silences (the one before the first new note included) never longer than max_rest
    sounding_until = input_end
    for note in sorted(new, key=lambda n: n.start):
        assert note.start - sounding_until <= params["max_rest_seconds"] + 1e-6
        sounding_until = max(sounding_until, note.end)
    assert len({(n.pitch, n.start) for n in new}) == len(new)
    assert len(new) <= MAX_POLYPHONY + MAX_NOTES_PER_SECOND * params["extension_seconds"] + 1
    return new


SETTINGS = [
    {},
    {"sampling": "topk", "k": 5, "temperature": 6, "extension_seconds": 30, "max_rest_seconds": 0,
     "max_note_seconds": 0.05},
    {"sampling": "nucleus", "p": 0.5, "temperature": 0.5, "extension_seconds": 1, "max_rest_seconds": 0.3,
     "max_note_seconds": 0.2, "prompt_seconds": 2},
    {"sampling": "topk", "k": 309, "temperature": 3, "extension_seconds": 12.345, "max_rest_seconds": 10,
     "max_note_seconds": 10, "prompt_seconds": 0},
    {"p": 1.0, "temperature": 6, "extension_seconds": 7, "max_rest_seconds": 0.01, "max_note_seconds": 1},
]


@pytest.mark.parametrize(("raw", "seed"), list(itertools.product(SETTINGS, [0, 1])))
def test_guarantees_hold_through_the_generation_path(tiny_model, raw, seed):
    source = _input()
    result = generate("transformer", source, {**raw, "seed": seed}, model=tiny_model)
    new = _check_extension(source, result.midi, result.params)
    assert result.midi.get_tempo_changes()[1][0] == pytest.approx(TEMPO, abs=1e-3)
    ts = result.midi.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (3, 4)
    assert note_tuples(result.midi, 2, beat=BEAT) == note_tuples(source, 2, beat=BEAT)  # the drums are kept
    assert len(new) >= 1


def test_the_same_seed_gives_the_same_output(tiny_model):
    def notes(seed):
        out = generate("transformer", _input(), {"seed": seed, "temperature": 2}, model=tiny_model).midi
        return [(n.pitch, n.start, n.end, n.velocity) for track in (0, 1) for n in out.instruments[track].notes]

    assert notes(7) == notes(7)
    assert notes(7) != notes(8)


def test_greedy_controls_ignore_the_seed(tiny_model):
    outs = []
    for seed, raw in ((1, {"sampling": "topk", "k": 1}), (2, {"sampling": "topk", "k": 1}),
                      (3, {"sampling": "nucleus", "p": 0.0})):
        out = generate("transformer", _input(), {**raw, "seed": seed, "extension_seconds": 5}, model=tiny_model)
        outs.append([(n.pitch, n.start, n.end) for track in (0, 1) for n in out.midi.instruments[track].notes])
    assert outs[0] == outs[1] == outs[2]


def test_filter_logits_top_k_and_nucleus():
    logits = torch.tensor([4.0, 3.0, 2.0, 1.0, 0.0, 5.0])
    allowed = torch.tensor([True, True, True, True, True, False])
    probs = filter_logits(logits, allowed, sampling="topk", k=2, p=0.9, temperature=1.0)
    assert probs[5] == 0
    assert (probs[:2] > 0).all()
    assert (probs[2:] == 0).all()
    assert probs.sum() == pytest.approx(1.0)
    probs = filter_logits(logits, allowed, sampling="nucleus", k=2, p=0.0, temperature=1.0)
    assert probs.tolist() == [1.0, 0, 0, 0, 0, 0]
    probs = filter_logits(logits, allowed, sampling="nucleus", k=2, p=0.8, temperature=1.0)
    assert (probs[:2] > 0).all()
    assert probs[2:].sum() == 0
    hot = filter_logits(logits, allowed, sampling="topk", k=309, p=1, temperature=6.0)
    cold = filter_logits(logits, allowed, sampling="topk", k=309, p=1, temperature=0.5)
    assert hot[:5].min() > cold[:5].min()  # temperature flattens


def test_every_sampled_token_was_allowed(tiny_model):
    """The state machine's mask is what the sampler draws from: replaying the tokens never meets a masked one."""
    generator = torch.Generator().manual_seed(0)
    state = sample_extension(tiny_model, [events.START], extension_seconds=5, max_rest_seconds=0.2,
                             max_note_seconds=0.3, sampling="topk", k=309, temperature=6, generator=generator)
    assert state.done
    assert not state.open
    replay = ExtensionState(end=500, max_note=30, max_rest=20, velocity=80)
    assert all(off - on <= 30 for _p, on, off, _v in state.notes)
    # a hand-made state: a full chord blocks NOTE_ONs, an old note must be closed before time moves past max_note
    replay.open = {60 + i: (0, 80) for i in range(MAX_POLYPHONY)}
    replay.rest_start = None
    replay.now = 30
    mask = replay.allowed()
    assert not mask[events.NOTE_ON_OFFSET:events.NOTE_OFF_OFFSET].any()
    assert not mask[events.TIME_SHIFT_OFFSET:events.NOTE_ON_OFFSET].any()
    assert mask[events.NOTE_OFF_OFFSET + 60 - events.MIN_PITCH]
    assert not mask[events.START]
    assert not mask[events.PAD]


def test_prompt_is_the_end_of_the_input_up_to_its_end():
    source = _input()
    notes = [n for track in (0, 1) for n in source.instruments[track].notes]
    tokens, velocity = prompt_tokens(notes, input_end=source.get_end_time(), prompt_seconds=3)
    assert tokens[0] == events.START
    assert events.velocity_to_bin(velocity) == events.velocity_to_bin(80)
    decoded = events.decode(tokens).instruments[0].notes
    # the last 3 s of a 16-beat piece at 90 bpm: beats 11.5..16; notes starting there: 74 (12..14), 43 (12..16)
    assert sorted(n.pitch for n in decoded) == [43, 74]
    shifts = sum(t - events.TIME_SHIFT_OFFSET + 1 for t in tokens if events.TIME_SHIFT_OFFSET <= t
                 < events.NOTE_ON_OFFSET)
    assert shifts == 300  # the prompt's time runs to the input's end
    assert prompt_tokens(notes, input_end=source.get_end_time(), prompt_seconds=0)[0] == [0]
    # played at another tempo and moved an octave: times scaled, pitches moved
    slow, _ = prompt_tokens(notes, input_end=source.get_end_time(), prompt_seconds=3, stretch=0.5, transpose=12)
    assert sorted(n.pitch for n in events.decode(slow).instruments[0].notes) == [55, 86]
    assert sum(t - events.TIME_SHIFT_OFFSET + 1 for t in slow
               if events.TIME_SHIFT_OFFSET <= t < events.NOTE_ON_OFFSET) == 150


def test_params_and_refusals(tiny_model):
    names = [p.name for p in PARAMS]
    assert names == ["sampling", "k", "p", "temperature", "prompt_seconds", "extension_seconds", "max_rest_seconds",
                     "max_note_seconds", "seed"]
    defaults = validate_params(PARAMS, {}, model="transformer")
    assert (defaults["sampling"], defaults["k"], defaults["p"], defaults["temperature"]) == ("nucleus", 40, 0.95, .95)
    assert (defaults["extension_seconds"], defaults["max_rest_seconds"], defaults["max_note_seconds"]) == (20, 2, 3)
    assert defaults["prompt_seconds"] is None
    from generation.engine.errors import ParamError

    for bad in ({"extension_seconds": 31}, {"k": 310}, {"temperature": 0.1}, {"sampling": "beam"}, {"p": 1.5}):
        with pytest.raises(ParamError):
            validate_params(PARAMS, bad, model="transformer")
    with pytest.raises(MidiValidationError):
        generate("transformer", make_pm([[(36, 0, 1)]], drum_tracks=(0,)), {"seed": 0}, model=tiny_model)


def test_the_last_moments_hold_what_sounds_instead_of_forcing_a_cluster_of_notes():
    """Near the end (END_MARGIN) no note starts while one sounds and the last sounding note stays on, so a seed can
    no longer close everything 10 ms before the end and then be forced to start notes there (16 at once, once)."""
    from generation.engine.models.transformer.sampler import END_MARGIN

    state = ExtensionState(end=500, max_note=600, max_rest=100, velocity=80)
    for token in (events.NOTE_ON_OFFSET + 60 - events.MIN_PITCH, *[events.TIME_SHIFT_OFFSET + 99] * 4,
                  events.TIME_SHIFT_OFFSET + 100 - END_MARGIN - 1):
        assert state.allowed()[token]
        state.step(token)
    assert state.end - state.now == END_MARGIN
    assert list(state.open) == [60]
    allowed = state.allowed()
    assert not allowed[events.NOTE_OFF_OFFSET + 60 - events.MIN_PITCH]  # the last note sounds to the end
    assert not allowed[events.NOTE_ON_OFFSET:events.NOTE_OFF_OFFSET].any()  # nothing new starts under it
    assert allowed[events.TIME_SHIFT_OFFSET + END_MARGIN - 1]  # time moves to the end
    earlier = ExtensionState(end=500, max_note=300, max_rest=100, velocity=80, now=400)
    earlier.step(events.NOTE_ON_OFFSET + 62 - events.MIN_PITCH)
    earlier.step(events.TIME_SHIFT_OFFSET)
    assert earlier.allowed()[events.NOTE_OFF_OFFSET + 62 - events.MIN_PITCH]  # before the margin: free as before
