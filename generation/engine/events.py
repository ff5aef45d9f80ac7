"""The Performance event encoding (docs/design.md section 3): 310 tokens. No torch, no Django.

Token layout: 0 ``<S>``, 1 ``<PAD>``, 2..101 TIME_SHIFT of 10 ms .. 1 s, 102..189 NOTE_ON and 190..277 NOTE_OFF for
pitches 21..108, 278..309 VELOCITY in 32 bins. Time is quantized to 10 ms; a VELOCITY token is written only when the
bin changes. Every non-drum note of every track is merged into one stream (pitches outside 21..108 are dropped).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence

import numpy as np
import pretty_midi

START = 0
PAD = 1
TIME_SHIFT_OFFSET = 2
N_TIME_SHIFTS = 100
NOTE_ON_OFFSET = TIME_SHIFT_OFFSET + N_TIME_SHIFTS  # 102
MIN_PITCH, MAX_PITCH = 21, 108
N_PITCHES = MAX_PITCH - MIN_PITCH + 1  # 88
NOTE_OFF_OFFSET = NOTE_ON_OFFSET + N_PITCHES  # 190
VELOCITY_OFFSET = NOTE_OFF_OFFSET + N_PITCHES  # 278
N_VELOCITY_BINS = 32
VOCAB_SIZE = VELOCITY_OFFSET + N_VELOCITY_BINS  # 310
TICKS_PER_SECOND = 100  # one time step = 10 ms

assert VOCAB_SIZE == 310


def velocity_to_bin(velocity: int) -> int:
    return min(N_VELOCITY_BINS - 1, max(0, (int(velocity) - 1) * N_VELOCITY_BINS // 127))


def bin_to_velocity(b: int) -> int:
    """The smallest MIDI velocity in bin ``b`` (so that velocity_to_bin(bin_to_velocity(b)) == b)."""
    return -(-b * 127 // N_VELOCITY_BINS) + 1


def token_name(token: int) -> str:
    if token == START:
        return "<S>"
    if token == PAD:
        return "<PAD>"
    if token < NOTE_ON_OFFSET:
        return f"TIME_SHIFT_{(token - TIME_SHIFT_OFFSET + 1) * 10}ms"
    if token < NOTE_OFF_OFFSET:
        return f"NOTE_ON_{token - NOTE_ON_OFFSET + MIN_PITCH}"
    if token < VELOCITY_OFFSET:
        return f"NOTE_OFF_{token - NOTE_OFF_OFFSET + MIN_PITCH}"
    if token < VOCAB_SIZE:
        return f"VELOCITY_{token - VELOCITY_OFFSET}"
    raise ValueError(f"token {token} is outside the vocabulary of {VOCAB_SIZE}")


def _time_shift_tokens(ticks: int) -> list[int]:
    tokens = [TIME_SHIFT_OFFSET + N_TIME_SHIFTS - 1] * (ticks // N_TIME_SHIFTS)
    if ticks % N_TIME_SHIFTS:
        tokens.append(TIME_SHIFT_OFFSET + ticks % N_TIME_SHIFTS - 1)
    return tokens


def notes_of(pm: pretty_midi.PrettyMIDI) -> list[pretty_midi.Note]:
    return [n for inst in pm.instruments if not inst.is_drum for n in inst.notes if MIN_PITCH <= n.pitch <= MAX_PITCH]


def encode(pm: pretty_midi.PrettyMIDI, *, add_start: bool = True) -> list[int]:
    """PrettyMIDI -> token ids. At the same instant, NOTE_OFFs come before NOTE_ONs (re-struck notes survive)."""
    notes = notes_of(pm)
    if notes:
        arr = np.array([(n.start, n.end, n.pitch, n.velocity) for n in notes], dtype=np.float64)
        on = np.rint(arr[:, 0] * TICKS_PER_SECOND).astype(np.int64)
        off = np.maximum(np.rint(arr[:, 1] * TICKS_PER_SECOND).astype(np.int64), on + 1)
        pitch = arr[:, 2].astype(np.int64)
        vbin = np.array([velocity_to_bin(v) for v in arr[:, 3]], dtype=np.int64)
        # events: (time, kind 0=off 1=on, pitch, velocity bin)
        times = np.concatenate([off, on])
        kinds = np.concatenate([np.zeros_like(off), np.ones_like(on)])
        pitches = np.concatenate([pitch, pitch])
        vbins = np.concatenate([vbin, vbin])
        order = np.lexsort((pitches, kinds, times))
        events = zip(times[order].tolist(), kinds[order].tolist(), pitches[order].tolist(), vbins[order].tolist(),
                     strict=True)
    else:
        events = iter(())
    tokens = [START] if add_start else []
    now, current_bin = 0, -1
    for time, kind, p, b in events:
        tokens += _time_shift_tokens(time - now)
        now = time
        if kind == 1:
            if b != current_bin:
                tokens.append(VELOCITY_OFFSET + b)
                current_bin = b
            tokens.append(NOTE_ON_OFFSET + p - MIN_PITCH)
        else:
            tokens.append(NOTE_OFF_OFFSET + p - MIN_PITCH)
    return tokens


def decode(
    tokens: Sequence[int],
    *,
    tempo_bpm: float = 120.0,
    program: int = 0,
    time_signature: tuple[int, int] | None = None,
    max_note_seconds: float | None = None,
) -> pretty_midi.PrettyMIDI:
    """Token ids -> PrettyMIDI with one instrument. A NOTE_OFF closes the oldest open note of its pitch; notes left
    open are closed at the last event (or after ``max_note_seconds``). Unpaired NOTE_OFFs, <S> and <PAD> are ignored."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo_bpm)
    if time_signature:
        pm.time_signature_changes.append(pretty_midi.TimeSignature(time_signature[0], time_signature[1], 0.0))
    inst = pretty_midi.Instrument(program=program)
    open_notes: dict[int, deque[tuple[int, int]]] = defaultdict(deque)
    now, velocity = 0, bin_to_velocity(velocity_to_bin(80))
    max_ticks = None if max_note_seconds is None else max(1, round(max_note_seconds * TICKS_PER_SECOND))
    raw: list[tuple[int, int, int, int]] = []  # (pitch, on tick, off tick, velocity)

    def close(p: int, on: int, vel: int, at: int) -> None:
        end = max(at, on + 1) if max_ticks is None else min(max(at, on + 1), on + max_ticks)
        raw.append((p, on, end, vel))

    for token in tokens:
        token = int(token)
        if TIME_SHIFT_OFFSET <= token < NOTE_ON_OFFSET:
            now += token - TIME_SHIFT_OFFSET + 1
        elif NOTE_ON_OFFSET <= token < NOTE_OFF_OFFSET:
            open_notes[token - NOTE_ON_OFFSET + MIN_PITCH].append((now, velocity))
        elif NOTE_OFF_OFFSET <= token < VELOCITY_OFFSET:
            p = token - NOTE_OFF_OFFSET + MIN_PITCH
            if open_notes[p]:
                on, vel = open_notes[p].popleft()
                close(p, on, vel, now)
        elif VELOCITY_OFFSET <= token < VOCAB_SIZE:
            velocity = bin_to_velocity(token - VELOCITY_OFFSET)
    for p, queue in open_notes.items():
        for on, vel in queue:
            close(p, on, vel, now)
    raw.sort(key=lambda n: (n[1], n[0]))
    inst.notes = [pretty_midi.Note(v, p, s / TICKS_PER_SECOND, e / TICKS_PER_SECOND) for p, s, e, v in raw]
    pm.instruments.append(inst)
    return pm
