"""Audio for any validated MIDI, rendered from its parsed notes with Python packages only.

``render_audio(midi_path, out_path)`` writes .wav, .ogg (Vorbis) or .mp3 (``evaluation.audio`` is this module; the
studio's worker renders with it too). Steps: the engine's reader parses the file
(the platform's limits); every note, program, pitch bend and controller becomes an event at a sample position; a
SoundFont synthesizer renders 44.1 kHz stereo between events into a buffer sized once to the music's end (the last
note's end) plus ``RELEASE_TAIL_SECONDS``: nothing renders past it, whatever the file says (a Mozart K80 export once
made the FluidSynth command line write a 3.0 GB WAV); a short fade, then the loudness is normalized (RMS to
``TARGET_RMS_DBFS``, peaks held under ``PEAK_CEILING_DBFS``) and ``soundfile`` (libsndfile 1.2 in its wheel) encodes
WAV, OGG or MP3. No ffmpeg, no subprocess, no torch, no Django.

Synthesizer, chosen once per process (``synthesizer()``):
- FluidSynth (libfluidsynth, Debian ``fluidsynth``/``libfluidsynth3``) with FluidR3_GM (Debian ``fluid-soundfont-gm``),
  when both are installed: the better-sounding choice, driven note by note through its C API;
- otherwise ``tinysoundfont`` (a wheel) with FluidR3_GM when installed, else the TimGM6mb.sf2 that pretty_midi ships.
CHARTBUSTERS_SOUNDFONT sets the soundfont (any General MIDI .sf2); CHARTBUSTERS_SYNTH=tinysoundfont skips FluidSynth.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generation.engine.midi_io import load_midi

logger = logging.getLogger(__name__)

SAMPLE_RATE = 44_100
RELEASE_TAIL_SECONDS = 1.5  # keeps the last notes' release and reverb; the test allows under 2 s
FADE_SECONDS = 0.25
TARGET_RMS_DBFS = -20.0  # a comfortable listening level, alike for every entry so that judges compare fairly
PEAK_CEILING_DBFS = -1.0  # no clipping after the gain
WRITE_BLOCK_FRAMES = 1 << 15
FORMATS = {".wav": ("WAV", "PCM_16"), ".ogg": ("OGG", "VORBIS"), ".mp3": ("MP3", "MPEG_LAYER_III")}
DRUM_CHANNEL = 9
MELODIC_CHANNELS = [c for c in range(16) if c != DRUM_CHANNEL]
CONTROLLERS = {1, 7, 10, 11, 64, 91, 93}  # modulation, volume, pan, expression, sustain, reverb, chorus
FLUID_SOUNDFONTS = [
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),  # Debian fluid-soundfont-gm
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
]

UNSUPPORTED_FORMAT = "Unsupported audio format {suffix!r}; choose .wav, .ogg or .mp3."
SILENT_RENDER = (
    "{synth} rendered silence from {soundfont} although the music has notes: is it a General MIDI soundfont?"
)
NO_SOUNDFONT = "No General MIDI soundfont found: reinstall pretty_midi or set CHARTBUSTERS_SOUNDFONT."
NO_SYNTH = "tinysoundfont is not installed: run `make install` (it installs tinysoundfont==0.3.7 with --no-deps)."
MISSING_SOUNDFONT = "CHARTBUSTERS_SOUNDFONT is {path}, which is not a file."


class AudioError(RuntimeError):
    """Audio could not be rendered; ``code`` is stable, the message says what to fix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _timgm6mb() -> Path:
    import pretty_midi

    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


def find_soundfont() -> Path:
    """CHARTBUSTERS_SOUNDFONT, else FluidR3_GM when installed, else the TimGM6mb soundfont that pretty_midi ships."""
    override = os.environ.get("CHARTBUSTERS_SOUNDFONT")
    if override:
        if not Path(override).is_file():
            raise AudioError("no_soundfont", MISSING_SOUNDFONT.format(path=override))
        return Path(override)
    for path in [*FLUID_SOUNDFONTS, _timgm6mb()]:
        if path.is_file():
            return path
    raise AudioError("no_soundfont", NO_SOUNDFONT)


# --- Events ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Event:
    """One synthesizer call at ``sample``; ``order`` puts note-offs before note-ons at the same instant."""

    sample: int
    order: int
    kind: str  # "program", "cc", "bend", "off", "on"
    channel: int
    a: int = 0
    b: int = 0


def music_end_seconds(pm) -> float:
    """When the last note ends: controllers or markers after it add nothing to hear."""
    return max((n.end for inst in pm.instruments for n in inst.notes), default=0.0)


def _channels(pm) -> list[int]:
    """A channel per instrument: drums on 10, the others in turn (instruments sharing a program share a channel
    once the 15 melodic channels run out)."""
    channels, by_program, free = [], {}, list(MELODIC_CHANNELS)
    for inst in pm.instruments:
        program = int(inst.program)
        if inst.is_drum:
            channels.append(DRUM_CHANNEL)
        elif free:
            channels.append(free.pop(0))
            by_program.setdefault(program, channels[-1])
        else:
            channels.append(by_program.get(program, MELODIC_CHANNELS[program % len(MELODIC_CHANNELS)]))
    return channels


def note_events(pm, end_sample: int) -> list[Event]:
    """Every event of the parsed music up to ``end_sample``, sorted."""

    def at(seconds: float) -> int:
        return max(0, int(seconds * SAMPLE_RATE + 0.5))

    events = []
    for inst, channel in zip(pm.instruments, _channels(pm), strict=True):
        events.append(Event(0, 0, "program", channel, int(inst.program), int(inst.is_drum)))
        for cc in inst.control_changes:
            if cc.number in CONTROLLERS and at(cc.time) < end_sample:
                events.append(Event(at(cc.time), 1, "cc", channel, int(cc.number), int(cc.value)))
        for bend in inst.pitch_bends:
            if at(bend.time) < end_sample:
                events.append(Event(at(bend.time), 1, "bend", channel, int(bend.pitch) + 8192))
        for note in inst.notes:
            events.append(Event(at(note.start), 3, "on", channel, int(note.pitch), int(note.velocity)))
            off = max(at(note.end), at(note.start) + 1)  # a zero-length note still ends
            events.append(Event(min(off, end_sample), 2, "off", channel, int(note.pitch)))
    events.sort()
    return events


# --- Synthesizers ---------------------------------------------------------------------------------------------------


class TinySoundFont:
    """The ``tinysoundfont`` wheel: a SoundFont synthesizer with no system library."""

    name = "tinysoundfont"

    def __init__(self, soundfont: Path) -> None:
        try:
            import tinysoundfont
        except ImportError as exc:
            raise AudioError("synth_missing", NO_SYNTH) from exc

        self.synth = tinysoundfont.Synth(samplerate=SAMPLE_RATE)
        self.sfid = self.synth.sfload(str(soundfont))
        self.soundfont = soundfont

    def apply(self, event: Event) -> None:
        s = self.synth
        if event.kind == "on":
            s.noteon(event.channel, event.a, event.b)
        elif event.kind == "off":
            s.noteoff(event.channel, event.a)
        elif event.kind == "program":
            try:
                s.program_select(event.channel, self.sfid, 128 if event.b else 0, event.a, is_drums=bool(event.b))
            except RuntimeError:  # a preset the soundfont lacks: the first one of its bank
                s.program_select(event.channel, self.sfid, 128 if event.b else 0, 0, is_drums=bool(event.b))
        elif event.kind == "cc":
            s.control_change(event.channel, event.a, event.b)
        elif event.kind == "bend":
            s.pitchbend(event.channel, event.a)

    def render(self, out: np.ndarray) -> None:
        """Fill ``out`` ((n, 2) float32, C-contiguous) with the next n frames."""
        if len(out):
            self.synth.generate_simple(len(out), buffer=memoryview(out).cast("B"))

    def close(self) -> None:
        self.synth = None


class FluidSynth:
    """libfluidsynth through ctypes (no command line, no file handed over): the same events, note by note."""

    name = "FluidSynth"

    def __init__(self, soundfont: Path, library: str) -> None:
        lib = ctypes.CDLL(library)
        for fn, restype, argtypes in [
            ("new_fluid_settings", ctypes.c_void_p, []),
            ("delete_fluid_settings", None, [ctypes.c_void_p]),
            ("fluid_settings_setnum", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double]),
            ("fluid_settings_setint", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]),
            ("new_fluid_synth", ctypes.c_void_p, [ctypes.c_void_p]),
            ("delete_fluid_synth", None, [ctypes.c_void_p]),
            ("fluid_synth_sfload", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]),
            ("fluid_synth_noteon", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]),
            ("fluid_synth_noteoff", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]),
            ("fluid_synth_program_select", ctypes.c_int,
             [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]),
            ("fluid_synth_set_channel_type", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]),
            ("fluid_synth_cc", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]),
            ("fluid_synth_pitch_bend", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]),
            ("fluid_synth_write_float", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                                       ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]),
        ]:  # fmt: skip
            getattr(lib, fn).restype = restype
            getattr(lib, fn).argtypes = argtypes
        self.lib = lib
        self.settings = lib.new_fluid_settings()
        lib.fluid_settings_setnum(self.settings, b"synth.sample-rate", float(SAMPLE_RATE))
        lib.fluid_settings_setint(self.settings, b"synth.dynamic-sample-loading", 1)
        self.synth = lib.new_fluid_synth(self.settings)
        self.sfid = lib.fluid_synth_sfload(self.synth, str(soundfont).encode(), 1)
        if self.sfid < 0:
            self.close()
            raise AudioError("no_soundfont", f"FluidSynth could not load {soundfont}.")
        self.soundfont = soundfont

    def apply(self, event: Event) -> None:
        lib, synth = self.lib, self.synth
        if event.kind == "on":
            lib.fluid_synth_noteon(synth, event.channel, event.a, event.b)
        elif event.kind == "off":
            lib.fluid_synth_noteoff(synth, event.channel, event.a)
        elif event.kind == "program":
            lib.fluid_synth_set_channel_type(synth, event.channel, 1 if event.b else 0)  # CHANNEL_TYPE_DRUM = 1
            lib.fluid_synth_program_select(synth, event.channel, self.sfid, 128 if event.b else 0, event.a)
        elif event.kind == "cc":
            lib.fluid_synth_cc(synth, event.channel, event.a, event.b)
        elif event.kind == "bend":
            lib.fluid_synth_pitch_bend(synth, event.channel, event.a)

    def render(self, out: np.ndarray) -> None:
        """Interleaved stereo: left at offset 0, right at offset 1, both with stride 2."""
        if len(out):
            base = out.ctypes.data
            self.lib.fluid_synth_write_float(self.synth, len(out), base, 0, 2, base + 4, 0, 2)

    def close(self) -> None:
        if getattr(self, "synth", None):
            self.lib.delete_fluid_synth(self.synth)
            self.synth = None
        if getattr(self, "settings", None):
            self.lib.delete_fluid_settings(self.settings)
            self.settings = None


@functools.cache
def fluidsynth_library() -> str | None:
    """libfluidsynth's file name when installed and not turned off by CHARTBUSTERS_SYNTH=tinysoundfont."""
    if os.environ.get("CHARTBUSTERS_SYNTH", "").lower() == "tinysoundfont":
        return None
    return ctypes.util.find_library("fluidsynth")


def synthesizer():
    """FluidSynth with FluidR3_GM (or CHARTBUSTERS_SOUNDFONT) when installed, else tinysoundfont."""
    soundfont = find_soundfont()
    library = fluidsynth_library()
    if library and soundfont != _timgm6mb():
        try:
            return FluidSynth(soundfont, library)
        except (OSError, AttributeError, AudioError) as exc:  # an unusable libfluidsynth: the wheel still renders
            logger.warning("FluidSynth (%s) is unusable, rendering with tinysoundfont: %s", library, exc)
    return TinySoundFont(soundfont)


def synthesize(pm, synth) -> np.ndarray:
    """Render the parsed music ``pm`` with ``synth``: (n, 2) float32, n = the music's end plus the release tail."""
    total = int((music_end_seconds(pm) + RELEASE_TAIL_SECONDS) * SAMPLE_RATE + 0.5)
    out = np.zeros((total, 2), dtype=np.float32)
    position = 0
    for event in note_events(pm, total):
        if event.sample > position:
            synth.render(out[position : event.sample])
            position = event.sample
        synth.apply(event)
    synth.render(out[position:])
    return out


# --- Loudness and files -----------------------------------------------------------------------------------------------


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


def read_audio(path: str | Path) -> np.ndarray:
    """(n_samples, channels) float32 in [-1, 1] from any file libsndfile reads (WAV, OGG, MP3)."""
    import soundfile

    data, _rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return data


read_wav = read_audio


def write_audio(audio: np.ndarray, path: Path) -> None:
    """WAV (16-bit PCM), OGG Vorbis or MP3 by the suffix, through libsndfile."""
    import soundfile

    container, subtype = FORMATS[path.suffix.lower()]
    audio = np.clip(audio, -1.0, 1.0)
    with soundfile.SoundFile(str(path), "w", SAMPLE_RATE, audio.shape[1], subtype, format=container) as f:
        for start in range(0, len(audio), WRITE_BLOCK_FRAMES):  # libsndfile's Vorbis encoder crashes on huge writes
            f.write(audio[start : start + WRITE_BLOCK_FRAMES])


def render_audio(midi_path: str | Path, out_path: str | Path) -> Path:
    """Render ``midi_path`` (validated against the platform limits) to ``out_path`` (.wav, .ogg or .mp3)."""
    midi_path, out_path = Path(midi_path), Path(out_path)
    if out_path.suffix.lower() not in FORMATS:
        raise AudioError("unsupported_format", UNSUPPORTED_FORMAT.format(suffix=out_path.suffix))
    pm = load_midi(midi_path)  # MidiValidationError for bad input, before anything renders
    return render_pm_audio(pm, out_path)


def render_pm_audio(pm, out_path: str | Path) -> Path:
    """Render already parsed (and validated) music ``pm`` to ``out_path`` (.wav, .ogg or .mp3)."""
    out_path = Path(out_path)
    if out_path.suffix.lower() not in FORMATS:
        raise AudioError("unsupported_format", UNSUPPORTED_FORMAT.format(suffix=out_path.suffix))
    synth = synthesizer()
    try:
        audio = synthesize(pm, synth)
    finally:
        synth.close()
    if not len(audio) or float(np.abs(audio).max()) < 1e-6:  # validated MIDI always has notes
        raise AudioError("render_failed", SILENT_RENDER.format(synth=synth.name, soundfont=synth.soundfont.name))
    audio = trim_and_normalize(audio, music_end_seconds(pm))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_audio(audio, out_path)
    return out_path
