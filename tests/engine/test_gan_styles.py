"""GAN styles (one shipped checkpoint per style, picked by the `style` parameter) and the no-melody mode (a soprano
drawn from a style's Markov chain, then accompanied)."""

from __future__ import annotations

from io import StringIO

import numpy as np
import pretty_midi
import pytest
import torch
from django.core.management import CommandError, call_command

from generation.engine import loading, pipeline, runs
from generation.engine.errors import ParamError
from generation.engine.midi_io import load_midi
from generation.engine.models.gan import spec
from generation.engine.models.gan.model import build_model
from generation.engine.models.gan.sampler import generate
from generation.engine.models.gan.soprano import load_chains, sample_soprano
from generation.engine.params import validate_params

from .midi_factory import make_pm

SMALL = spec.GANConfig(hidden=16, noise_dim=4, critic_hidden=8)
E_MINOR = {4, 6, 7, 9, 11, 0, 2, 1, 3}  # natural minor + raised 6th and 7th (C#, D#)
FOLK = [(62, 0, 1), (67, 1, 2), (67, 2, 3), (71, 3, 4), (71, 4, 6), (69, 6, 7), (71, 7, 8), (72, 8, 10),
        (71, 10, 11), (69, 11, 12), (67, 12, 16)]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(SMALL).eval()


def test_style_param_validates_and_an_unknown_style_names_the_choices():
    assert validate_params(spec.PARAMS, {}, model="gan")["style"] == "chorale"
    assert validate_params(spec.PARAMS, {"style": "renaissance"}, model="gan")["style"] == "renaissance"
    with pytest.raises(ParamError) as info:
        validate_params(spec.PARAMS, {"style": "jazz"}, model="gan")
    assert "chorale" in info.value.message
    assert "renaissance" in info.value.message
    for bad in (0, 33, "x"):
        with pytest.raises(ParamError):
            validate_params(spec.PARAMS, {"bars": bad}, model="gan")
    with pytest.raises(ParamError):
        validate_params(spec.PARAMS, {"key": "H major"}, model="gan")


def test_each_style_has_its_own_checkpoint_folder():
    params = validate_params(spec.PARAMS, {"style": "renaissance"}, model="gan")
    assert pipeline.checkpoint_variant(spec, params) == "renaissance"
    assert pipeline.checkpoint_variant(spec, {**params, "style": "chorale"}) is None
    assert loading.default_checkpoint_dir("gan", "renaissance") == loading.CHECKPOINTS_DIR / "gan" / "renaissance"
    assert runs.default_out_dir("gan", "renaissance") == loading.default_checkpoint_dir("gan", "renaissance")
    assert runs.default_out_dir("gan", "chorale") == loading.default_checkpoint_dir("gan")
    with pytest.raises(ParamError, match="chorale, renaissance"):
        runs.default_out_dir("gan", "jazz")
    with pytest.raises(ParamError, match="no styles"):
        runs.default_out_dir("arcnn", "renaissance")


def test_train_command_refuses_an_unknown_style_before_reading_data():
    with pytest.raises(CommandError, match="chorale, renaissance"):
        call_command("train", "gan", "--style", "baroque", "--steps", "1", stdout=StringIO())


@pytest.mark.parametrize("style", list(spec.STYLES))
def test_each_shipped_style_loads_and_accompanies(style):
    folder = loading.default_checkpoint_dir("gan", None if style == spec.DEFAULT_STYLE else style)
    assert (folder / "model.safetensors").exists(), f"the {style} checkpoint must ship in {folder}"
    result = pipeline.generate("gan", make_pm([FOLK], tempo=100.0), {"style": style, "seed": 5})
    melody, *parts = result.midi.instruments
    assert len(parts) == 3
    assert all(len(p.notes) >= 3 for p in parts)
    assert [n.pitch for n in melody.notes] == [p for p, _s, _e in FOLK]
    _model, meta = loading.load_default_model("gan", variant=pipeline.checkpoint_variant(spec, result.params))
    assert ("Palestrina" in meta["trained_on"]) == (style == "renaissance")


@pytest.mark.parametrize("style", list(spec.STYLES))
def test_a_low_tune_keeps_each_part_in_its_voice_range(style):
    """A folk tune a fourth below a chorale soprano (median D4..G4): the parts used to follow it down (the bass under
    D2, the alto under A3); the sampler keeps each voice inside the style's sung range (spec.VOICE_RANGES)."""
    low = [[(p - 5, s, e) for p, s, e in FOLK] * 1]
    inside = total = 0
    for seed in range(3):
        result = pipeline.generate("gan", make_pm(low, tempo=100.0), {"style": style, "seed": seed})
        for (lowest, highest), part in zip(spec.VOICE_RANGES[style], result.midi.instruments[1:], strict=True):
            inside += sum(lowest <= n.pitch <= highest for n in part.notes)
            total += len(part.notes)
    assert total > 0
    assert inside / total >= 0.95


def test_soprano_chain_fills_the_bars_and_ends_on_the_tonic():
    chains = load_chains()
    for style in spec.STYLES:
        pitch, onset = sample_soprano(chains[style], (4, "minor"), 5, np.random.default_rng(0))
        assert len(pitch) == 5 * 16
        assert (pitch >= 0).all()
        assert onset[0]
        assert pitch[-1] % 12 == 4
        assert np.mean([p % 12 in E_MINOR for p in pitch[onset]]) >= 0.9
        again, _ = sample_soprano(chains[style], (4, "minor"), 5, np.random.default_rng(0))
        other, _ = sample_soprano(chains[style], (4, "minor"), 5, np.random.default_rng(1))
        assert (again == pitch).all()
        assert (other != pitch).any()


def test_no_melody_writes_four_voices_of_n_bars_in_key(model):
    empty = pretty_midi.PrettyMIDI(initial_tempo=90.0)
    params = {"melody": "input", "bars": 6, "key": "E minor", "style": "chorale"}
    out = generate(model, empty, params, seed=1)  # no notes: the soprano is written too
    assert [i.name for i in out.instruments] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert out.key_signature_changes[0].key_number == 16  # E minor
    bar = 4 * 60 / 90
    assert out.instruments[0].notes[-1].end == pytest.approx(6 * bar)
    assert all(n.end <= 6 * bar + 1e-6 for i in out.instruments for n in i.notes)
    soprano = [n.pitch % 12 for n in out.instruments[0].notes]
    assert np.mean([pc in E_MINOR for pc in soprano]) >= 0.9
    assert soprano[-1] == 4
    again = generate(model, empty, params, seed=1)
    other = generate(model, empty, params, seed=2)
    pitches = [[n.pitch for n in i.notes] for i in out.instruments]
    assert [[n.pitch for n in i.notes] for i in again.instruments] == pitches
    assert [[n.pitch for n in i.notes] for i in other.instruments] != pitches


def test_melody_generate_keeps_the_input_and_adds_four_voices(model):
    source = make_pm([FOLK], tempo=100.0)
    out = generate(model, source, {"melody": "generate", "bars": 2, "key": "G major"}, seed=3)
    assert [i.name for i in out.instruments[1:]] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert [n.pitch for n in out.instruments[0].notes] == [p for p, _s, _e in FOLK]


@pytest.mark.slow
def test_generate_command_without_input_writes_a_chorale(tmp_path):
    out_path = tmp_path / "out.mid"
    call_command("generate", "gan", "-o", str(out_path), "--param", "bars=4", "--param", "key=D major",
                 "--param", "style=renaissance", "--seed", "2", stdout=StringIO())
    result = load_midi(out_path)
    assert [i.name for i in result.instruments] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert all(len(i.notes) >= 2 for i in result.instruments)


def test_the_studio_form_offers_the_styles_with_a_sentence_each():
    from generation.selectors import model_catalog

    gan = next(m for m in model_catalog() if m["name"] == "gan")
    params = {p["name"]: p for p in gan["params"]}
    assert params["style"]["kind"] == "choice"
    assert params["style"]["choices"] == ["chorale", "renaissance"]
    for sentence in spec.STYLES.values():
        assert sentence in params["style"]["help"]
    assert params["melody"]["choices"] == ["input", "generate"]
    assert (params["bars"]["min"], params["bars"]["max"]) == (1, 32)
    assert "D minor" in params["key"]["choices"]


@pytest.mark.parametrize("key", spec.KEYS)
def test_a_generated_soprano_stays_in_a_sopranos_range_and_ends_on_its_tonic(key):
    from generation.engine.models.gan.sampler import key_number
    from generation.engine.models.gan.soprano import SUNG

    root = key_number(key) % 12
    for style, chain in load_chains().items():
        pitch, _onset = sample_soprano(chain, (root, key.split()[1]), 8, np.random.default_rng(7))
        assert SUNG[0] <= pitch.min() <= pitch.max() <= SUNG[1], (style, key)
        assert pitch[-1] % 12 == root
