"""Audio rendering (the default path is Python packages only: tinysoundfont + soundfile) and the piano-roll PNG.

Nothing here skips on a machine without FluidSynth or ffmpeg: that machine renders with the wheels. The FluidSynth
test runs where libfluidsynth and FluidR3_GM are installed.
"""

from __future__ import annotations

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile
from django.core.management import CommandError, call_command

from evaluation import audio
from evaluation.audio import (
    FLUID_SOUNDFONTS,
    RELEASE_TAIL_SECONDS,
    UNSUPPORTED_FORMAT,
    AudioError,
    read_audio,
    render_audio,
    synthesizer,
)
from evaluation.pianoroll import render_pianoroll_png
from tests.evaluation.music import piece, random_walk_piece, write


def _duration(path) -> float:
    return soundfile.info(str(path)).duration


def test_wav_is_as_long_as_the_music_and_not_silent(tmp_path):
    pm = random_walk_piece(1, n_notes=12)
    music_seconds = pm.get_end_time()
    out = render_audio(write(pm, tmp_path / "in.mid"), tmp_path / "out.wav")
    audio_data = read_audio(out)
    seconds = len(audio_data) / 44_100
    assert music_seconds <= seconds <= music_seconds + 2.0
    assert seconds <= music_seconds + RELEASE_TAIL_SECONDS + 0.01
    rms_db = 20 * np.log10(np.sqrt(np.mean(audio_data.astype(np.float64) ** 2)))
    assert -30 < rms_db < -10  # normalized near -20 dBFS
    assert np.abs(audio_data).max() < 0.95  # no clipping


@pytest.mark.parametrize("suffix", [".ogg", ".mp3"])
def test_encoded_formats(tmp_path, suffix):
    pm = piece([[(60, 0, 2), (64, 2, 4), (67, 4, 8)]])  # 4 s at 120 bpm
    out = render_audio(write(pm, tmp_path / "in.mid"), tmp_path / f"out{suffix}")
    assert soundfile.info(str(out)).format == suffix[1:].upper()
    assert 4.0 <= _duration(out) <= 6.0
    assert np.abs(read_audio(out)).max() > 0.05  # music, not silence


def test_default_synthesizer_needs_no_system_package(monkeypatch):
    """Without FluidSynth (CHARTBUSTERS_SYNTH=tinysoundfont hides it), the wheel renders with a packaged soundfont."""
    monkeypatch.setenv("CHARTBUSTERS_SYNTH", "tinysoundfont")
    audio.fluidsynth_library.cache_clear()
    try:
        synth = synthesizer()
        synth.close()
    finally:
        audio.fluidsynth_library.cache_clear()
    assert synth.name == "tinysoundfont"
    installed = next((p for p in FLUID_SOUNDFONTS if p.is_file()), None)
    assert synth.soundfont == (installed or audio._timgm6mb())


@pytest.mark.skipif(audio.fluidsynth_library() is None or not any(p.is_file() for p in FLUID_SOUNDFONTS),
                    reason="libfluidsynth and fluid-soundfont-gm are not installed (the default path needs neither)")
def test_fluidsynth_is_chosen_when_installed(tmp_path):
    synth = synthesizer()
    synth.close()
    assert synth.name == "FluidSynth"
    out = render_audio(write(piece([[(60, 0, 2)]]), tmp_path / "in.mid"), tmp_path / "out.wav")
    assert np.abs(read_audio(out)).max() > 0.05


def test_nothing_renders_past_the_last_note(tmp_path):
    """A controller 9 minutes after the last note (as some exports carry) does not make 9 minutes of audio."""
    pm = piece([[(60, 0, 2), (67, 2, 4)]])  # 2 s
    pm.instruments[0].control_changes.append(pretty_midi.ControlChange(7, 100, 540.0))
    midi = write(pm, tmp_path / "in.mid")
    midi_file = mido.MidiFile(str(midi))
    midi_file.tracks[-1].append(mido.MetaMessage("marker", text="far away", time=midi_file.ticks_per_beat * 100))
    midi_file.save(str(midi))
    out = render_audio(midi, tmp_path / "out.wav")
    assert 2.0 <= _duration(out) <= 2.0 + RELEASE_TAIL_SECONDS + 0.01


@pytest.mark.slow
def test_mozart_k80_export_renders_in_bounded_length_and_size(tmp_path):
    """music21's export of Mozart K80 made FluidSynth's command line write a 3.0 GB WAV until its timeout: now the
    audio is the music (4 min 45 s) plus the tail, rendered from the notes, as MP3 of a few megabytes."""
    import music21

    midi = tmp_path / "k80.mid"
    music21.corpus.parse("mozart/k80/movement1").write("midi", str(midi))
    music_end = audio.music_end_seconds(pretty_midi.PrettyMIDI(str(midi)))
    assert music_end > 200
    out = render_audio(midi, tmp_path / "k80.mp3")  # its time: benchmarks/audio_speed.py --k80
    assert music_end <= _duration(out) <= music_end + RELEASE_TAIL_SECONDS + 0.1
    assert out.stat().st_size < 10 * 1024 * 1024


def test_unsupported_format_is_refused(tmp_path):
    with pytest.raises(AudioError) as err:
        render_audio(write(piece([[(60, 0, 1)]]), tmp_path / "in.mid"), tmp_path / "out.flac")
    assert err.value.message == UNSUPPORTED_FORMAT.format(suffix=".flac")


def test_render_audio_command(tmp_path):
    midi = write(piece([[(60, 0, 2)]]), tmp_path / "in.mid")
    call_command("render_audio", str(midi), "-o", str(tmp_path / "out.mp3"), "--pianoroll", str(tmp_path / "r.png"))
    assert _duration(tmp_path / "out.mp3") >= 1.0
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(CommandError, match="No such file"):
        call_command("render_audio", str(tmp_path / "missing.mid"), "-o", str(tmp_path / "x.wav"))


def test_pianoroll_png(tmp_path):
    pm = piece([[(72, 0, 1)], [(60, 0, 2)]], drums=[(36, 0, 1)])
    out = render_pianoroll_png(write(pm, tmp_path / "in.mid"), tmp_path / "roll.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
