"""The checkpoints shipped in generation/checkpoints/ pass the platform's checks and load strictly; the shipped
AR-CNN generates through the `generate` command."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from generation.engine.loading import CHECKPOINTS_DIR, check_checkpoint_files, load_checkpoint, load_default_model
from generation.engine.midi_io import load_midi, write_midi
from tests.engine.midi_factory import make_pm

SHIPPED = sorted(p.parent.name for p in CHECKPOINTS_DIR.glob("*/config.json"))
ARCNN_DIR = CHECKPOINTS_DIR / "arcnn"


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_passes_the_checks_and_loads(name):
    info, meta = check_checkpoint_files(CHECKPOINTS_DIR / name)
    assert info.architecture == name == meta["architecture"]
    assert (CHECKPOINTS_DIR / name / "MODEL_CARD.md").exists()
    model, _ = load_checkpoint(CHECKPOINTS_DIR / name, architecture=name)
    assert sum(p.numel() for p in model.parameters()) > 0
    assert {"arcnn", "discriminator"} <= set(SHIPPED)
    assert load_default_model(name)[0] is load_default_model(name)[0]  # once per process


@pytest.mark.slow
def test_generate_arcnn_with_the_shipped_checkpoint(tmp_path):
    assert (ARCNN_DIR / "model.safetensors").exists(), "the AR-CNN checkpoint must ship in generation/checkpoints/arcnn"
    melody = [(72, 0, 1), (71, 1, 2), (69, 2, 3), (67, 3, 4), (69, 4, 6), (71, 6, 8), (72, 8, 12), (74, 12, 16)]
    bass = [(48, 0, 4), (43, 4, 8), (45, 8, 12), (43, 12, 16)]
    source = write_midi(make_pm([melody, bass], tempo=76.0, time_signature=(4, 4)), tmp_path / "in.mid")
    out_path = tmp_path / "out.mid"
    out = StringIO()
    call_command("generate", "arcnn", str(source), "-o", str(out_path), "--param", "iterations=20",
                 "--seed", "3", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["params"]["iterations"] == 20
    assert result["output_notes"] > 0
    pm = load_midi(out_path)
    assert pm.get_tempo_changes()[1][0] == pytest.approx(76.0, abs=1e-3)
    assert (pm.time_signature_changes[0].numerator, pm.time_signature_changes[0].denominator) == (4, 4)
