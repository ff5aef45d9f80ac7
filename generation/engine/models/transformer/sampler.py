"""Transformer sampler: continues the input in its own tempo, meter, key and voices (docs/design.md section 4), token by
token with a key/value cache.

The input (as ``Performance``, below): every pitched track's notes, its end (the last sounding note), its tempo (the
file's when its notes sit on that tempo's grid, else estimated from the onsets), its grid (eighths when >= 85 % of
its onsets are on them, else sixteenths; quarters when 98 % are), its key (keys.key_of), its largest chord (most
note starts in 100 ms), its most notes sounding at once and its shortest note. The model was trained at one tempo
(spec.TRAINING_TEMPO_BPM), so the prompt (the input's last ``prompt_seconds``, default the whole input, at most
30 s) is played at that tempo -- its beat becomes the training beat -- and moved by octaves to the trained register;
the continuation is sampled there and scaled and moved back. The extension starts at the input's end and lasts
exactly ``extension_seconds``.

At each step the next-token distribution is masked so that whatever is sampled keeps the guarantees:
- a note that must end (it reached ``max_note_seconds``) is closed before anything else: only its NOTE_OFF is
  allowed, so the leftover probability can never go to note starts;
- at most the input's largest chord of note starts in any 100 ms, at most its most notes sounding at once (a
  melody stays a melody), no note shorter than its shortest (unless ``max_note_seconds`` is shorter), and for a
  melody on average no more note starts a second than the prompt has, times PACE_SLACK (after a first note; a
  silence that must end may start one anyway; a melody ahead of its pace holds its note rather than rest): trained
  mostly on four merged voices, the model writes a lone line at a four-voice pace (~1.5x a folk tune's); with
  several voices it keeps its own pace (capping it there cost the chorale halves' realness 0.98 -> 0.71,
  benchmarks/README.md);
- time shifts land on the input's grid (note starts and ends on it; off it only where a limit leaves no grid point),
  never pass the extension's end, never hold a note longer than ``max_note_seconds``, never stretch a silence past
  ``max_rest_seconds`` (the silence before the first new note counts, from the input's end);
- silence cannot reach the end: in the last moments (END_MARGIN, or the shortest note if longer) no note starts
  while one sounds and the last sounding note is not closed, and every open note closes at the extension's end;
- a NOTE_ON only within the input's range widened by RANGE_MARGIN and for a pitch not sounding (beyond
  MAX_NOTES_PER_SECOND on average only when nothing sounds), a NOTE_OFF only for a sounding note, a VELOCITY only
  before a possible NOTE_ON and never twice in a row; <S>, <PAD> never.
NOTE_ONs outside the input's key get KEY_PENALTY nats less (a penalty, not a ban: chromatic notes stay possible).
Some token is always allowed (with notes open, time can move or a note must end; in a silence that must end, a
note starts even past the chord cap: a user's max_rest of 0 outranks it), so the loop always reaches the end. Then
temperature, then top-k or nucleus over the allowed tokens, then a draw from a seeded generator: the same seed,
input and parameters give the same output.
New notes go to the input's tracks: with one pitched track all to it; with several, each onset's notes to the
tracks not sounding, high to low, each to the voice nearest its last pitch (a chorale half goes on in four voices).
"""

from __future__ import annotations

import itertools
import math
import secrets
from dataclasses import dataclass, field

import numpy as np
import pretty_midi
import torch

from generation.engine import events
from generation.engine.keys import key_of, scale_pitch_classes
from generation.engine.midi_io import first_tempo, last_note_end, melody_track
from generation.engine.models.transformer.model import Transformer
from generation.engine.models.transformer.spec import MAX_PROMPT_SECONDS, TRAINING_TEMPO_BPM

MAX_POLYPHONY = 16  # notes sounding at once in the extension (the chorales have 4; two hands rarely hold more)
MAX_NOTES_PER_SECOND = 32  # new notes a second, on average from the extension's start (plus a first MAX_POLYPHONY):
#                            dense piano writing stays under it; it bounds a runaway model's output (an untrained one
#                            at top-k 5 wrote 14,000 one-tick notes in 30 s: over the 20,000-note input limit at 45 s)
TICKS = events.TICKS_PER_SECOND  # time steps of 10 ms per second
END_MARGIN = 20  # ticks (200 ms): the extension's last moments hold what sounds (see the module's docstring); without
#                  it a seed could close every note 10 ms before the end and then had to start 16 at once
KEY_PENALTY = 3.0  # nats taken from the logit of a NOTE_ON outside the input's key (measured: benchmarks/README.md)
_TIME_SHIFTS = slice(events.TIME_SHIFT_OFFSET, events.NOTE_ON_OFFSET)
_VELOCITIES = slice(events.VELOCITY_OFFSET, events.VOCAB_SIZE)


@dataclass
class ExtensionState:
    """Where the extension is, in the model's ticks (10 ms at the training tempo): time (from the input's end),
    sounding notes, the silence so far, and the input's limits (see the module's docstring)."""

    end: int  # the extension's length in ticks
    max_note: int  # ticks
    max_rest: int  # ticks
    velocity: int  # MIDI velocity of the next NOTE_ON
    min_note: int = 1  # ticks: no note closes younger (unless it must: max_note)
    max_open: int = MAX_POLYPHONY  # notes sounding at once
    chord: int = MAX_POLYPHONY  # note starts in any window of `window` ticks
    window: float = 10.0  # ticks in 100 ms of the input's time
    grid: int = 0  # ticks between grid points (0: no grid)
    phase: int = 0  # a grid point's tick
    ticks_per_second: float = TICKS  # model ticks in one second of the output
    rate: float = math.inf  # note starts a tick the input's pace allows on average (after a first `chord`)
    low: int = events.MIN_PITCH  # the pitches a note may start on (the input's range, widened)
    high: int = events.MAX_PITCH
    now: int = 0
    rest_start: int | None = 0  # tick at which the current silence began (None while a note sounds)
    n_started: int = 0  # notes started in the extension
    last_was_velocity: bool = False
    open: dict[int, tuple[int, int]] = field(default_factory=dict)  # pitch -> (onset tick, velocity)
    notes: list[tuple[int, int, int, int]] = field(default_factory=list)  # (pitch, on, off, velocity), ticks
    tokens: list[int] = field(default_factory=list)  # sampled so far
    starts: list[int] = field(default_factory=list)  # onset ticks, in order

    def _on_grid(self, tick: int) -> bool:
        return not self.grid or (tick - self.phase) % self.grid == 0

    def _shifts(self, limit: int) -> np.ndarray:
        """Shift sizes (1..limit ticks) allowed: those landing on the grid (or at the end), all if none does."""
        if limit <= 0:
            return np.zeros(0, dtype=np.int64)
        if not self.grid:
            return np.arange(1, limit + 1)
        first = (self.phase - self.now - 1) % self.grid + 1  # ticks to the next grid point
        sizes = np.arange(first, limit + 1, self.grid)
        if self.end - self.now <= limit and (self.end - self.now) not in sizes:
            sizes = np.append(sizes, self.end - self.now)
        return sizes if len(sizes) else np.arange(1, limit + 1)

    def _starts_in_window(self) -> int:
        count = 0
        for tick in reversed(self.starts):
            if self.now - tick >= self.window - 1e-9:
                break
            count += 1
        return count

    @property
    def room(self) -> int:
        """Ticks a note started in a silence needs before the end (the input's shortest note)."""
        return min(self.min_note, max(1, self.end // 2))

    def deadline(self, on: int) -> int:
        """The tick by which a note started at ``on`` must end: max_note after it, or, if that falls in the last
        ``room`` ticks, their start (so that a note taking over has the room to be no shorter than the input's)."""
        due = on + self.max_note
        if self.end - self.room < due < self.end:
            due = max(on + 1, self.end - self.room)
        return due

    def allowed(self) -> np.ndarray:
        """(V,) bool: the tokens that keep every guarantee from here."""
        mask = np.zeros(events.VOCAB_SIZE, dtype=bool)
        must_end = [p for p, (on, _v) in self.open.items() if self.deadline(on) <= self.now]
        if must_end:  # closed before time moves or anything starts
            mask[[events.NOTE_OFF_OFFSET + p - events.MIN_PITCH for p in must_end]] = True
            return mask
        remaining = self.end - self.now
        room = self.room  # a new note's shortest life before the end
        margin = max(round(END_MARGIN * self.ticks_per_second / TICKS), room)
        if self.open:
            limit = min(remaining, min(self.deadline(on) for on, _ in self.open.values()) - self.now)
        else:  # silence: within max_rest, and never up to the end (room for a note)
            limit = min(remaining - room, self.rest_start + self.max_rest - self.now)
        limit = max(0, min(limit, events.N_TIME_SHIFTS))
        shifts = self._shifts(limit)
        mask[events.TIME_SHIFT_OFFSET + shifts - 1] = True
        seconds = self.now / self.ticks_per_second
        over_rate = self.n_started >= MAX_POLYPHONY + MAX_NOTES_PER_SECOND * seconds
        near_end = remaining <= margin
        must_start = not self.open and limit == 0  # a silence that cannot go on
        too_busy = self.n_started >= self.chord + self.rate * self.now  # ahead of the input's pace
        may_start = (len(self.open) < self.max_open and self._starts_in_window() < self.chord
                     and (self._on_grid(self.now) or must_start) and (not too_busy or must_start))
        if self.open:
            may_start = may_start and not (over_rate or near_end)
        if may_start:
            self._allow_starts(mask)
            if not self.last_was_velocity:
                mask[_VELOCITIES] = True
        # the last note sounds to the end if it may; and a melody ahead of its pace holds its note (rather than rest
        # and be made to start one, of any pitch, when the rest runs out)
        keep_last = (near_end or (too_busy and self.max_open == 1)) and len(self.open) == 1 and limit > 0
        for pitch, (on, _vel) in self.open.items():
            if self.now - on >= max(1, min(self.min_note, self.max_note)) and not keep_last:
                mask[events.NOTE_OFF_OFFSET + pitch - events.MIN_PITCH] = True
        if not mask.any():  # silence that must end now while the chord cap forbids a start (max_rest 0 and
            #                 notes shorter than the input's chords allow): the user's max_rest wins
            self._allow_starts(mask)
        return mask

    def _allow_starts(self, mask: np.ndarray) -> None:
        """NOTE_ONs of the pitches in range that are not sounding."""
        mask[events.NOTE_ON_OFFSET + self.low - events.MIN_PITCH:events.NOTE_ON_OFFSET + self.high - events.MIN_PITCH
             + 1] = True
        for pitch in self.open:
            mask[events.NOTE_ON_OFFSET + pitch - events.MIN_PITCH] = False

    def step(self, token: int) -> None:
        self.tokens.append(token)
        self.last_was_velocity = False
        if events.TIME_SHIFT_OFFSET <= token < events.NOTE_ON_OFFSET:
            self.now += token - events.TIME_SHIFT_OFFSET + 1
        elif events.NOTE_ON_OFFSET <= token < events.NOTE_OFF_OFFSET:
            self.open[token - events.NOTE_ON_OFFSET + events.MIN_PITCH] = (self.now, self.velocity)
            self.rest_start = None
            self.n_started += 1
            self.starts.append(self.now)
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
    limits: dict | None = None,
    out_of_key: np.ndarray | None = None,
) -> ExtensionState:
    """Sample after ``prompt`` (token ids, usually starting with <S>) until the extension is complete; returns the
    final state (its ``notes`` in ticks from the extension's start). Seconds are the model's (at the training
    tempo); ``limits``: ExtensionState's input limits (min_note, max_open, chord, window, grid, phase);
    ``out_of_key``: (88,) bool, the pitches whose NOTE_ON loses KEY_PENALTY. ``use_cache=False`` recomputes the last
    ``context`` tokens at every step (the benchmark's comparison; the same logits while everything fits the context;
    past it the cache's keys keep the context they were computed with, as Transformer-XL's memory does)."""
    model.eval()
    device = next(model.parameters()).device
    context = model.config.context
    state = ExtensionState(end=max(1, round(extension_seconds * TICKS)),
                           max_note=max(1, math.floor(max_note_seconds * TICKS + 1e-9)),
                           max_rest=max(0, math.floor(max_rest_seconds * TICKS + 1e-9)), velocity=velocity,
                           **(limits or {}))
    penalty = torch.zeros(events.VOCAB_SIZE)
    if out_of_key is not None:
        penalty[events.NOTE_ON_OFFSET:events.NOTE_OFF_OFFSET] = torch.from_numpy(out_of_key.astype(np.float32)
                                                                                 * KEY_PENALTY)
    window = list(prompt[-context:]) or [events.START]
    cache = model.new_cache() if use_cache else None  # the last `context` tokens' keys and values (a ring)
    logits = model(torch.tensor([window], device=device), cache=cache)  # (1, T, V)
    while not state.done:
        allowed = torch.from_numpy(state.allowed())
        if int(allowed.sum()) == 1:  # forced (a NOTE_OFF that must come, the only shift left): no draw needed
            token = int(allowed.nonzero()[0])
        else:
            probs = filter_logits(logits[0, -1].cpu() - penalty * temperature, allowed, sampling=sampling, k=k,
                                  p=p, temperature=temperature)
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


WINDOW_SECONDS = 0.1  # a "chord": the note starts within 100 ms
RANGE_MARGIN = 5  # semitones: new notes start within the input's lowest and highest notes, widened by a fourth
PACE_SLACK = 1.2  # a melody's extension may start notes 20 % faster than its prompt does on average
GRID_TOLERANCE = 0.025  # seconds: an onset this close to a grid point is on it
GRID_SHARE = 0.85  # the input's onsets on its eighth grid needed to continue on eighths (else sixteenths)
QUARTER_GRID_SHARE = 0.98  # on its quarter grid needed to continue in quarters (a hymn in block chords)
TRAINED_CENTRE = {1: 70, 2: 64}  # mean pitch of the chorales' soprano alone / of the voices merged (the trained
#                                  register); a prompt is moved by whole octaves towards it


def largest_chord(onsets, window: float = WINDOW_SECONDS) -> int:
    """Most onsets (seconds) in any half-open window [t, t + window)."""
    times = np.sort(np.asarray(list(onsets), dtype=np.float64))
    if len(times) == 0:
        return 0
    after = np.searchsorted(times, times + window - 1e-6, side="left")
    return int((after - np.arange(len(times))).max())


def grid_share(onsets, unit: float, origin: float = 0.0, tolerance: float = GRID_TOLERANCE) -> float:
    """Share of ``onsets`` (seconds) within ``tolerance`` of the grid origin + k * unit (nan for none)."""
    times = np.asarray(list(onsets), dtype=np.float64)
    if len(times) == 0:
        return float("nan")
    offset = (times - origin) / unit
    return float(np.mean(np.abs(offset - np.rint(offset)) * unit <= tolerance + 1e-9))


def estimate_tempo(onsets: np.ndarray) -> float:
    """The slowest tempo (60-200 bpm, by half bpm) whose eighth grid from the first onset holds nearly as many of
    the onsets as the best one does."""
    candidates = np.arange(60.0, 200.01, 0.5)
    shares = np.array([grid_share(onsets, 30.0 / bpm, onsets[0]) for bpm in candidates])
    return float(candidates[np.argmax(shares >= shares.max() - 0.05)])


@dataclass
class Performance:
    """What the sampler reads from the input: its notes (all pitched tracks), end, beat, grid, key and limits."""

    tracks: list[int]  # indices of the pitched tracks with notes
    end: float  # seconds: the last sounding note's end
    tempo_bpm: float
    origin: float  # seconds: a beat of the grid
    grid_unit: float  # seconds: a quarter, eighth or sixteenth (the coarsest the input's onsets fit)
    tempo_estimated: bool
    key: tuple[int, str]
    chord: int  # the most note starts in 100 ms
    max_open: int  # the most notes sounding at once
    shortest: float  # seconds

    @property
    def stretch(self) -> float:
        """Model seconds per input second: the input's beat played at the training tempo."""
        return self.tempo_bpm / TRAINING_TEMPO_BPM


def performance_of(pm: pretty_midi.PrettyMIDI) -> Performance:
    tracks = [i for i, inst in enumerate(pm.instruments) if not inst.is_drum and inst.notes]
    if not tracks:
        melody_track(pm)  # raises the no-melody error
    notes = sorted((n for i in tracks for n in pm.instruments[i].notes), key=lambda n: n.start)
    onsets = np.array([n.start for n in notes])
    tempo, origin, estimated = first_tempo(pm), 0.0, False
    if grid_share(onsets, 15.0 / tempo) < 0.8 and len(onsets) >= 8:  # the written tempo does not fit the notes
        tempo, origin, estimated = estimate_tempo(onsets), float(onsets[0]), True
    unit = 60.0 / tempo  # quarters when (nearly) every onset is on one, else eighths when enough are, else 16ths
    if grid_share(onsets, unit, origin) < QUARTER_GRID_SHARE:
        unit /= 2
        if grid_share(onsets, unit, origin) < GRID_SHARE:
            unit /= 2
    # notes sounding at once (overlaps under 50 ms, legato smudges, not counted)
    ends = np.array([n.end for n in notes])
    sounding = max(int(np.sum((onsets <= t + 0.05) & (ends > t + 0.05))) for t in onsets)
    shortest = min(n.end - n.start for n in notes)
    return Performance(tracks=tracks, end=last_note_end(pm), tempo_bpm=tempo, origin=origin, grid_unit=unit,
                       tempo_estimated=estimated, key=key_of(pm), chord=max(1, largest_chord(onsets)),
                       max_open=max(1, min(MAX_POLYPHONY, sounding)), shortest=max(0.01, shortest))


def prompt_tokens(notes: list[pretty_midi.Note], *, input_end: float, prompt_seconds: float, stretch: float = 1.0,
                  transpose: int = 0) -> tuple[list[int], int]:
    """(<S> + the notes starting in the last ``prompt_seconds`` before ``input_end``, their times multiplied by
    ``stretch`` and pitches moved by ``transpose``, then the time shift up to ``input_end``; the velocity in force
    at the end)."""
    window_start = max(0.0, input_end - prompt_seconds)
    notes = [n for n in notes if n.start >= window_start - 1e-9
             and events.MIN_PITCH <= n.pitch + transpose <= events.MAX_PITCH]
    velocity = int(np.median([n.velocity for n in notes])) if notes else 80
    if prompt_seconds <= 0:
        return [events.START], velocity
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    inst.notes = [pretty_midi.Note(n.velocity, n.pitch + transpose, (n.start - window_start) * stretch,
                                   (min(n.end, input_end) - window_start) * stretch) for n in notes]
    pm.instruments.append(inst)
    tokens = events.encode(pm)
    elapsed = sum(t - events.TIME_SHIFT_OFFSET + 1 for t in tokens
                  if events.TIME_SHIFT_OFFSET <= t < events.NOTE_ON_OFFSET)
    tail = round((input_end - window_start) * stretch * TICKS) - elapsed
    while tail > 0:  # the silence up to the input's end, in shifts of at most 1 s
        shift = min(tail, events.N_TIME_SHIFTS)
        tokens.append(events.TIME_SHIFT_OFFSET + shift - 1)
        tail -= shift
    last_velocity = [t for t in tokens if t >= events.VELOCITY_OFFSET]
    if last_velocity:
        velocity = events.bin_to_velocity(last_velocity[-1] - events.VELOCITY_OFFSET)
    return tokens, velocity


def assign_voices(notes: list[tuple[int, float, float, int]], voices: list[list[pretty_midi.Note]]
                  ) -> list[list[tuple[int, float, float, int]]]:
    """New notes (pitch, start, end, velocity) shared among the voices (each a track's notes so far, non-empty):
    each onset's notes, high to low, to the voices not sounding then, each note to a voice in the same order
    (high notes to high voices) nearest the voices' last pitches; extra notes to the nearest voice."""
    out: list[list[tuple[int, float, float, int]]] = [[] for _ in voices]
    last = [max(v, key=lambda n: (n.start, n.pitch)).pitch for v in voices]
    busy_until = [max(n.end for n in v) for v in voices]
    by_onset: dict[float, list[tuple[int, float, float, int]]] = {}
    for note in sorted(notes, key=lambda n: (n[1], -n[0])):
        by_onset.setdefault(note[1], []).append(note)
    for onset, group in by_onset.items():
        free = [i for i in range(len(voices)) if busy_until[i] <= onset + 1e-6] or list(range(len(voices)))
        free.sort(key=lambda i: -last[i])  # high voices first
        chosen: list[int] = []
        if len(group) <= len(free):
            best = None
            for combo in itertools.combinations(free, len(group)):  # order kept: no crossing
                cost = sum(abs(note[0] - last[i]) for note, i in zip(group, combo, strict=True))
                if best is None or cost < best[0]:
                    best = (cost, combo)
            chosen = list(best[1])
        else:
            chosen = free + [min(range(len(voices)), key=lambda i: abs(note[0] - last[i]))
                             for note in group[len(free):]]
        for note, i in zip(group, chosen, strict=True):
            out[i].append(note)
            last[i] = note[0]
            busy_until[i] = max(busy_until[i], note[2])
    return out


def generate(model: Transformer, pm: pretty_midi.PrettyMIDI, params: dict, seed: int | None = None
             ) -> pretty_midi.PrettyMIDI:
    """``pm`` with its pitched tracks continued by ``extension_seconds`` after the input's last note (validated
    transformer params, spec.PARAMS). Drum tracks, tempo and meter are unchanged; the same seed gives the same
    output."""
    perf = performance_of(pm)
    stretch = perf.stretch
    notes = [n for i in perf.tracks for n in pm.instruments[i].notes]
    prompt_seconds = params.get("prompt_seconds")
    if prompt_seconds is None:
        prompt_seconds = min(MAX_PROMPT_SECONDS, perf.end)
    centre = TRAINED_CENTRE[1 if perf.max_open == 1 else 2]
    transpose = 12 * round((centre - float(np.mean([n.pitch for n in notes]))) / 12)
    prompt, velocity = prompt_tokens(notes, input_end=perf.end, prompt_seconds=float(prompt_seconds),
                                     stretch=stretch, transpose=transpose)
    heard = [n for n in notes if n.start >= perf.end - float(prompt_seconds) - 1e-9] or notes  # the prompt's notes
    pace = len(heard) / max(perf.end - min(n.start for n in heard), 1.0)  # note starts a second
    ticks_per_second = TICKS * stretch  # model ticks in one input second
    grid = round(perf.grid_unit * ticks_per_second)  # 60, 30 or 15 ticks (quarters .. sixteenths) at the training tempo
    phase = round((perf.origin - perf.end) * ticks_per_second) % grid
    max_note = float(params.get("max_note_seconds", 3))
    limits = {"min_note": max(1, math.ceil(perf.shortest * ticks_per_second - 1e-6)), "max_open": perf.max_open,
              "chord": perf.chord, "window": WINDOW_SECONDS * ticks_per_second, "grid": grid, "phase": phase,
              "ticks_per_second": ticks_per_second,
              "rate": PACE_SLACK * pace / ticks_per_second if perf.max_open == 1 else math.inf,
              "low": max(events.MIN_PITCH, min(n.pitch for n in notes) + transpose - RANGE_MARGIN),
              "high": min(events.MAX_PITCH, max(n.pitch for n in notes) + transpose + RANGE_MARGIN)}
    scale = scale_pitch_classes(*perf.key)
    out_of_key = np.array([(p - transpose) % 12 not in scale for p in range(events.MIN_PITCH, events.MAX_PITCH + 1)])
    generator = torch.Generator().manual_seed(int(seed) if seed is not None else secrets.randbits(63))
    extension = float(params.get("extension_seconds", 20))
    state = sample_extension(
        model, prompt,
        extension_seconds=extension * stretch,
        max_rest_seconds=float(params.get("max_rest_seconds", 2)) * stretch,
        max_note_seconds=max_note * stretch,
        sampling=params.get("sampling", "nucleus"), k=int(params.get("k", 40)), p=float(params.get("p", 0.95)),
        temperature=float(params.get("temperature", 0.95)), velocity=velocity, generator=generator,
        limits=limits, out_of_key=out_of_key,
    )

    def seconds(tick: int) -> float:
        return perf.end + extension if tick >= state.end else perf.end + tick / ticks_per_second

    new = [(pitch - transpose, seconds(on), seconds(off), vel)
           for pitch, on, off, vel in sorted(state.notes, key=lambda n: (n[1], n[0]))
           if events.MIN_PITCH <= pitch - transpose <= events.MAX_PITCH]
    voices = [pm.instruments[i].notes for i in perf.tracks]
    shares = [new] if len(voices) == 1 else assign_voices(new, voices)
    for index, share in zip(perf.tracks, shares, strict=True):
        for pitch, start, end, vel in share:
            pm.instruments[index].notes.append(pretty_midi.Note(vel, pitch, start, end))
    return pm
