"""The generate / train / check_checkpoint commands, run in-process with call_command on small inputs."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from generation.engine import registry
from generation.engine.midi_io import load_midi, midi_to_bytes, write_midi
from tests.engine.midi_factory import make_pm

MELODY = [(67, 0, 1), (69, 1, 2), (71, 2, 3), (72, 3, 4), (72, 4, 5), (71, 5, 6), (69, 6, 8)]


def run(*args) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def run_error(*args) -> tuple[str, dict]:
    out = StringIO()
    with pytest.raises(CommandError) as info:
        call_command(*args, "--json", stdout=out)
    return str(info.value), json.loads(out.getvalue())["error"]


@pytest.fixture
def melody_path(tmp_path):
    return write_midi(make_pm([MELODY], tempo=84.0, time_signature=(3, 4)), tmp_path / "melody.mid")


def test_generate_with_a_checkpoint(tiny_checkpoint, melody_path, tmp_path):
    out_path = tmp_path / "out.mid"
    result = run("generate", "tiny", str(melody_path), "-o", str(out_path), "--checkpoint", str(tiny_checkpoint),
                 "--param", "temperature=2", "--seed", "5")
    assert result["seed"] == 5
    assert result["params"]["temperature"] == 2.0
    assert result["input_notes"] == len(MELODY)
    assert result["output_notes"] > len(MELODY)  # one note added per bar
    pm = load_midi(out_path)
    assert pm.get_tempo_changes()[1][0] == pytest.approx(84.0, abs=1e-3)
    ts = pm.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (3, 4)
    again = tmp_path / "again.mid"
    run("generate", "tiny", str(melody_path), "-o", str(again), "--checkpoint", str(tiny_checkpoint),
        "--param", "temperature=2", "--seed", "5")
    assert again.read_bytes() == out_path.read_bytes()  # same seed, same output


def test_generate_draws_and_reports_a_seed(tiny_checkpoint, melody_path, tmp_path):
    result = run("generate", "tiny", str(melody_path), "-o", str(tmp_path / "o.mid"),
                 "--checkpoint", str(tiny_checkpoint))
    assert isinstance(result["seed"], int)


def test_generate_refuses_bad_requests(tiny_checkpoint, melody_path, tmp_path, monkeypatch):
    out = str(tmp_path / "o.mid")
    message, error = run_error("generate", "tiny", str(melody_path), "-o", out, "--checkpoint",
                               str(tiny_checkpoint), "--param", "temperature=9")
    assert error["code"] == "param_out_of_range"
    assert "temperature" in message
    assert "0.5 and 6" in message
    _, error = run_error("generate", "tiny", str(melody_path), "-o", out, "--checkpoint", str(tiny_checkpoint),
                         "--param", "colour=blue")
    assert error["code"] == "unknown_param"
    monkeypatch.setattr(registry, "PLANNED_ARCHITECTURES", ("musicvae",))  # named, not built yet
    _, error = run_error("generate", "musicvae", str(melody_path), "-o", out)
    assert error["code"] == "not_available"
    _, error = run_error("generate", "discriminator", str(melody_path), "-o", out)
    assert error["code"] == "not_a_generator"
    _, error = run_error("generate", "tiny", str(tmp_path / "missing.mid"), "-o", out)
    assert error["code"] == "not_found"
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    _, error = run_error("generate", "tiny", str(bad), "-o", out, "--checkpoint", str(tiny_checkpoint))
    assert error["code"] == "not_midi"
    _, error = run_error("generate", "tiny", str(melody_path), "-o", out)  # tiny ships no default checkpoint
    assert error["code"] == "no_checkpoint"
    assert not (tmp_path / "o.mid").exists()


def test_train_on_a_user_folder_then_generate_with_it(tiny, melody_path, tmp_path):
    data = tmp_path / "my-midi"
    data.mkdir()
    for i in range(3):
        notes = [(60 + i + k % 5, k, k + 1) for k in range(16)]
        (data / f"piece{i}.mid").write_bytes(midi_to_bytes(make_pm([notes, [(40, 0, 16)]])))
    out = tmp_path / "ckpt"
    result = run("train", "tiny", "--data", str(data), "--steps", "3", "--out", str(out))
    assert result["metrics"]["steps"] == 3
    assert result["metrics"]["pieces"] == 3
    assert (out / "model.safetensors").exists()
    checked = run("check_checkpoint", str(out))
    assert checked["ok"] is True
    assert checked["metrics"]["steps"] == 3
    gen = run("generate", "tiny", str(melody_path), "-o", str(tmp_path / "g.mid"), "--checkpoint", str(out))
    assert gen["output_notes"] > 0


def test_train_refuses_bad_requests(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "PLANNED_ARCHITECTURES", ("musicvae",))
    _, error = run_error("train", "musicvae", "--steps", "1", "--out", str(tmp_path))
    assert error["code"] == "not_available"
    _, error = run_error("train", "vae")
    assert error["code"] == "unknown_architecture"
    _, error = run_error("train", "tiny", "--data", str(tmp_path / "nope"))
    assert error["code"] == "not_a_folder"
    _, error = run_error("train", "tiny", "--steps", "0", "--out", str(tmp_path))
    assert error["code"] == "bad_steps"
    _, error = run_error("train", "tiny", "--data", str(tmp_path), "--out", str(tmp_path / "x"))
    assert error["code"] == "no_usable_midi"
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    _, error = run_error("train", "tiny", "--device", "cuda", "--out", str(tmp_path / "gpu"))
    assert error["code"] == "no_cuda"
    assert not (tmp_path / "gpu").exists()


def test_check_checkpoint_command(tiny_checkpoint, tmp_path):
    result = run("check_checkpoint", str(tiny_checkpoint / "model.safetensors"), "--load")
    assert result["architecture"] == "tiny"
    assert result["tensors"] == 4
    assert result["loaded"] is True
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"architecture": "tiny", "config": {"width": 9}}))
    message, error = run_error("check_checkpoint", str(tiny_checkpoint), "--config", str(other))
    assert error["code"] == "shape_mismatch"
    assert "proj.weight" in message
    out = StringIO()
    call_command("check_checkpoint", str(tiny_checkpoint), stdout=out)
    assert out.getvalue().startswith("OK: tiny checkpoint")


@pytest.mark.parametrize(("config_text", "code"), [
    ('{"architecture": "tiny", "config": ' + "[" * 10_000 + "]" * 10_000 + "}", "bad_config"),
    ('{"architecture": "tiny", "config": {}, "metrics": {"pad": "' + "x" * 70_000 + '"}}', "too_large"),
])
def test_check_checkpoint_refuses_any_config_in_one_line(tiny_checkpoint, tmp_path, config_text, code):
    """The same config limit as an upload (a 70 KB config was accepted here and refused there), and a config
    nested 10,000 deep is a one-line refusal, not a RecursionError traceback, in-process and from the shell."""
    import subprocess
    import sys

    config = tmp_path / "config.json"
    config.write_text(config_text)
    message, error = run_error("check_checkpoint", str(tiny_checkpoint), "--config", str(config))
    assert error["code"] == code
    assert "\n" not in message
    completed = subprocess.run(
        [sys.executable, "manage.py", "check_checkpoint", str(tiny_checkpoint), "--config", str(config)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr


def test_generate_says_what_it_dropped_from_the_input(tmp_path):
    """Issue 22: lyrics after the last note are dropped (the continuation starts at the last sounding note), and the
    command says so in its JSON and its line."""
    import pretty_midi

    pm = make_pm([MELODY], tempo=84.0, time_signature=(3, 4))
    pm.lyrics.append(pretty_midi.Lyric("amen", pm.get_end_time() + 6.0))
    path = write_midi(pm, tmp_path / "with-lyrics.mid")
    result = run("generate", "transformer", str(path), "-o", str(tmp_path / "o.mid"),
                 "--param", "extension_seconds=2", "--seed", "1")
    assert len(result["adjustments"]) == 1
    assert "lyric" in result["adjustments"][0]
    out = StringIO()
    call_command("generate", "transformer", str(path), "-o", str(tmp_path / "o2.mid"),
                 "--param", "extension_seconds=2", "--seed", "1", stdout=out)
    assert result["adjustments"][0] in out.getvalue()
