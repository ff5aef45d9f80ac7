import subprocess
import sys

import pretty_midi
import pytest

from generation.engine.dataset import REPO_ROOT
from generation.engine.errors import MidiValidationError
from generation.engine.midi_io import (
    MAX_MIDI_BYTES,
    MAX_NOTES,
    NO_NOTES_MESSAGE,
    load_midi,
    load_midi_with_info,
    midi_to_bytes,
    validate_midi_bytes,
    write_midi,
)
from tests.engine.midi_factory import make_pm


def _refusal(data: bytes) -> MidiValidationError:
    with pytest.raises(MidiValidationError) as info:
        validate_midi_bytes(data)
    return info.value


def test_a_valid_file_is_described():
    pm = make_pm([[(60, 0, 1), (64, 1, 2)], [(36, 0, 4)]], tempo=90.0, time_signature=(3, 4))
    info = validate_midi_bytes(midi_to_bytes(pm))
    assert info.n_notes == 3
    assert info.n_tracks == 2
    assert info.tempo_bpm == pytest.approx(90.0)
    assert info.time_signature == (3, 4)
    assert info.seconds == pytest.approx(4 * 60 / 90, rel=1e-4)
    assert info.n_bars == 2  # 4 beats of 3/4


def test_not_midi():
    assert _refusal(b"hello, this is text").code == "not_midi"
    truncated = midi_to_bytes(make_pm([[(60, 0, 1)]]))[:30]
    error = _refusal(truncated)
    assert error.code == "not_midi"
    assert "Standard MIDI File" in error.message


def test_too_large_names_size_and_limit():
    error = _refusal(b"MThd" + b"\0" * MAX_MIDI_BYTES)
    assert error.code == "too_large"
    assert f"{MAX_MIDI_BYTES + 4:,} bytes" in error.message
    assert f"{MAX_MIDI_BYTES:,}" in error.message


def test_too_many_notes_names_count_and_limit():
    notes = [(60 + i % 12, i * 0.01, i * 0.01 + 0.01) for i in range(MAX_NOTES + 1)]
    error = _refusal(midi_to_bytes(make_pm([notes])))
    assert error.code == "too_many_notes"
    assert error.message == f"The MIDI file has {MAX_NOTES + 1:,} notes; the limit is {MAX_NOTES:,}."


def test_too_long_names_duration_and_limit():
    error = _refusal(midi_to_bytes(make_pm([[(60, 0, 1), (62, 1200, 1202)]], tempo=120.0)))  # ends at 601 s
    assert error.code == "too_long"
    assert "601.0 seconds" in error.message
    assert "600 seconds" in error.message


def test_drums_only_is_refused():
    error = _refusal(midi_to_bytes(make_pm([[(36, 0, 1)]], drum_tracks=[0])))
    assert error.code == "no_notes"
    assert error.message == NO_NOTES_MESSAGE
    assert _refusal(midi_to_bytes(pretty_midi.PrettyMIDI())).code == "no_notes"


def test_load_from_path_and_write(tmp_path):
    pm = make_pm([[(60, 0, 1)]])
    path = write_midi(pm, tmp_path / "out" / "a.mid")
    _pm, info = load_midi_with_info(path)
    assert info.n_notes == 1
    assert load_midi(str(path)).instruments[0].notes[0].pitch == 60
    big = tmp_path / "big.mid"
    big.write_bytes(b"MThd" + b"\0" * MAX_MIDI_BYTES)
    with pytest.raises(MidiValidationError) as info:
        load_midi(big)
    assert info.value.code == "too_large"


def test_engine_modules_the_web_uses_do_not_import_torch():
    code = (
        "import sys\n"
        "import generation.engine.midi_io, generation.engine.representation, generation.engine.dataset\n"
        "import generation.engine.events, generation.engine.params, generation.engine.checkpoint\n"
        "import generation.engine.registry\n"
        "from generation.engine.registry import ARCHITECTURES\n"
        "for name, arch in ARCHITECTURES.items():\n"
        "    arch.tensor_specs(arch.config_from_dict({}))\n"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('torch'))\n"
        "assert 'django' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
