import contextlib
import subprocess
import sys
from pathlib import Path

import pretty_midi
import pytest

from generation.engine.dataset import REPO_ROOT
from generation.engine.errors import MidiValidationError
from generation.engine.midi_io import (
    MAX_EVENTS,
    MAX_MIDI_BYTES,
    MAX_NOTES,
    MAX_TICKS,
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
    # the reader stops at the first note past the limit, so it names the limit, not a full count
    assert error.message == f"The MIDI file has more than {MAX_NOTES:,} notes; the limit is {MAX_NOTES:,}."


def smf(*tracks: bytes, ticks_per_beat: int = 480) -> bytes:
    """A type-1 Standard MIDI File from raw track bodies (events without the MTrk header)."""
    header = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + len(tracks).to_bytes(2, "big")
    chunks = b"".join(b"MTrk" + len(body).to_bytes(4, "big") + body for body in tracks)
    return header + ticks_per_beat.to_bytes(2, "big") + chunks


def test_a_2_mib_file_of_running_status_notes_is_refused_early():
    # one note-on, then running status: 3 bytes a note, ~700,000 notes in 2 MiB (12 s and 270 MB before)
    body = b"\x00\x90\x3c\x40" + b"\x00\x3c\x40" * ((MAX_MIDI_BYTES - 100) // 3)
    data = smf(body)
    assert len(data) <= MAX_MIDI_BYTES
    error = _refusal(data)  # its time and memory: benchmarks/midi_validation.py
    assert error.code == "too_many_notes"
    assert f"more than {MAX_NOTES:,} notes" in error.message


def test_a_2_mib_file_of_other_events_is_refused_early():
    body = b"\x00\xb0\x07\x40" + b"\x00\x07\x40" * ((MAX_MIDI_BYTES - 100) // 3)  # control changes
    error = _refusal(smf(body))
    assert error.code == "too_many_events"
    assert f"more than {MAX_EVENTS:,} MIDI events" in error.message


def test_a_file_at_every_limit_is_read():
    # 20,000 notes (on + off) and control changes up to the event limit: the most a file may hold (its time:
    # benchmarks/midi_validation.py)
    notes = b"".join(b"\x0a\x90" + bytes([40 + i % 40, 64]) + b"\x0a\x80" + bytes([40 + i % 40, 0])
                     for i in range(MAX_NOTES))
    others = b"\x00\xb0\x07\x40" + b"\x00\x07\x40" * (MAX_EVENTS - 2 * MAX_NOTES - 2)
    info = validate_midi_bytes(smf(notes + others + b"\x00\xff\x2f\x00"))
    assert info.n_notes == MAX_NOTES


def test_corrupt_tracks_are_refused_with_a_reason():
    bodies = (b"\x00\x3c\x40", b"\x00\x90\x3c", b"\x00\xff\x51\x09\x07", b"\x00\x90\xbc\x40", b"\x80\x80\x80\x80\x80")
    for body in bodies:  # running status without status, cut event, cut meta, data byte > 127, endless delta
        error = _refusal(smf(body))
        assert error.code == "not_midi", body
    assert _refusal(smf(ticks_per_beat=0xE728)).code == "not_midi"  # SMPTE division


MUSIC21_EXPORTS = Path(__file__).parent / "data"


@pytest.mark.parametrize(("name", "n_notes", "seconds"), [
    ("music21-beethoven-opus18no1-movement1.mid", 5505, 581.8),
    ("music21-haydn-opus74no1-movement2.mid", 3896, 260.5),
])
def test_high_resolution_exports_of_music21_are_read_exactly(name, n_notes, seconds):
    """music21's `corpus.parse("beethoven/opus18no1").write("midi", fp)` (and haydn/opus74no1/movement2): 10,080 ticks
    a beat, 12,912,481 ticks in all, refused before as 'likely corrupt'. Read at a lower resolution, every note
    keeps its time to a millisecond (compared with pretty_midi's own reading at full resolution)."""
    data = (MUSIC21_EXPORTS / name).read_bytes()
    assert int.from_bytes(data[12:14], "big") == 10080
    pm, info = load_midi_with_info(data)  # its time: benchmarks/midi_validation.py
    assert (info.n_notes, round(info.seconds, 1), info.n_tracks) == (n_notes, seconds, 4)
    assert pm.resolution * info.seconds / 60 * info.tempo_bpm <= MAX_TICKS + pm.resolution

    import io

    import pretty_midi.pretty_midi as pretty_midi_module

    original_limit = pretty_midi_module.MAX_TICK
    pretty_midi_module.MAX_TICK = 1e8
    try:
        reference = pretty_midi.PrettyMIDI(io.BytesIO(data))
    finally:
        pretty_midi_module.MAX_TICK = original_limit
    for ours, theirs in zip(pm.instruments, reference.instruments, strict=True):
        assert [n.pitch for n in ours.notes] == [n.pitch for n in theirs.notes]
        pairs = zip(ours.notes, theirs.notes, strict=True)
        assert max(abs(a.start - b.start) + abs(a.end - b.end) for a, b in pairs) < 1e-3


def test_a_high_resolution_export_over_ten_minutes_is_refused_for_its_length():
    # haydn/opus74no1 movement 1 has no tempo mark: at 120 bpm it lasts 615.5 s
    error = _refusal((MUSIC21_EXPORTS / "music21-haydn-opus74no1-movement1.mid").read_bytes())
    assert error.code == "too_long"
    assert "615.5 seconds" in error.message


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
        "import generation.engine.registry, generation.engine.loading, generation.engine.pipeline\n"
        "from generation.engine.registry import SPEC_MODULES, get_spec\n"
        "for name in SPEC_MODULES:\n"
        "    spec = get_spec(name)\n"
        "    spec.tensor_specs(spec.config_from_dict({}))\n"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('torch'))\n"
        "assert 'django' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr


def test_damaged_files_are_refused_never_crash():
    """Random byte damage to a real file: read or refused with MidiValidationError, nothing else."""
    import random

    original = (MUSIC21_EXPORTS / "music21-haydn-opus74no1-movement2.mid").read_bytes()[:3000]
    rng = random.Random(9)
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(14, len(data))] = rng.randrange(256)
        with contextlib.suppress(MidiValidationError):
            validate_midi_bytes(bytes(data))
    for status in (0xF1, 0xF2, 0xF8, 0xFE):
        assert _refusal(smf(bytes([0, status, 1, 2]))).code == "not_midi"
    assert _refusal(smf(b"\x00\xff\x51\x01\x07")).code == "not_midi"  # a tempo event of one byte
