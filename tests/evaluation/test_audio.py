"""Audio rendering with the real FluidSynth and ffmpeg, and the piano-roll PNG."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from evaluation.audio import RELEASE_TAIL_SECONDS, UNSUPPORTED_FORMAT, AudioError, read_wav, render_audio
from evaluation.pianoroll import render_pianoroll_png
from tests.evaluation.music import piece, random_walk_piece, write

needs_tools = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or shutil.which("ffmpeg") is None, reason="fluidsynth and ffmpeg are needed"
)


def _duration(path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


@needs_tools
def test_wav_is_as_long_as_the_music_and_not_silent(tmp_path):
    pm = random_walk_piece(1, n_notes=12)
    music_seconds = pm.get_end_time()
    out = render_audio(write(pm, tmp_path / "in.mid"), tmp_path / "out.wav")
    audio = read_wav(out)
    seconds = len(audio) / 44_100
    assert music_seconds <= seconds <= music_seconds + 2.0
    assert seconds <= music_seconds + RELEASE_TAIL_SECONDS + 0.01
    rms_db = 20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    assert -30 < rms_db < -10  # normalized near -20 dBFS
    assert np.abs(audio).max() < 0.95  # no clipping


@needs_tools
@pytest.mark.parametrize("suffix", [".ogg", ".mp3"])
def test_encoded_formats(tmp_path, suffix):
    pm = piece([[(60, 0, 2), (64, 2, 4), (67, 4, 8)]])  # 4 s at 120 bpm
    out = render_audio(write(pm, tmp_path / "in.mid"), tmp_path / f"out{suffix}")
    assert 4.0 <= _duration(out) <= 6.0


def test_unsupported_format_is_refused(tmp_path):
    with pytest.raises(AudioError) as err:
        render_audio(write(piece([[(60, 0, 1)]]), tmp_path / "in.mid"), tmp_path / "out.flac")
    assert err.value.message == UNSUPPORTED_FORMAT.format(suffix=".flac")


@needs_tools
def test_render_audio_command(tmp_path):
    midi = write(piece([[(60, 0, 2)]]), tmp_path / "in.mid")
    call_command("render_audio", str(midi), "-o", str(tmp_path / "out.wav"), "--pianoroll", str(tmp_path / "r.png"))
    assert (tmp_path / "out.wav").stat().st_size > 44_100
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(CommandError, match="No such file"):
        call_command("render_audio", str(tmp_path / "missing.mid"), "-o", str(tmp_path / "x.wav"))


def test_pianoroll_png(tmp_path):
    pm = piece([[(72, 0, 1)], [(60, 0, 2)]], drums=[(36, 0, 1)])
    out = render_pianoroll_png(write(pm, tmp_path / "in.mid"), tmp_path / "roll.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
