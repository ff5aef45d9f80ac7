"""AR-CNN model, loss, training pairs and config checks (generation/engine/arcnn.py, arcnn_spec.py)."""

import math

import numpy as np
import pytest
import torch

from generation.engine.errors import CheckpointError
from generation.engine.models.arcnn.model import ARCNN, arcnn_loss, make_training_pairs
from generation.engine.models.arcnn.spec import ARCNNConfig, config_from_dict, config_to_dict, tensor_specs

TINY = ARCNNConfig(base_channels=4, levels=2, max_channels=8, window_steps=32)


def _state_specs(model: ARCNN) -> dict:
    return {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in model.state_dict().items()}


@pytest.mark.parametrize(
    "config",
    [
        ARCNNConfig(),
        ARCNNConfig(batch_norm=True),
        ARCNNConfig(pitch_channel=False, convs_per_level=3, levels=3),
        ARCNNConfig(base_channels=32, levels=5, max_channels=1024, pitch_channel=False, batch_norm=True),
    ],
)
def test_tensor_specs_equal_the_state_dict(config):
    assert tensor_specs(config) == _state_specs(ARCNN(config))


def test_config_round_trips_and_rejects_bad_values():
    assert config_from_dict(config_to_dict(ARCNNConfig())) == ARCNNConfig()
    with pytest.raises(CheckpointError, match="unknown field"):
        config_from_dict({"dropout": 0.1})
    with pytest.raises(CheckpointError, match=r"base_channels must be in 4\.\.64"):
        config_from_dict({"base_channels": 100000})
    with pytest.raises(CheckpointError, match="must be an integer"):
        config_from_dict({"levels": 2.5})
    with pytest.raises(CheckpointError, match="true or false"):
        config_from_dict({"batch_norm": 1})
    with pytest.raises(CheckpointError, match="multiple of 2"):
        config_from_dict({"window_steps": 40, "levels": 4})


def test_forward_is_fully_convolutional_over_time():
    model = ARCNN(TINY).eval()
    for steps in (32, 128, 512):
        assert model(torch.zeros(2, steps, 128)).shape == (2, steps, 128)


def test_loss_equals_a_hand_computation():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 4, 128))
    target = np.zeros((2, 4, 128))
    target[0, 1, 60] = target[0, 2, 61] = target[0, 3, 5] = 1
    target[1, 0, 70] = 1
    expected = []
    for b in range(2):
        z = logits[b].ravel()
        log_q = z - z.max() - math.log(np.exp(z - z.max()).sum())
        p = target[b].ravel() / target[b].sum()
        expected.append(sum(p[i] * (math.log(p[i]) - log_q[i]) for i in np.nonzero(p)[0]))
    loss = arcnn_loss(torch.tensor(logits), torch.tensor(target))
    assert loss.item() == pytest.approx(np.mean(expected), rel=1e-5)


def test_loss_is_per_sample():
    torch.manual_seed(0)
    logits = torch.randn(2, 16, 128)
    target = (torch.rand(2, 16, 128) < 0.01).float()
    target[:, 0, 0] = 1
    alone = arcnn_loss(logits[:1], target[:1])
    changed = logits.clone()
    changed[1] += 5.0 * torch.randn(16, 128)  # another sample's logits must not change sample 1's term
    for batch_logits in (logits, changed):
        second = arcnn_loss(batch_logits[1:], target[1:])
        both = arcnn_loss(batch_logits, target)
        assert (2 * both - second).item() == pytest.approx(alone.item(), rel=1e-5)
    # a softmax over the whole batch (the reference's) would not separate the samples this way
    batch_softmax = torch.log_softmax(logits.reshape(-1), 0)
    assert not torch.allclose(batch_softmax[: 16 * 128], torch.log_softmax(logits[0].reshape(-1), 0))


def test_empty_target_contributes_zero():
    logits = torch.randn(1, 16, 128)
    assert arcnn_loss(logits, torch.zeros(1, 16, 128)).item() == 0.0


def test_the_stop_outcome_is_the_target_of_an_untouched_roll():
    logits = torch.full((2, 16, 128), -3.0)
    target = torch.zeros(2, 16, 128)
    target[1, 0, 60] = 1.0
    loss = arcnn_loss(logits, target, stop=True)
    n = 16 * 128
    log_z = torch.logsumexp(torch.tensor([-3.0] * n + [0.0]), dim=0)
    expected = ((log_z - 0.0) + (log_z + 3.0)) / 2  # -log q(stop) for the clean roll, -log q(cell) for the other
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert arcnn_loss(logits[:1] - 5.0, target[:1], stop=True) < arcnn_loss(logits[:1], target[:1], stop=True)


def test_voices_removed_over_spans_keep_the_rest_of_the_voice():
    from generation.engine.models.arcnn.model import VOICES, make_edit_pairs

    voices, onsets = _voices(batch=8, seed=2)
    kinds = torch.full((8,), VOICES)
    whole, _ = make_edit_pairs(voices, onsets, kinds, add_pct=(0.0, 0.0), keep_voice=0.0, voice_span=0.0,
                               generator=torch.Generator().manual_seed(0))
    assert torch.equal(whole, voices[:, 0])  # every lower voice gone whole: the melody alone
    spans, target = make_edit_pairs(voices, onsets, kinds, add_pct=(0.0, 0.0), keep_voice=0.0, voice_span=1.0,
                                    generator=torch.Generator().manual_seed(0))
    lower = voices[:, 1:].any(dim=1) & ~voices[:, 0]
    assert torch.equal(spans & voices[:, 0], voices[:, 0])  # the melody stays
    assert (spans & lower).any()  # parts of the lower voices stay ...
    assert (target & lower).any()  # ... and their real notes elsewhere are the target
    gone_steps = (target.any(dim=2)).sum(dim=1)
    assert (gone_steps >= 16).all()  # at least a bar of each window lost its harmony


def test_clean_rows_have_an_empty_target():
    from generation.engine.models.arcnn.train import TrainConfig, _keep_clean

    corrupted = torch.rand(64, 8, 128) < 0.3
    target = torch.rand(64, 8, 128) < 0.1
    cfg = TrainConfig(clean_fraction=0.5)
    c2, t2 = _keep_clean(corrupted, target, cfg, np.random.default_rng(0))
    rows = ~t2.any(dim=(1, 2))
    assert 16 <= int(rows.sum()) <= 48
    assert torch.equal(c2[rows], (corrupted ^ target)[rows])  # the clean roll itself
    assert torch.equal(c2[~rows], corrupted[~rows])
    assert torch.equal(t2[~rows], target[~rows])


def _melody_rolls(n: int, steps: int = 128, seed: int = 0) -> torch.Tensor:
    """Random one-voice melodies: notes of 1-8 steps on pitches 60-79."""
    rng = np.random.default_rng(seed)
    rolls = np.zeros((n, steps, 128), dtype=bool)
    for b in range(n):
        t = 0
        while t < steps:
            length = int(rng.integers(1, 9))
            rolls[b, t : t + length, int(rng.integers(60, 80))] = True
            t += length
    return torch.from_numpy(rolls)


def test_training_pairs_target_is_xor_and_fractions_are_in_range():
    clean = _melody_rolls(16)
    generator = torch.Generator().manual_seed(1)
    corrupted, target = make_training_pairs(clean, generator=generator)
    assert torch.equal(target, corrupted ^ clean)
    n_notes = clean.sum(dim=(1, 2)).float()
    n_empty = (~clean).sum(dim=(1, 2)).float()
    removed = (clean & ~corrupted).sum(dim=(1, 2)).float()
    added = (corrupted & ~clean).sum(dim=(1, 2)).float()
    assert ((removed / n_notes) >= 0).all()
    assert ((removed / n_notes) <= 1).all()
    assert (added >= torch.floor(n_empty * 0.01)).all()
    assert (added <= torch.ceil(n_empty * 0.015) + 1).all()
    assert len(set((removed / n_notes).round(decimals=2).tolist())) > 4  # the removal fraction varies


def test_training_pairs_remove_exactly_the_asked_percentage():
    clean = _melody_rolls(8, seed=2)
    corrupted, target = make_training_pairs(clean, remove_pct=(50, 50), add_pct=(1.0, 1.0),
                                            generator=torch.Generator().manual_seed(0))
    n_notes = clean.sum(dim=(1, 2))
    removed = (clean & ~corrupted).sum(dim=(1, 2))
    assert torch.equal(removed, n_notes - torch.floor(n_notes * 0.5 + 1e-6).long())
    assert torch.equal(target, corrupted ^ clean)


@pytest.mark.slow
def test_a_few_training_steps_lower_the_loss():
    torch.manual_seed(0)
    model = ARCNN(TINY)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    eval_clean = _melody_rolls(16, steps=32, seed=5)
    eval_pairs = make_training_pairs(eval_clean, generator=torch.Generator().manual_seed(9))

    def eval_loss() -> float:
        with torch.no_grad():
            return arcnn_loss(model(eval_pairs[0]), eval_pairs[1]).item()

    before = eval_loss()
    generator = torch.Generator().manual_seed(3)
    for step in range(40):
        corrupted, target = make_training_pairs(_melody_rolls(16, steps=32, seed=100 + step), generator=generator)
        loss = arcnn_loss(model(corrupted), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert eval_loss() < before - 0.1


@pytest.mark.slow
@pytest.mark.parametrize("edit_kinds", [(0.0, 0.0, 0.0), (0.4, 0.35, 0.25)])
def test_train_writes_a_loadable_checkpoint_with_curve_and_card(tmp_path, edit_kinds):
    from generation.engine.loading import load_checkpoint
    from generation.engine.midi_io import write_midi
    from generation.engine.models.arcnn.train import TrainConfig, train
    from tests.engine.midi_factory import make_pm

    data = tmp_path / "midi"
    data.mkdir()
    for k in range(6):
        melody = [(60 + (k + i) % 12, i, i + 1) for i in range(48)]
        write_midi(make_pm([melody, [(48, 0, 48)]]), data / f"song{k}.mid")
    out = tmp_path / "ckpt"
    metrics = train(data=data, out=out, model_config=TINY, progress=False,
                    train_config=TrainConfig(steps=6, eval_every=3, batch_size=4, warmup_steps=2,
                                             edit_kinds=edit_kinds))
    assert metrics["steps"] == 6
    assert metrics["best_step"] in (3, 6)
    assert metrics["best_valid_loss"] > 0
    for name in ("model.safetensors", "config.json", "loss.png", "MODEL_CARD.md"):
        assert (out / name).stat().st_size > 0
    model, meta = load_checkpoint(out, architecture="arcnn")
    assert meta["config"]["base_channels"] == TINY.base_channels
    # melodies 60..71 and a bass 48, transposed -5..+6 in training: the sampler's range
    assert (meta["config"]["pitch_low"], meta["config"]["pitch_high"]) == (43, 77)
    assert model.config.pitch_high == 77
    assert model(torch.zeros(1, 32, 128)).shape == (1, 32, 128)


def _piece(n_steps: int = 64, seed: int = 0):
    from generation.engine.dataset import Piece

    rng = np.random.default_rng(seed)
    rolls = np.zeros((4, n_steps, 128), dtype=bool)
    for voice, base in enumerate((72, 64, 55, 48)):
        pitches = base + rng.integers(0, 5, n_steps // 4).repeat(4)
        rolls[voice, np.arange(n_steps), pitches] = True
    return Piece(name=f"p{seed}", split="train", rolls=rolls, tempo_bpm=100.0, time_signature=(4, 4),
                 steps_per_bar=16)


def test_merged_windows_or_the_voices_and_fill_their_share_of_each_batch():
    from generation.engine.models.arcnn.train import TrainConfig, _random_batch, build_windows, concat_windows

    pieces = [_piece(seed=s) for s in range(3)]
    voices = build_windows(pieces, 32, 16)
    merged = build_windows(pieces, 32, 16, merged=True)
    assert len(voices) == 4 * len(merged)
    assert np.array_equal(merged.gather(np.array([0]), 32)[0], pieces[0].rolls[:, :32].any(axis=0))
    both = concat_windows(voices, merged)
    assert np.array_equal(both.gather(np.array([len(voices)]), 32), merged.gather(np.array([0]), 32))

    def chord_rows(fraction: float) -> int:  # windows with 4 notes at once = merged windows (transposition aside)
        cfg = TrainConfig(batch_size=8, merged_fraction=fraction, max_transpose=1)
        batch, is_merged = _random_batch(voices, merged, 32, cfg, np.random.default_rng(0))
        chords = batch.numpy().sum(axis=2).max(axis=1) == 4
        assert np.array_equal(chords, is_merged.numpy())  # the flag names the merged rows
        return int(chords.sum())

    assert chord_rows(0.0) == 0
    assert chord_rows(0.5) == 4
    assert chord_rows(1.0) == 8


def test_span_rows_add_random_cells_only_inside_their_pitch_span():
    clean = torch.zeros(4, 32, 128, dtype=torch.bool)
    clean[:, :, 60] = True
    clean[:, :, 72] = True
    span_rows = torch.tensor([True, True, False, False])
    corrupted, _ = make_training_pairs(clean, remove_pct=(0, 0), add_pct=(5.0, 5.0), span_rows=span_rows,
                                       generator=torch.Generator().manual_seed(0))
    added = corrupted & ~clean  # (4, 32, 128)
    pitches = added.any(dim=1)  # (4, 128)
    assert added[:2].sum() > 0
    assert not pitches[:2, :60].any()
    assert not pitches[:2, 73:].any()
    assert pitches[2:, :60].any() or pitches[2:, 73:].any()  # other rows add anywhere


def test_train_steps_cover_the_whole_two_stage_run():
    """`manage.py train arcnn --steps N` runs N steps in all, split in the default recipe's proportions."""
    from generation.engine.models.arcnn.train import DEFAULT_RECIPE, PRETRAIN_RECIPE, scaled_to_steps

    scaled = scaled_to_steps(DEFAULT_RECIPE, 80)
    total = DEFAULT_RECIPE.pretrain_steps + DEFAULT_RECIPE.steps  # the recipe's proportions, whatever they are
    assert scaled.pretrain_steps + scaled.steps == 80
    assert scaled.pretrain_steps == round(80 * DEFAULT_RECIPE.pretrain_steps / total)
    assert scaled.steps >= 1
    assert scaled.lr == DEFAULT_RECIPE.lr
    assert scaled_to_steps(DEFAULT_RECIPE, DEFAULT_RECIPE.pretrain_steps + DEFAULT_RECIPE.steps) == DEFAULT_RECIPE
    single = scaled_to_steps(PRETRAIN_RECIPE, 40)
    assert (single.pretrain_steps, single.steps) == (0, 40)
    assert scaled_to_steps(DEFAULT_RECIPE, 1).steps == 1


def _voices(batch: int = 4, steps: int = 64, seed: int = 0):
    """(B, 4, T, P) chorale-like voices of quarter and eighth notes, with their onsets."""
    rng = np.random.default_rng(seed)
    voices = np.zeros((batch, 4, steps, 128), bool)
    onsets = np.zeros_like(voices)
    for b in range(batch):
        for v, base in enumerate((72, 65, 58, 48)):
            t = 0
            while t < steps:
                length = int(rng.choice([2, 4, 8]))
                pitch = base + int(rng.integers(-3, 4))
                voices[b, v, t : t + length, pitch] = True
                onsets[b, v, t, pitch] = True
                t += length
    return torch.from_numpy(voices), torch.from_numpy(onsets)


def _notes_intact_or_gone(clean, onsets, corrupted):
    from generation.engine.representation import roll_to_notes

    for b in range(clean.shape[0]):
        pitches, starts, ends = roll_to_notes(clean[b].numpy(), (onsets[b] & clean[b]).numpy())
        for p, s, e in zip(pitches.tolist(), starts.tolist(), ends.tolist(), strict=True):
            cells = corrupted[b, s:e, p]
            assert bool(cells.all()) or not bool(cells.any()), (b, p, s, e)


def test_whole_note_removal_keeps_or_removes_each_note_whole():
    from generation.engine.models.arcnn.model import remove_whole_notes

    voices, onsets = _voices()
    clean, merged_onsets = voices.any(dim=1), (voices & onsets).any(dim=1)
    generator = torch.Generator().manual_seed(0)
    out = remove_whole_notes(clean, merged_onsets, torch.tensor([0.0, 0.3, 0.7, 1.0]), generator)
    assert not (out & ~clean).any()
    _notes_intact_or_gone(clean, merged_onsets, out)
    kept = out.sum(dim=(1, 2)).float() / clean.sum(dim=(1, 2))
    assert kept[0] == 1.0
    assert kept[3] == 0.0
    assert 0.45 < kept[1] < 0.9
    assert 0.1 < kept[2] < 0.55


def test_edit_pairs_kinds():
    from generation.engine.models.arcnn.model import CELLS, NOTES, VOICES, make_edit_pairs, span_mask

    voices, onsets = _voices(batch=6, seed=1)
    clean = voices.any(dim=1)
    kinds = torch.tensor([NOTES, NOTES, VOICES, VOICES, CELLS, CELLS])
    corrupted, target = make_edit_pairs(voices, onsets, kinds, remove_pct=(50, 50), add_pct=(1.0, 1.0),
                                        keep_voice=0.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(target, corrupted ^ clean)
    added = corrupted & ~clean
    span = span_mask(clean)
    assert not (added & ~span[:, None, :]).any()  # random notes stay inside the pitch span
    assert (added[:2].sum(dim=(1, 2)) > 0).all()
    _notes_intact_or_gone(clean[:2], (voices & onsets).any(dim=1)[:2], corrupted[:2] & clean[:2])
    melody_rows = corrupted[2:4] & clean[2:4]
    assert torch.equal(melody_rows, voices[2:4, 0] & melody_rows)  # only melody cells remain ...
    assert torch.equal(melody_rows, voices[2:4, 0])  # ... all of them
    removed_cells = (clean[4:] & ~corrupted[4:]).sum(dim=(1, 2))
    assert torch.equal(removed_cells, clean[4:].sum(dim=(1, 2)) - torch.floor(clean[4:].sum(dim=(1, 2)) * 0.5
                                                                             + 1e-6).long())
