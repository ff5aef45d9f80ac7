"""GAN accompaniment: spec vs model, shapes, the event encoding, the decoding rules, a few training steps, a tiny
`train` run."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch

from generation.engine.errors import CheckpointError
from generation.engine.models.gan import spec
from generation.engine.models.gan.encoding import (
    REST,
    events_to_lines,
    line_to_roll,
    one_hot,
    part_events,
    top_line,
    track_measures,
)
from generation.engine.models.gan.model import Critic, build_model, decide_steps
from generation.engine.models.gan.spec import GANConfig, config_from_dict, n_parameters, tensor_specs
from generation.engine.models.gan.train import TrainConfig, WindowSampler, piece_lines, train_step

from .midi_factory import make_pm

TINY = GANConfig(hidden=16, noise_dim=4, critic_hidden=8, levels=1, window_steps=32, context_steps=8)


def _state_specs(module: torch.nn.Module) -> dict:
    return {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in module.state_dict().items()}


@pytest.mark.parametrize("config", [GANConfig(), TINY, GANConfig(levels=0, hidden=8, noise_dim=2)])
def test_tensor_specs_equal_the_state_dict(config):
    model = build_model(config)
    assert _state_specs(model) == tensor_specs(config)
    assert n_parameters(config) == sum(p.numel() for p in model.parameters())


def test_config_from_dict_checks_fields():
    assert config_from_dict(spec.config_to_dict(TINY)) == TINY
    for bad in ({"lowest_pitch": 100, "n_pitches": 64}, {"window_steps": 30, "levels": 2},
                {"context_steps": 64, "window_steps": 64}, {"hidden": "96"}, {"colour": 1}):
        with pytest.raises(CheckpointError):
            config_from_dict(bad)


def test_spec_declares_the_user_parameters():
    assert spec.ARCHITECTURE == "gan"
    assert spec.IS_GENERATOR
    assert [p.name for p in spec.PARAMS] == ["style", "melody", "bars", "key", "programs", "seed"]
    assert spec.PARAMS[4].cast("48,52,19") == [48, 52, 19]


def test_shapes():
    gen, critic = build_model(TINY), Critic(TINY)
    b, t, k = 3, TINY.window_steps, TINY.n_pitches + 2
    cond = torch.zeros(b, spec.generator_in_channels(TINY), t)
    logits = gen(cond, torch.randn(gen.noise_shape(b, t)))
    assert logits.shape == (b, spec.N_VOICES, t, k)
    assert critic(torch.zeros(b, t, k), torch.zeros(b, t, 2), torch.zeros(b, spec.N_VOICES, t, k)).shape == (b,)


def test_events_keep_held_notes_held_and_round_trip():
    # C4 held 4 steps, C4 struck again for 2, E4 for 2, a rest, then D4
    pitch = np.array([60, 60, 60, 60, 60, 60, 64, 64, REST, 62])
    onset = np.array([1, 0, 0, 0, 1, 0, 1, 0, 0, 1], dtype=bool)
    events = part_events(pitch, onset, 40, 30)
    hold, rest = 30, 31
    assert events.tolist() == [20, hold, hold, hold, 20, hold, 24, hold, rest, 22]
    back, back_onset = events_to_lines(events, 40, 30)
    assert back.tolist() == pitch.tolist()
    assert back_onset.tolist() == onset.tolist()
    # a HOLD with nothing before it is a rest; batches (..., T) work alike
    assert events_to_lines(np.array([[hold, 0, hold]]), 40, 30)[0].tolist() == [[REST, 40, 40]]
    with pytest.raises(ValueError, match="outside the model's range"):
        part_events(np.array([80]), np.array([True]), 40, 30)


def _decide(scores_for_bass: np.ndarray, melody: list[int], upper: list[int], temperature: float = 0.0):
    """Decide step 1 of a 2-step window where the alto and tenor are fixed by their scores and the bass's scores
    are given; returns the bass's pitch at step 1."""
    cfg = GANConfig(lowest_pitch=40, n_pitches=40)
    k = cfg.n_pitches + 2
    scores = np.full((1, 3, 2, k), -50.0)
    scores[0, 0, 1, upper[0] - 40] = 0.0  # the alto moves to upper[0]
    scores[0, 1, 1, upper[1] - 40] = 0.0  # the tenor moves to upper[1]
    scores[0, 2, 1] = scores_for_bass
    voices = np.full((1, 3, 2), REST)
    voices[0, :, 0] = [72, 64, 45]  # step 0: alto, tenor, bass (A2)
    onsets = np.zeros((1, 3, 2), dtype=bool)
    decide_steps(scores, None, np.array([melody]), voices, onsets, 1, 2, 0, cfg, temperature)
    return int(voices[0, 2, 1])


def test_decoding_avoids_parallel_fifths_and_octaves():
    k = 42
    bass = np.full(k, -50.0)
    bass[47 - 40] = 0.0  # the model's favourite: B2, a step up
    bass[43 - 40] = -1.0  # its second choice: G2
    # tenor E4 -> F#4 over A2 -> B2 would be parallel fifths (E/A, F#/B): the second choice wins
    assert _decide(bass, [76, 76], [72, 66]) == 43
    # with the tenor going to G4 (a sixth over B2: no fifth) the favourite stays
    assert _decide(bass, [76, 76], [72, 67]) == 47
    # a HOLD keeps the sounding note
    hold = np.full(k, -50.0)
    hold[40] = 0.0
    assert _decide(hold, [76, 76], [72, 67]) == 45


def _chorale_like_piece(n_bars: int = 4):
    """A four-voice piece: soprano above alto, tenor, bass, quarter notes on a C major scale pattern."""
    scale = [0, 2, 4, 5, 7, 9, 11, 12]
    voices = []
    for base in (72, 64, 55, 48):
        voices.append([(base + scale[(i * (3 if base < 60 else 1)) % 8], float(i), float(i + 1))
                       for i in range(4 * n_bars)])
    return make_pm(voices)


def test_a_training_step_changes_both_nets_and_lowers_the_reconstruction(tmp_path):
    from generation.engine.dataset import piece_from_midi

    torch.manual_seed(0)
    piece = piece_from_midi(_chorale_like_piece(), "a.mid", "train")
    cfg = TrainConfig(batch_size=8, hop=4)
    windows = WindowSampler([piece_lines(piece, TINY.melody_center)], TINY, cfg, np.random.default_rng(0))
    gen, critic = build_model(TINY), Critic(TINY)
    before = {k: v.clone() for k, v in gen.state_dict().items()}
    critic_before = {k: v.clone() for k, v in critic.state_dict().items()}
    opt_g = torch.optim.Adam(gen.parameters(), lr=3e-3)
    opt_c = torch.optim.Adam(critic.parameters(), lr=3e-3)
    batch = windows.batch("cpu")
    assert batch[4].shape == (8, spec.N_VOICES, TINY.window_steps)  # the events it learns to write
    losses = [train_step(gen, critic, opt_g, opt_c, batch, cfg, 1.0) for _ in range(30)]
    assert set(losses[0]) == {"discriminator", "generator", "reconstruction", "adversarial", "mode_seeking"}
    assert losses[-1]["reconstruction"] < losses[0]["reconstruction"] - 0.5  # it learns the real parts
    assert any(not torch.equal(before[k], v) for k, v in gen.state_dict().items())
    assert any(not torch.equal(critic_before[k], v) for k, v in critic.state_dict().items())


def test_train_on_a_folder_writes_every_file(tmp_path):
    from generation.engine.loading import load_checkpoint
    from generation.engine.models.gan.train import train

    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        pm = _chorale_like_piece(4 + i)
        pm.instruments = pm.instruments[::-1]  # the melody is the highest track, wherever it is in the file
        pm.write(str(data / f"piece{i}.mid"))
    out = tmp_path / "out"
    metrics = train(data=data, steps=3, out=out, progress=False, model_config=TINY,
                    train_config=TrainConfig(batch_size=4, eval_every=2, hop=4))
    for name in ("model.safetensors", "config.json", "loss.png", "measures.png", "MODEL_CARD.md"):
        assert (out / name).stat().st_size > 0, name
    meta = json.loads((out / "config.json").read_text())
    assert meta["architecture"] == "gan"
    assert meta["config"] == asdict(TINY)
    assert metrics["steps"] == 3
    assert metrics["best_step"] in (2, 3)
    assert "MIDI folder data" in meta["trained_on"]
    model, _ = load_checkpoint(out, architecture="gan")
    assert model.config == TINY
    card = (out / "MODEL_CARD.md").read_text()
    assert "python manage.py train gan --data" in card
    assert "| Bass | pitches_used |" in card


def test_lines_round_trip_and_measures():
    roll = np.zeros((8, 128), dtype=bool)
    roll[0:4, 60] = roll[4:6, 60] = roll[6:8, 64] = True
    onsets = np.zeros_like(roll)
    onsets[0, 60] = onsets[4, 60] = onsets[6, 64] = True
    pitch, onset = top_line(roll, onsets)
    assert pitch.tolist() == [60] * 6 + [64] * 2
    assert onset.nonzero()[0].tolist() == [0, 4, 6]
    back, back_onsets = line_to_roll(pitch, onset)
    assert np.array_equal(back, roll)
    assert np.array_equal(back_onsets, onsets)
    rest = np.array([60, 60, REST, REST, 62, 62, REST, REST])
    assert one_hot(rest, rest >= 0, 40, 30)[:, 30].tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    measures = track_measures(roll, onsets, (0, "major"), steps_per_bar=4, n_steps=12)
    expected = {"in_key_rate": 1.0, "pitches_used": 2.0, "polyphony": 1.0, "empty_bar_rate": 1 / 3}
    assert measures == pytest.approx(expected)


def test_model_shift_moves_a_melody_into_c_major_near_the_center():
    from generation.engine.models.gan.encoding import model_shift

    d_major = np.array([74, 76, 78, 79, 81, 79, 78, 76, 74, 73, 74, REST])  # D major, median 76
    shift = model_shift(d_major, 71)
    assert shift % 12 == 10  # D -> C: down 2 semitones (or up 10)
    assert abs(np.median(d_major[d_major >= 0] + shift) - 71) <= 6
    # a key signature overrides the estimate: read as B minor, the line moves to A minor (down 2 or up 10 too),
    # read as G major, to C major (up 5 or down 7)
    from generation.engine.models.gan.encoding import key_of_signature

    assert key_of_signature(23) == (11, "minor")
    assert key_of_signature(7) == (7, "major")
    assert model_shift(d_major, 71, key_of_signature(23)) % 12 == 10
    assert model_shift(d_major, 71, key_of_signature(7)) % 12 == 5
    for semitones in (-7, 5, 12):  # the same tune in another key lands on the same line
        moved = np.where(d_major >= 0, d_major + semitones, REST)
        assert np.array_equal(np.where(moved >= 0, moved + model_shift(moved, 71), REST),
                              np.where(d_major >= 0, d_major + shift, REST))


def test_musician_measures_on_a_hand_written_cadence():
    from generation.engine.models.gan.musician import parallel_moves, piece_counts, ratio

    # four beats, quarter notes: C major (C5 / G4 E4 C3), F major (C5 / A4 F4 F3), G7 (B4 / G4 F4 G2: a tritone
    # B-F against the melody), then D5 over G4, C#4 and C3 (a minor ninth and a ninth: no chord)
    melody = [72, 72, 71, 74]
    alto, tenor, bass = [67, 69, 67, 67], [64, 65, 65, 61], [48, 53, 43, 48]
    lines = np.repeat(np.array([melody, alto, tenor, bass]), 4, axis=1)  # (4, 16)
    onsets = np.zeros_like(lines, dtype=bool)
    onsets[:, ::4] = True
    c = piece_counts(lines, onsets, key=(0, "major"), ranges=[(57, 72), (52, 66), (38, 60)])
    assert ratio(c["consonant_beats"]) == 0.5  # the tritone of beat 3, the ninths of beat 4
    assert ratio(c["second_seventh_beats"]) == 0.25  # only beat 4 (a tritone is neither)
    assert ratio(c["chord_beats"]) == 0.75
    assert ratio(c["note_beats"]) == 1.0
    assert ratio(c["in_key"]) == 11 / 12  # the C#
    assert ratio(c["in_range"]) == 1.0
    assert ratio(c["bass_leaps"]) == 0.0
    # C-G up to D-A: parallel fifths; C-G to D-B: not
    assert parallel_moves(np.array([67, 69]), np.array([60, 62])) == (1, 1)
    assert parallel_moves(np.array([67, 71]), np.array([60, 62])) == (0, 1)
