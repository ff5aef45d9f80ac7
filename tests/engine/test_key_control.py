"""Issue 25: the studio's key control. A job run in a chosen key writes it as the input's only key signature
(keys.with_key_signature); every model reads that signature (keys.key_of), so its new notes are in that key even on
a tune whose notes alone read another key."""

from __future__ import annotations

import copy

import pretty_midi
import pytest

from generation.engine import pipeline
from generation.engine.errors import ParamError
from generation.engine.keys import (
    KEY_NAMES,
    in_key_share,
    key_from_name,
    key_name,
    key_number,
    key_of,
    with_key_signature,
)
from generation.engine.midi_io import load_midi, midi_to_bytes
from tests.engine.tunes import tune_midi

D_MAJOR = (2, "major")
SEEDS = (0, 1, 2)


def test_the_24_keys_by_name():
    assert len(KEY_NAMES) == len(set(KEY_NAMES)) == 24
    assert [key_name(key_from_name(name)) for name in KEY_NAMES] == list(KEY_NAMES)
    assert key_from_name("D major") == D_MAJOR
    assert key_from_name("Bb minor") == (10, "minor")
    for bad in ("H major", "d major", "D", "", None, 2):
        with pytest.raises(ParamError, match="one of the 24 keys"):
            key_from_name(bad)


def test_with_key_signature_replaces_the_files_key_and_keeps_everything_else():
    pm = tune_midi("g_major_4_4_120")  # a G-major signature at 0
    pm.key_signature_changes.append(pretty_midi.KeySignature(9, 4.0))  # and an A-major one later
    data = midi_to_bytes(pm)
    for name in KEY_NAMES:
        out = load_midi(with_key_signature(data, key_from_name(name)))
        assert [(k.key_number, k.time) for k in out.key_signature_changes] == [(key_number(key_from_name(name)), 0.0)]
        assert pretty_midi.key_number_to_key_name(key_number(key_from_name(name))).split()[1].lower() == \
            name.split()[1]
        assert key_of(out) == key_from_name(name)
    before, after = load_midi(data), load_midi(with_key_signature(data, D_MAJOR))
    assert [(n.pitch, n.start, n.end) for n in after.instruments[0].notes] == [
        (n.pitch, n.start, n.end) for n in before.instruments[0].notes]
    assert after.get_tempo_changes()[1][0] == pytest.approx(before.get_tempo_changes()[1][0])
    assert after.time_signature_changes[0].numerator == before.time_signature_changes[0].numerator == 4


def _f_major_tune() -> pretty_midi.PrettyMIDI:
    """An F-major tune (B flats, C naturals, ending on F) with no key signature: its notes read F major."""
    pm = tune_midi("f_major_3_4_160")
    pm.key_signature_changes = []
    return pm


def _added_pitches(source: pretty_midi.PrettyMIDI, out: pretty_midi.PrettyMIDI, model: str) -> list[int]:
    """The notes a model added: the GAN's new tracks, the Transformer's continuation, the AR-CNN's new notes."""
    if model == "gan":
        return [n.pitch for inst in out.instruments[len(source.instruments):] for n in inst.notes]
    if model == "transformer":
        end = max(n.end for inst in source.instruments for n in inst.notes)
        return [n.pitch for inst in out.instruments for n in inst.notes if n.start >= end - 1e-3]
    old = {(n.pitch, round(n.start, 2)) for inst in source.instruments for n in inst.notes}
    return [n.pitch for inst in out.instruments for n in inst.notes if (n.pitch, round(n.start, 2)) not in old]


def _d_major_share(model: str, source: pretty_midi.PrettyMIDI) -> tuple[float, int]:
    pitches: list[int] = []
    for seed in SEEDS:
        params = {"seed": seed, **({"extension_seconds": 10} if model == "transformer" else {})}
        result = pipeline.generate(model, copy.deepcopy(source), params)
        pitches += _added_pitches(source, result.midi, model)
    return in_key_share(pitches, D_MAJOR), len(pitches)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["arcnn", "gan", "transformer"])
def test_each_model_adds_its_notes_in_the_key_the_job_runs_in(model):
    tune = _f_major_tune()
    assert key_of(tune) == (5, "major")  # its notes alone read F major
    in_d = load_midi(with_key_signature(midi_to_bytes(tune), D_MAJOR))  # what a job in D major sends the model
    assert key_of(in_d) == D_MAJOR
    keyed, n_keyed = _d_major_share(model, in_d)
    estimated, _n = _d_major_share(model, tune)
    assert n_keyed >= 30
    assert keyed >= 0.85, f"{model}: {keyed:.0%} of {n_keyed} added notes in D major"
    assert keyed >= estimated + 0.2  # the key made the difference (from the notes alone: F major's notes)
