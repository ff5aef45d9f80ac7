"""Audio for any validated MIDI: FluidSynth with a General MIDI soundfont, loudness-normalized, encoded by ffmpeg.

``render_audio(midi_path, out_path)`` writes .wav, .ogg (Vorbis) or .mp3. Steps: FluidSynth renders 44.1 kHz stereo
PCM to a temporary WAV; numpy trims the tail to the music's end plus ``RELEASE_TAIL_SECONDS`` (with a short fade),
normalizes the loudness (RMS to ``TARGET_RMS_DBFS``, peaks held under ``PEAK_CEILING_DBFS``); WAV is written directly,
OGG and MP3 go through ffmpeg. No torch, no Django (the soundfont may be set with CHARTBUSTERS_SOUNDFONT).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from generation.engine.midi_io import load_midi

SAMPLE_RATE = 44_100
RELEASE_TAIL_SECONDS = 1.5  # keeps the last notes' release and reverb; the test allows under 2 s
FADE_SECONDS = 0.25
TARGET_RMS_DBFS = -20.0  # a comfortable listening level, alike for every entry so that judges compare fairly
PEAK_CEILING_DBFS = -1.0  # no clipping after the gain
SUBPROCESS_TIMEOUT_SECONDS = 120
FORMATS = {".wav", ".ogg", ".mp3"}
SOUNDFONT_CANDIDATES = [
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),  # Debian fluid-soundfont-gm
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
]

UNSUPPORTED_FORMAT = "Unsupported audio format {suffix!r}; choose .wav, .ogg or .mp3."
TOOL_MISSING = "{tool} is not installed; install it (Debian: apt-get install {package}) to render audio."
SILENT_RENDER = (
    "FluidSynth rendered silence from {soundfont} although the music has notes: is it a General MIDI soundfont?"
)
NO_SOUNDFONT = "No General MIDI soundfont found; install fluid-soundfont-gm or set CHARTBUSTERS_SOUNDFONT."
TOOL_FAILED = "{tool} failed to render the audio: {detail}"


class AudioError(RuntimeError):
    """Audio could not be rendered; ``code`` is stable, the message says what to fix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def find_soundfont() -> Path:
    """CHARTBUSTERS_SOUNDFONT, else FluidR3_GM, else the small TimGM6mb soundfont that pretty_midi ships."""
    override = os.environ.get("CHARTBUSTERS_SOUNDFONT")
    candidates = [Path(override)] if override else []
    candidates += SOUNDFONT_CANDIDATES
    try:
        import pretty_midi

        candidates.append(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2")
    except ImportError:  # pragma: no cover - pretty_midi is a dependency
        pass
    for path in candidates:
        if path.is_file():
            return path
    raise AudioError("no_soundfont", NO_SOUNDFONT)


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AudioError("tool_missing", TOOL_MISSING.format(tool=name, package=package))
    return path


def _run(args: list[str], tool: str) -> None:
    try:
        result = subprocess.run(args, capture_output=True, timeout=SUBPROCESS_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AudioError("render_failed", TOOL_FAILED.format(tool=tool, detail="timed out")) from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).decode(errors="replace").strip().splitlines()
        raise AudioError("render_failed", TOOL_FAILED.format(tool=tool, detail=detail[-1] if detail else "no output"))


def synthesize(midi_path: Path, wav_path: Path, soundfont: Path | None = None) -> None:
    """FluidSynth, file to file, faster than real time (samples loaded on demand from the 140 MB soundfont)."""
    args = [
        _tool("fluidsynth", "fluidsynth"), "-ni", "-q", "-o", "synth.dynamic-sample-loading=1",
        "-F", str(wav_path), "-r", str(SAMPLE_RATE), str(soundfont or find_soundfont()), str(midi_path),
    ]  # fmt: skip
    _run(args, "fluidsynth")


def read_wav(path: Path) -> np.ndarray:
    """(n_samples, channels) float32 in [-1, 1] from a 16-bit PCM WAV."""
    with wave.open(str(path), "rb") as f:
        channels = f.getnchannels()
        data = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")
    return (data.reshape(-1, channels).astype(np.float32)) / 32768.0


def _pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def trim_and_normalize(audio: np.ndarray, music_seconds: float) -> np.ndarray:
    """Cut to the music plus the release tail (fading out), then set the loudness; silence stays silence."""
    keep = min(len(audio), int((music_seconds + RELEASE_TAIL_SECONDS) * SAMPLE_RATE))
    audio = audio[:keep].copy()
    fade = min(keep, int(FADE_SECONDS * SAMPLE_RATE))
    if fade:
        audio[keep - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0
    peak = float(np.abs(audio).max()) if len(audio) else 0.0
    if rms < 1e-6:
        return audio
    gain = min(10 ** (TARGET_RMS_DBFS / 20) / rms, 10 ** (PEAK_CEILING_DBFS / 20) / peak)
    return audio * np.float32(gain)


def write_wav(audio: np.ndarray, path: Path) -> None:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(audio.shape[1])
        f.setsampwidth(2)
        f.setframerate(SAMPLE_RATE)
        f.writeframes(_pcm16(audio))


def encode(audio: np.ndarray, out_path: Path) -> None:
    """OGG Vorbis or MP3 through ffmpeg, PCM piped on stdin."""
    codec = ["-c:a", "libvorbis", "-q:a", "5"] if out_path.suffix == ".ogg" else ["-c:a", "libmp3lame", "-q:a", "3"]
    args = [
        _tool("ffmpeg", "ffmpeg"), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", str(audio.shape[1]), "-i", "pipe:0", *codec, str(out_path),
    ]  # fmt: skip
    try:
        result = subprocess.run(args, input=_pcm16(audio), capture_output=True, timeout=SUBPROCESS_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise AudioError("render_failed", TOOL_FAILED.format(tool="ffmpeg", detail="timed out")) from exc
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError("render_failed", TOOL_FAILED.format(tool="ffmpeg", detail=detail[-1] if detail else "?"))


def render_audio(midi_path: str | Path, out_path: str | Path) -> Path:
    """Render ``midi_path`` (validated against the platform limits) to ``out_path`` (.wav, .ogg or .mp3)."""
    midi_path, out_path = Path(midi_path), Path(out_path)
    if out_path.suffix.lower() not in FORMATS:
        raise AudioError("unsupported_format", UNSUPPORTED_FORMAT.format(suffix=out_path.suffix))
    pm = load_midi(midi_path)  # MidiValidationError for bad input, before any tool runs
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chartbusters-audio-") as tmp:
        raw = Path(tmp) / "raw.wav"
        soundfont = find_soundfont()
        synthesize(midi_path, raw, soundfont)
        audio = read_wav(raw)
        if not len(audio) or float(np.abs(audio).max()) < 1e-6:  # validated MIDI always has notes
            raise AudioError("render_failed", SILENT_RENDER.format(soundfont=soundfont.name))
        audio = trim_and_normalize(audio, pm.get_end_time())
    if out_path.suffix.lower() == ".wav":
        write_wav(audio, out_path)
    else:
        encode(audio, out_path)
    return out_path
