"""GAN accompaniment sampler: a melody in, the melody note for note plus alto, tenor and bass out.

`generate(model, pm, params, seed)` (the pipeline calls it):
1. the melody is the highest non-drum track (by mean pitch) with notes; every input track comes back verbatim and
   the three parts are added after them (spec EDITS = "none": the pipeline keeps the input's tracks);
2. its top line (one pitch a step) is transposed from its key (the file's first key signature, else estimated from
   the melody) to C major / A minor, and by octaves so that its median pitch is near the model's `melody_center`
   (the model learned one key, around there); any note still outside the model's range is moved by octaves for the
   model's eyes only;
3. `model.accompany` walks 4-bar windows every 3 bars: each window's first bar holds the end of the previous window's
   parts, so voices continue across the edges; one noise draw a beat, and each event drawn from the predicted
   distribution at a temperature, from the seed, keeping clear of parallel fifths, octaves and crossings;
4. the parts are transposed back (by whole octaves more when that is needed to stay within MIDI's 0..127) and
   written as three tracks with the `programs` asked for, the input's tempo and time signature.

No melody (``melody=generate``, or an input without a pitched note): a soprano of ``bars`` bars of 4/4 in ``key`` is
drawn first from the style's Markov chain (soprano.py: pitches and note lengths fitted to that style's training
sopranos) and added as a track after the input's (named Soprano), then accompanied as above; the file's meter
becomes 4/4 and its key signature ``key``.

What the sampler changes to fit a melody to the model is never silent: each adjustment is a sentence in the
returned MIDI's text events (and markers), prefixed `ADJUSTMENT_PREFIX`. They are: which track was accompanied when
the input has several, a melody longer than 32 bars (the
accompaniment covers its first 32), a melody that had to move by more than an octave, melody notes folded into the
model's range, parts moved by octaves to stay within MIDI's range, and rests of the melody longer than two bars (the
accompaniment rests there too: with no melody there is no harmony to follow).
"""

from __future__ import annotations

import copy
import secrets

import numpy as np
import pretty_midi
import torch

from generation.engine.errors import MidiValidationError
from generation.engine.models.gan.encoding import REST, key_of_signature, line_to_roll, melody_for_model, top_line
from generation.engine.models.gan.model import Generator, accompany
from generation.engine.models.gan.soprano import load_chains, sample_soprano
from generation.engine.models.gan.spec import DEFAULT_STYLE, N_VOICES, VOICE_NAMES, VOICE_RANGES
from generation.engine.representation import DEFAULT_VELOCITY, midi_to_rolls, roll_to_notes, steps_to_seconds

MAX_BARS = 32  # docs/design.md section 4: melodies of 1-32 bars
LONG_REST_BARS = 2  # a melody rest at least this long silences the accompaniment there
ADJUSTMENT_PREFIX = "gan adjustment: "
NO_MELODY_MESSAGE = "The MIDI file has no non-drum track with notes to accompany."


# ------------------------------------------------------------------------------------------------ MIDI in and out
def choose_melody_track(pm: pretty_midi.PrettyMIDI) -> int:
    """The highest non-drum instrument with notes (by mean pitch), as `train --data` reads a file."""
    candidates = [i for i, inst in enumerate(pm.instruments) if not inst.is_drum and inst.notes]
    if not candidates:
        raise MidiValidationError("no_notes", NO_MELODY_MESSAGE)
    return max(candidates, key=lambda i: (np.mean([n.pitch for n in pm.instruments[i].notes]), -i))


def long_rests(pitch: np.ndarray, min_steps: int) -> list[tuple[int, int]]:
    """(start, end) step spans where the line rests for at least ``min_steps`` steps."""
    silent = np.concatenate([[False], pitch < 0, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(np.int8)))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True) if e - s >= min_steps]


def key_number(name: str) -> int:
    """"D minor" -> pretty_midi's key number (0-11 major, 12-23 minor)."""
    return pretty_midi.key_name_to_key_number(name.replace("major", "Major"))


def with_generated_soprano(pm: pretty_midi.PrettyMIDI, *, style: str, bars: int, key: str, seed: int
                           ) -> tuple[pretty_midi.PrettyMIDI, int]:
    """A copy of ``pm`` with a soprano of ``bars`` bars of 4/4 in ``key`` added after its tracks (soprano.py: the
    style's Markov chain, drawn from ``seed``), the file's meter set to 4/4 and its key signature to ``key``; and the
    new track's index."""
    number = key_number(key)
    root, mode = key_of_signature(number)
    pitch, onset = sample_soprano(load_chains()[style], (root, mode), bars, np.random.default_rng(seed))
    out = copy.copy(pm)
    out.instruments = list(pm.instruments)
    out.time_signature_changes = [pretty_midi.TimeSignature(4, 4, 0.0)]
    out.key_signature_changes = [pretty_midi.KeySignature(number, 0.0)]
    roll, onsets = line_to_roll(pitch, onset)
    pitches, starts, ends = roll_to_notes(roll, onsets)
    seconds = steps_to_seconds(out, np.stack([starts, ends]).astype(np.float64))
    soprano = pretty_midi.Instrument(program=0, name="Soprano")
    soprano.notes = [pretty_midi.Note(DEFAULT_VELOCITY, int(p), float(s), float(e))
                     for p, s, e in zip(pitches.tolist(), seconds[0].tolist(), seconds[1].tolist(), strict=True)]
    out.instruments.append(soprano)
    return out, len(out.instruments) - 1


def writes_soprano(pm: pretty_midi.PrettyMIDI, params: dict) -> bool:
    """melody=generate, or an input with no pitched note to accompany."""
    return params.get("melody") == "generate" or not any(i.notes and not i.is_drum for i in pm.instruments)


def generate(model: Generator, pm: pretty_midi.PrettyMIDI, params: dict, seed: int | None = None
             ) -> pretty_midi.PrettyMIDI:
    """Accompany the melody of ``pm`` (see the module docstring), or with ``writes_soprano``, a soprano of
    ``bars`` bars in ``key`` written first. params: ``programs`` (three GM programs), ``style``, ``melody``,
    ``bars``, ``key``."""
    cfg = model.config
    programs = [int(p) for p in params.get("programs") or (0, 0, 0)]
    seed = int(seed) if seed is not None else secrets.randbits(63)
    generated = writes_soprano(pm, params)
    if generated:
        pm, melody_index = with_generated_soprano(pm, style=params.get("style") or DEFAULT_STYLE,
                                                  bars=int(params.get("bars") or 8),
                                                  key=params.get("key") or "C major", seed=seed)
    else:
        melody_index = choose_melody_track(pm)
    rolls = midi_to_rolls(pm)
    steps_per_bar = rolls.steps_per_bar
    adjustments: list[str] = []
    if len(pm.instruments) > 1 and not generated:
        adjustments.append(f"the parts accompany track {melody_index + 1}, the highest of the "
                           f"{len(pm.instruments)} tracks; every input track is kept as it was")
    pitch, onset = top_line(rolls.tracks[melody_index], rolls.onsets[melody_index])  # (T,) each
    n_steps = min(len(pitch), MAX_BARS * steps_per_bar)
    if len(pitch) > n_steps:
        adjustments.append(f"the melody is longer than {MAX_BARS} bars: the accompaniment covers its first "
                           f"{MAX_BARS} bars")
    pitch, onset = pitch[:n_steps], onset[:n_steps]

    key = key_of_signature(pm.key_signature_changes[0].key_number) if pm.key_signature_changes else None
    folded, shift = melody_for_model(pitch, cfg, key)
    if abs(shift) > 12:
        adjustments.append(f"the melody (median pitch {cfg.melody_center - shift}) was transposed by {shift:+d} "
                           "semitones for the model, and the parts back")
    moved = np.where(pitch >= 0, pitch + shift, REST)
    n_folded = int(((folded != moved) & onset).sum())
    if n_folded:
        adjustments.append(f"{n_folded} melody note(s) beyond the model's range were read an octave or more nearer "
                           "its middle (the melody itself is unchanged)")

    generator = torch.Generator().manual_seed(seed)
    # the voices' sung ranges in the model's key: they hold the parts where a tune a few semitones low would drag
    # them; a tune whole octaves away (a tenor tune, a piccolo tune) moves its parts by those octaves, as stated above
    style = params.get("style") or DEFAULT_STYLE
    held = int(np.clip(shift, -12, 12))  # a tune more than an octave off a soprano's moves its parts by the octaves
    ranges = np.asarray(VOICE_RANGES.get(style, VOICE_RANGES[DEFAULT_STYLE]))[None] + held  # (1, V, 2)
    voices, voice_onsets = accompany(model, folded[None], onset[None], steps_per_bar, generator, ranges=ranges)
    voices, voice_onsets = voices[0], voice_onsets[0]  # (V, T) each

    for start, end in long_rests(pitch, LONG_REST_BARS * steps_per_bar):
        voices[:, start:end] = REST
        adjustments.append(f"the melody rests from bar {start // steps_per_bar + 1} to bar "
                           f"{-(-end // steps_per_bar)}: the accompaniment rests there too")

    back = -shift
    sounding = voices[voices >= 0]
    if len(sounding):
        while sounding.max() + back > 127:
            back -= 12
        while sounding.min() + back < 0:
            back += 12
        if back != -shift:
            adjustments.append(f"the melody is so {'high' if back < -shift else 'low'} that the parts were moved "
                               f"{abs(back + shift) // 12} octave(s) {'down' if back < -shift else 'up'} to stay "
                               "within MIDI's pitch range")
    voices = np.where(voices >= 0, voices + back, REST)
    return _output_midi(pm, melody_index, voices, voice_onsets, programs, adjustments)


def _output_midi(pm: pretty_midi.PrettyMIDI, melody_index: int, voices: np.ndarray, voice_onsets: np.ndarray,
                 programs: list[int], adjustments: list[str]) -> pretty_midi.PrettyMIDI:
    """A copy of the input (tempo map, time and key signatures, every track note for note) with one instrument per
    voice added after its tracks; each adjustment as a text event and a marker at time 0."""
    out = copy.copy(pm)  # shares the input's instruments and tempo map, which are never changed here
    out.instruments, out.text_events = list(pm.instruments), list(pm.text_events)
    if hasattr(pm, "markers"):
        out.markers = list(pm.markers)
    melody = pm.instruments[melody_index]
    velocity = int(np.median([n.velocity for n in melody.notes])) if melody.notes else DEFAULT_VELOCITY
    for v in range(N_VOICES):
        roll, onsets = line_to_roll(voices[v], voice_onsets[v])
        pitches, starts, ends = roll_to_notes(roll, onsets)
        seconds = steps_to_seconds(pm, np.stack([starts, ends]).astype(np.float64))
        inst = pretty_midi.Instrument(program=programs[v], name=VOICE_NAMES[v])
        inst.notes = [pretty_midi.Note(velocity, int(p), float(s), float(e))
                      for p, s, e in zip(pitches.tolist(), seconds[0].tolist(), seconds[1].tolist(), strict=True)]
        out.instruments.append(inst)
    for sentence in adjustments:
        out.text_events.append(pretty_midi.Text(ADJUSTMENT_PREFIX + sentence, 0.0))
        if hasattr(out, "markers"):
            out.markers.append(pretty_midi.Text(ADJUSTMENT_PREFIX + sentence, 0.0))
    return out


def adjustments_of(pm: pretty_midi.PrettyMIDI) -> list[str]:
    """The sentences `generate` wrote into its result (empty when the melody needed no adjustment)."""
    return [t.text[len(ADJUSTMENT_PREFIX):] for t in pm.text_events if t.text.startswith(ADJUSTMENT_PREFIX)]


__all__ = ["adjustments_of", "generate"]
