"""The one generation path (pipeline.generate): parameters checked against the model's spec, the model loaded once,
the input's tempo, meter, key and untouched tracks restored, the time limit applied."""

from __future__ import annotations

import time

import pretty_midi
import pytest

from generation.engine import pipeline
from generation.engine.errors import GenerationTimeoutError, MidiValidationError, ParamError
from tests.engine.midi_factory import make_pm, note_tuples

MELODY = [(72, 0, 1), (71, 1, 2), (69, 2, 3), (67, 3, 4), (69, 4, 6), (71, 6, 8)]
BASS = [(48, 0, 4), (43, 4, 8)]
DRUMS = [(36, i, i + 0.5) for i in range(8)]


def _song() -> pretty_midi.PrettyMIDI:
    pm = make_pm([DRUMS, MELODY, BASS], tempo=90.0, time_signature=(3, 4), drum_tracks=[0])
    pm.key_signature_changes.append(pretty_midi.KeySignature(7, 0.0))  # G major
    return pm


def test_restore_puts_back_tempo_meter_key_and_untouched_tracks():
    """A sampler that rebuilt the file at 120 bpm with only the melody (and changed the bass) gets the input's tempo,
    3/4, G major, drums and bass back; the melody it edited is kept."""
    source = _song()
    out = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    for inst in source.instruments:
        copy = pretty_midi.Instrument(inst.program, is_drum=inst.is_drum)
        copy.notes = [pretty_midi.Note(90, n.pitch + (1 if inst.program == 0 else 0), n.start, n.end)
                      for n in inst.notes[:3]]
        out.instruments.append(copy)
    restored = pipeline.restore(source, out, "melody")
    assert restored.get_tempo_changes()[1][0] == pytest.approx(90.0, abs=1e-3)
    ts = restored.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (3, 4)
    assert restored.key_signature_changes[0].key_number == 7
    beat = 60.0 / 90.0
    assert note_tuples(restored, 0, beat=beat) == note_tuples(source, 0, beat=beat)  # drums back
    assert note_tuples(restored, 2, beat=beat) == note_tuples(source, 2, beat=beat)  # bass back
    assert [n.pitch for n in restored.instruments[1].notes] == [73, 72, 70]  # the edited melody stays


def test_a_model_that_only_adds_tracks_keeps_every_input_track():
    source = _song()
    out = pretty_midi.PrettyMIDI(initial_tempo=90.0)
    added = pretty_midi.Instrument(48)
    added.notes = [pretty_midi.Note(80, 60, 0.0, 1.0)]
    out.instruments = [pretty_midi.Instrument(0), added]  # the sampler dropped the input's tracks
    restored = pipeline.restore(source, out, "none")
    assert len(restored.instruments) == 3
    assert [len(i.notes) for i in restored.instruments] == [len(i.notes) for i in source.instruments]


def test_generate_validates_runs_restores_and_reports_the_seed(tiny, tiny_checkpoint):
    source = _song()
    result = pipeline.generate("tiny", source, {"temperature": "2"}, checkpoint=tiny_checkpoint)
    assert result.params["temperature"] == 2.0
    assert isinstance(result.seed, int)
    again = pipeline.generate("tiny", source, {"temperature": 2, "seed": result.seed}, checkpoint=tiny_checkpoint)
    beat = 60.0 / 90.0
    assert note_tuples(again.midi, 1, beat=beat) == note_tuples(result.midi, 1, beat=beat)
    assert note_tuples(result.midi, 1, beat=beat) != note_tuples(source, 1, beat=beat)  # the melody was edited
    assert note_tuples(result.midi, 0, beat=beat) == note_tuples(source, 0, beat=beat)
    assert note_tuples(result.midi, 2, beat=beat) == note_tuples(source, 2, beat=beat)
    assert result.midi.key_signature_changes[0].key_number == 7
    assert len(source.instruments[1].notes) == len(MELODY)  # the caller's input is never changed
    assert result.seconds >= 0


def test_bad_requests_fail_before_the_model_runs(tiny, tiny_checkpoint):
    with pytest.raises(ParamError) as info:
        pipeline.generate("tiny", _song(), {"temprature": 1}, checkpoint=tiny_checkpoint)
    assert info.value.code == "unknown_param"
    drums_only = make_pm([DRUMS], drum_tracks=[0])
    with pytest.raises(MidiValidationError) as info:
        pipeline.generate("tiny", drums_only, {}, checkpoint=tiny_checkpoint)
    assert info.value.code == "no_notes"


def test_the_time_limit_stops_a_slow_sampler(tiny, tiny_checkpoint, monkeypatch):
    from tests.engine.tiny_model import sampler

    finished = []

    def slow(model, pm, params, seed):
        time.sleep(3)
        finished.append(True)
        return pm

    monkeypatch.setattr(sampler, "generate", slow)
    with pytest.raises(GenerationTimeoutError) as info:
        pipeline.generate("tiny", _song(), {}, checkpoint=tiny_checkpoint, time_limit_seconds=0.5)
    assert finished == []  # interrupted at the limit, not failed after the 3-s sampler (how soon: benchmarks/limits.py)
    assert info.value.code == "time_limit"
    assert "limit of 0.5 s" in info.value.message
