"""Transformer sampler: continues the melody track (the first pitched track) with DeepComposer's controls
(DESIGN section 4), token by token with a key/value cache.

The prompt is the continued track's notes in the last `prompt_seconds` of the input (default: the whole input, at most
30 s), as Performance events (events.py) followed by the time shift up to the input's end. The extension starts at the
input's end and lasts exactly `extension_seconds` (to the 10 ms time step). At each step the model's next-token
distribution is masked so that whatever is sampled keeps the guarantees:

- time shifts never pass the extension's end, never hold an open note longer than `max_note_seconds`, and never
  stretch a silence past `max_rest_seconds` (the silence before the first new note counts, from the input's end);
- silence cannot reach the end: the last new notes sound until the extension's end, where every open note is closed
  (so the output lasts exactly input + extension); in the last END_MARGIN ticks no note starts while one sounds and
  the last sounding note is not closed (unless it must be: its max_note_seconds), so the end is never filled with a
  cluster of notes forced in at the last moment;
- a NOTE_ON is only for a pitch not sounding (at most MAX_POLYPHONY at once, and beyond MAX_NOTES_PER_SECOND on
  average only when nothing sounds), a NOTE_OFF only for a note sounding since an earlier step, a VELOCITY only
  before a possible NOTE_ON and never twice in a row; <S> and <PAD> never.
Some token is always allowed (an open note can be closed or time can move; with none open a note can start), so the
loop always reaches the end. Pitches are 21-108 by the vocabulary. Then temperature, then top-k or nucleus over the
allowed tokens, then a draw from a seeded generator: the same seed, input and parameters give the same output.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field

import numpy as np
import pretty_midi
import torch

from generation.engine import events
from generation.engine.midi_io import melody_track
from generation.engine.models.transformer.model import Transformer
from generation.engine.models.transformer.spec import MAX_PROMPT_SECONDS

MAX_POLYPHONY = 16  # notes sounding at once in the extension (the chorales have 4; two hands rarely hold more)
MAX_NOTES_PER_SECOND = 32  # new notes a second, on average from the extension's start (plus a first MAX_POLYPHONY):
#                            dense piano writing stays under it; it bounds a runaway model's output (an untrained one
#                            at top-k 5 wrote 14,000 one-tick notes in 30 s: over the 20,000-note input limit at 45 s)
TICKS = events.TICKS_PER_SECOND  # time steps of 10 ms per second
END_MARGIN = 20  # ticks (200 ms): the extension's last moments hold what sounds (see the module's docstring); without
#                  it a seed could close every note 10 ms before the end and then had to start 16 at once
_TIME_SHIFTS = slice(events.TIME_SHIFT_OFFSET, events.NOTE_ON_OFFSET)
_VELOCITIES = slice(events.VELOCITY_OFFSET, events.VOCAB_SIZE)


@dataclass
class ExtensionState:
    """Where the extension is: time (ticks from the input's end), sounding notes, the silence so far."""

    end: int  # the extension's length in ticks
    max_note: int  # ticks
    max_rest: int  # ticks
    velocity: int  # MIDI velocity of the next NOTE_ON
    now: int = 0
    rest_start: int | None = 0  # tick at which the current silence began (None while a note sounds)
    n_started: int = 0  # notes started in the extension
    last_was_velocity: bool = False
    open: dict[int, tuple[int, int]] = field(default_factory=dict)  # pitch -> (onset tick, velocity)
    notes: list[tuple[int, int, int, int]] = field(default_factory=list)  # (pitch, on, off, velocity), ticks
    tokens: list[int] = field(default_factory=list)  # sampled so far

    def allowed(self) -> np.ndarray:
        """(V,) bool: the tokens that keep every guarantee from here."""
        mask = np.zeros(events.VOCAB_SIZE, dtype=bool)
        limit = self.end - self.now  # a shift never passes the end
        if self.open:
            limit = min(limit, min(on for on, _ in self.open.values()) + self.max_note - self.now)
        else:  # silence: within max_rest, and never up to the end
            limit = min(limit - 1, self.rest_start + self.max_rest - self.now)
        limit = max(0, min(limit, events.N_TIME_SHIFTS))
        mask[events.TIME_SHIFT_OFFSET:events.TIME_SHIFT_OFFSET + limit] = True  # shifts of 1..limit ticks
        over_rate = self.n_started >= MAX_POLYPHONY + MAX_NOTES_PER_SECOND * self.now / TICKS
        near_end = self.end - self.now <= END_MARGIN
        if len(self.open) < MAX_POLYPHONY and not ((over_rate or near_end) and self.open):
            mask[events.NOTE_ON_OFFSET:events.NOTE_OFF_OFFSET] = True
            for pitch in self.open:
                mask[events.NOTE_ON_OFFSET + pitch - events.MIN_PITCH] = False
            if not self.last_was_velocity:
                mask[_VELOCITIES] = True
        keep_last = near_end and len(self.open) == 1 and limit > 0  # the last note sounds to the end if it may
        for pitch, (on, _vel) in self.open.items():
            if on < self.now and not keep_last:
                mask[events.NOTE_OFF_OFFSET + pitch - events.MIN_PITCH] = True
        return mask

    def step(self, token: int) -> None:
        self.tokens.append(token)
        self.last_was_velocity = False
        if events.TIME_SHIFT_OFFSET <= token < events.NOTE_ON_OFFSET:
            self.now += token - events.TIME_SHIFT_OFFSET + 1
        elif events.NOTE_ON_OFFSET <= token < events.NOTE_OFF_OFFSET:
            self.open[token - events.NOTE_ON_OFFSET + events.MIN_PITCH] = (self.now, self.velocity)
            self.rest_start = None
            self.n_started += 1
        elif events.NOTE_OFF_OFFSET <= token < events.VELOCITY_OFFSET:
            pitch = token - events.NOTE_OFF_OFFSET + events.MIN_PITCH
            on, vel = self.open.pop(pitch)
            self.notes.append((pitch, on, self.now, vel))
            if not self.open:
                self.rest_start = self.now
        elif events.VELOCITY_OFFSET <= token < events.VOCAB_SIZE:
            self.velocity = events.bin_to_velocity(token - events.VELOCITY_OFFSET)
            self.last_was_velocity = True
        if self.now >= self.end:  # the end: every open note closes here
            for pitch, (on, vel) in sorted(self.open.items()):
                self.notes.append((pitch, on, self.end, vel))
            self.open.clear()

    @property
    def done(self) -> bool:
        return self.now >= self.end


def filter_logits(logits: torch.Tensor, allowed: torch.Tensor, *, sampling: str, k: int, p: float,
                  temperature: float) -> torch.Tensor:
    """(V,) logits -> (V,) probabilities: disallowed tokens removed, temperature, then top-k or nucleus."""
    scores = (logits.float() / temperature).masked_fill(~allowed, -math.inf)
    if sampling == "topk":
        k = max(1, min(int(k), int(allowed.sum())))
        kth = torch.topk(scores, k).values[-1]
        scores = scores.masked_fill(scores < kth, -math.inf)
        return torch.softmax(scores, dim=-1)
    probs = torch.softmax(scores, dim=-1)
    sorted_probs, order = torch.sort(probs, descending=True)
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # probability of the tokens ranked above
    drop = before >= p
    drop[0] = False  # the most likely allowed token always stays (p = 0: greedy)
    probs = probs.clone()
    probs[order[drop]] = 0.0
    return probs / probs.sum()


@torch.inference_mode()
def sample_extension(
    model: Transformer,
    prompt: list[int],
    *,
    extension_seconds: float,
    max_rest_seconds: float,
    max_note_seconds: float,
    sampling: str = "nucleus",
    k: int = 40,
    p: float = 0.95,
    temperature: float = 0.95,
    velocity: int = 80,
    generator: torch.Generator,
    use_cache: bool = True,
) -> ExtensionState:
    """Sample after ``prompt`` (token ids, usually starting with <S>) until the extension is complete; returns the
    final state (its ``notes`` in ticks from the extension's start). ``use_cache=False`` recomputes the last
    ``context`` tokens at every step (the benchmark's comparison; the same logits while everything fits the context;
    past it the cache's keys keep the context they were computed with, as Transformer-XL's memory does)."""
    model.eval()
    device = next(model.parameters()).device
    context = model.config.context
    state = ExtensionState(end=max(1, round(extension_seconds * TICKS)),
                           max_note=max(1, math.floor(max_note_seconds * TICKS + 1e-9)),
                           max_rest=max(0, math.floor(max_rest_seconds * TICKS + 1e-9)), velocity=velocity)
    window = list(prompt[-context:]) or [events.START]
    cache = model.new_cache() if use_cache else None  # the last `context` tokens' keys and values (a ring)
    logits = model(torch.tensor([window], device=device), cache=cache)  # (1, T, V)
    while not state.done:
        allowed = torch.from_numpy(state.allowed())
        probs = filter_logits(logits[0, -1].cpu(), allowed, sampling=sampling, k=k, p=p, temperature=temperature)
        token = int(torch.multinomial(probs, 1, generator=generator))
        state.step(token)
        if state.done:
            break
        if use_cache:
            logits = model(torch.tensor([[token]], device=device), cache=cache)
        else:
            window = [*window, token][-context:]
            logits = model(torch.tensor([window], device=device))
    return state


def prompt_tokens(track: pretty_midi.Instrument, *, input_end: float, prompt_seconds: float) -> tuple[list[int], int]:
    """(<S> + the track's notes starting in the last ``prompt_seconds`` before ``input_end``, then the time shift up
    to ``input_end``; the velocity in force at the end)."""
    window_start = max(0.0, input_end - prompt_seconds)
    notes = [n for n in track.notes if n.start >= window_start - 1e-9 and events.MIN_PITCH <= n.pitch
             <= events.MAX_PITCH]
    velocity = int(np.median([n.velocity for n in notes])) if notes else 80
    if prompt_seconds <= 0:
        return [events.START], velocity
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    inst.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start - window_start, n.end - window_start) for n in notes]
    pm.instruments.append(inst)
    tokens = events.encode(pm)
    elapsed = sum(t - events.TIME_SHIFT_OFFSET + 1 for t in tokens
                  if events.TIME_SHIFT_OFFSET <= t < events.NOTE_ON_OFFSET)
    tail = round((input_end - window_start) * TICKS) - elapsed
    while tail > 0:  # the silence up to the input's end, in shifts of at most 1 s
        shift = min(tail, events.N_TIME_SHIFTS)
        tokens.append(events.TIME_SHIFT_OFFSET + shift - 1)
        tail -= shift
    last_velocity = [t for t in tokens if t >= events.VELOCITY_OFFSET]
    if last_velocity:
        velocity = events.bin_to_velocity(last_velocity[-1] - events.VELOCITY_OFFSET)
    return tokens, velocity


def generate(model: Transformer, pm: pretty_midi.PrettyMIDI, params: dict, seed: int | None = None
             ) -> pretty_midi.PrettyMIDI:
    """``pm`` with its melody track continued by ``extension_seconds`` after the input's end (validated transformer
    params, spec.PARAMS). Other tracks, tempo and meter are unchanged; the same seed gives the same output."""
    index = melody_track(pm)
    track = pm.instruments[index]
    input_end = pm.get_end_time()
    prompt_seconds = params.get("prompt_seconds")
    if prompt_seconds is None:
        prompt_seconds = min(MAX_PROMPT_SECONDS, input_end)
    prompt, velocity = prompt_tokens(track, input_end=input_end, prompt_seconds=float(prompt_seconds))
    generator = torch.Generator().manual_seed(int(seed) if seed is not None else secrets.randbits(63))
    state = sample_extension(
        model, prompt,
        extension_seconds=float(params.get("extension_seconds", 20)),
        max_rest_seconds=float(params.get("max_rest_seconds", 2)),
        max_note_seconds=float(params.get("max_note_seconds", 3)),
        sampling=params.get("sampling", "nucleus"), k=int(params.get("k", 40)), p=float(params.get("p", 0.95)),
        temperature=float(params.get("temperature", 0.95)), velocity=velocity, generator=generator,
    )
    for pitch, on, off, vel in sorted(state.notes, key=lambda n: (n[1], n[0])):
        track.notes.append(pretty_midi.Note(vel, pitch, input_end + on / TICKS, input_end + off / TICKS))
    return pm
