"""AR-CNN sampler: DeepComposer's iterative editing with its four parameters (docs/design.md section 4).

Each network pass scores every cell of the roll (fully convolutional over time, so up to 32 bars is one pass). The
sampler edits only where the model is confident (a flip's softmax probability times the number of editable cells
at least config.confidence, a threshold chosen on the valid split) and stops when nothing is left that it is sure
of, or after `iterations` edits (a maximum, not a quota). An edit is a whole note, added or removed; among the
confident flips, `temperature` sets how the next ones are sampled. Budgets: at most `max_add` note cells (sixteenths
of one pitch) added, at most `max_remove_pct` % of the input's notes removed; neither turns into the other.
Added notes are in the key: the key the file states (its key signature: the studio's key control writes one), or,
with none, the key estimated from all its tracks (keys.key_of) or a pitch class the input uses; and, with the
chord rule (config chord_rule, issue 21), tones of the chord a musician hears at their beat (chords.beat_chords: the
key's triad or seventh best fitting the sounding notes, the model's wish and the chords Bach puts under that melody
degree), under a sounding note, at least config min_add_steps long, where fewer than config max_voices notes sound,
the chord's missing tones first; a bare melody is harmonized with config add_confidence_offset less confidence.

`generate(model, pm, params, seed)` edits the melody track of a PrettyMIDI (the first non-drum track with notes) and
keeps every other track, the tempo and the time signature unchanged.
"""

from __future__ import annotations

import copy
import math
import secrets

import numpy as np
import pretty_midi
import torch

from generation.engine.keys import estimate_key, key_of, key_pitch_classes
from generation.engine.midi_io import melody_track
from generation.engine.models.arcnn.chords import (
    beat_chords,
    chord_cells,
    chord_prior,
    key_of_classes,
    pitch_class_sums,
)
from generation.engine.models.arcnn.model import ARCNN
from generation.engine.representation import (
    DEFAULT_VELOCITY,
    midi_to_rolls,
    roll_to_notes,
    seconds_to_steps,
    steps_to_seconds,
)

REMOVAL_FIRST = 1e4  # config removals_first: added to the sampling score of every cell that is on
MAX_BARS = 32  # DeepComposer's input limit: edits apply to the first 32 bars; later notes are kept as they are


def _pad_time(rolls: torch.Tensor, multiple: int) -> torch.Tensor:
    """(B, T, P) -> (B, T', P) zero-padded so that T' is a multiple of `multiple` (the U-Net's pooling)."""
    extra = (-rolls.shape[1]) % multiple
    if extra == 0:
        return rolls
    return torch.cat([rolls, rolls.new_zeros((rolls.shape[0], extra, rolls.shape[2]))], dim=1)


def _gumbel(shape: torch.Size, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand(shape, generator=generator).clamp_(1e-12, 1.0 - 1e-7)
    return -torch.log(-torch.log(u))


def addable_pitches(model: ARCNN, rolls: torch.Tensor, key_classes: torch.Tensor | None = None,
                    strict_key: bool = False) -> torch.Tensor:
    """(B, P) bool: where the sampler may turn cells on for each input roll (B, T, P): the model's training range
    (config pitch_low..pitch_high) and, with config key_mask, the key (key_classes (B, 12) bool, else each roll's
    estimated key, keys.estimate_key) or a pitch class the input uses (not with ``strict_key``: a stated key)."""
    n_pitches = rolls.shape[-1]
    pitch = torch.arange(n_pitches)
    allowed = ((pitch >= model.config.pitch_low) & (pitch <= model.config.pitch_high)).expand(rolls.shape[0], -1)
    if not model.config.key_mask:
        return allowed.clone()
    classes = torch.zeros(rolls.shape[0], 12, dtype=torch.bool)
    for b, roll in enumerate(rolls.bool().numpy()):
        if key_classes is not None:
            classes[b] = key_classes[b]
        else:
            classes[b, sorted(key_pitch_classes(estimate_key(roll)))] = True
        if not strict_key:
            classes[b] |= torch.from_numpy(np.bincount(np.arange(n_pitches) % 12, weights=roll.any(axis=0),
                                                       minlength=12) > 0)
    return allowed & classes[:, pitch % 12]


def _note_span(roll: np.ndarray, starts: np.ndarray, step: int, pitch: int) -> tuple[int, int]:
    """[start, end) of the note holding cell (step, pitch) of a (T, P) roll: its run of on cells, split at `starts`
    ((T, P) bool, the input's note starts)."""
    lo = step
    while lo > 0 and roll[lo - 1, pitch] and not starts[lo, pitch]:
        lo -= 1
    hi = step + 1
    while hi < roll.shape[0] and roll[hi, pitch] and not starts[hi, pitch]:
        hi += 1
    return lo, hi


def _new_note_span(roll: np.ndarray, boundaries: np.ndarray, step: int, pitch: int, hold: int,
                   addable: np.ndarray, apart: np.ndarray | None = None) -> tuple[int, int]:
    """[start, end) of the note to add at cell (step, pitch) of a (T, P) roll: the input's segment around `step`
    (between two of its note starts or ends, `boundaries` (T,) bool) cut into blocks of `hold` steps, the block
    holding `step`; in it, the run of empty addable cells around `step`, kept one step apart from any sounding note
    of that pitch (a new note never merges into another; `apart` (T, P) bool: only from those notes, e.g. the
    input's, so that a new note may continue an added one while the whole stays within `hold` steps). hold <= 1:
    the one cell."""
    n = roll.shape[0]
    if hold <= 1:
        lo, hi = step, step + 1
    else:
        seg_lo = step
        while seg_lo > 0 and not boundaries[seg_lo]:
            seg_lo -= 1
        seg_hi = step + 1
        while seg_hi < n and not boundaries[seg_hi]:
            seg_hi += 1
        lo = seg_lo + ((step - seg_lo) // hold) * hold
        hi = min(seg_hi, lo + hold)
    free = ~roll[:, pitch] & addable[:, pitch]
    a = step
    while a > lo and free[a - 1]:
        a -= 1
    b = step + 1
    while b < hi and free[b]:
        b += 1
    before = after = 0  # the added notes it would continue, in steps
    if apart is not None:
        while a - before > 0 and roll[a - before - 1, pitch] and not apart[a - before - 1, pitch]:
            before += 1
        while b + after < n and roll[b + after, pitch] and not apart[b + after, pitch]:
            after += 1
        if before + (b - a) + after > max(hold, 1):  # too long as one note: re-struck, a step apart
            apart = roll
    apart = roll if apart is None else apart
    if a > 0 and apart[a - 1, pitch]:
        a += 1
    if b < n and apart[b, pitch]:
        b -= 1
    return a, max(a, b)


def _input_notes(original: np.ndarray, onsets: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(note starts, boundaries) of (B, T, P) input rolls: starts (B, T, P) bool; boundaries (B, T) bool, the steps
    where a note of the input starts or the step after one ends (the input's segments)."""
    previous = np.zeros_like(original)
    previous[:, 1:] = original[:, :-1]
    starts = original & ~previous
    if onsets is not None:
        starts |= original & onsets
    ends = np.zeros_like(original)  # a note of the input ended just before this step
    ends[:, 1:] = original[:, :-1] & (~original[:, 1:] | starts[:, 1:])
    return starts, (starts | ends).any(axis=2)


def _addition_rule(model: ARCNN, roll: np.ndarray, addable: np.ndarray, raw: torch.Tensor, classes: np.ndarray,
                   prior: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The musician's rules for additions, for one network pass over rolls (B, T', P) bool: (where a note may be
    added now (B, T', P) bool, a sampling bonus for empty cells (B, T', P) float32 or None).

    Empty addable cells; with config max_voices, only at steps where fewer notes sound; with config chord_rule, only
    the tones of the beat's chord (chords.beat_chords from the sounding notes, the model's softmax over these cells
    (raw (B, T'*P) logits) and the melody-degree prior (B, beats, C)), under a note that sounds, the chord's tones
    not sounding yet at a step getting config complete_bias."""
    config = model.config
    batch, _steps, n_pitches = roll.shape
    fillable = addable & ~roll
    count = roll.sum(axis=2)  # (B, T'): notes sounding at each step
    if config.max_voices:
        fillable &= (count < config.max_voices)[:, :, None]
    if not config.chord_rule:
        return fillable, None
    wanted = torch.softmax(torch.cat([raw, raw.new_zeros(batch, 1)], dim=1), dim=1)[:, :-1].reshape(roll.shape)
    chords = beat_chords(roll, np.where(fillable, wanted.numpy(), 0.0), classes,
                         model_weight=float(config.chord_model_weight), tone_cost=float(config.chord_tone_cost),
                         prior=prior, prior_weight=float(config.chord_prior_weight))
    in_chord = chord_cells(chords, roll.shape[1], n_pitches)  # (B, T', P)
    fillable &= in_chord & (count > 0)[:, :, None]  # a chord tone, under a note that sounds
    if not config.complete_bias:
        return fillable, None
    sounding = (pitch_class_sums(roll) > 0)[:, :, np.arange(n_pitches) % 12]  # (B, T', P)
    bonus = (float(config.complete_bias) * (in_chord & ~sounding & ~roll)).astype(np.float32)
    return fillable, bonus


@torch.inference_mode()
def edit_rolls(
    model: ARCNN,
    rolls: torch.Tensor,
    *,
    iterations: int,
    temperature: float,
    max_add: int,
    max_remove_pct: float,
    generator: torch.Generator,
    onsets: torch.Tensor | None = None,
    key_classes: torch.Tensor | None = None,
    strict_key: bool = False,
) -> torch.Tensor:
    """Edit a batch of one-track rolls independently. rolls (B, T, P) bool -> edited (B, T, P) bool.

    Each network pass scores every cell. Only flips the model is sure of are candidates: a cell's logit must beat
    the model's "nothing to change" outcome (config stop_logit; older checkpoints: a uniform pick) by
    config.confidence (log odds, chosen on the valid split; -100 = every flip). Among them `config.flips_per_pass`
    are sampled without replacement from softmax(logits / temperature) (Gumbel top-k, seedable). A sample stops
    when it has no candidate left (nothing the model is sure of to change) or after `iterations` edits (a maximum).
    An edit is a whole note:
    - a cell that is off becomes a note: the cells around it at that pitch within the input's segment (between two
      of its note starts or ends), in blocks of config.sustain_steps (> 1; else the one cell), never merging with a
      neighbouring note; at most `max_add` cells are added in all (a note is cut to the budget left);
    - a cell that is on removes its whole note: an input note counts against the removal budget,
      floor(max_remove_pct / 100 * the input's notes); an added note may always go again.
    The add budget never turns into removals. Cells are added only at pitches inside the model's training range
    (config pitch_low..pitch_high) and, with config key_mask, in the key (key_classes (B, 12) bool, e.g. from
    keys.key_of; else estimated per roll) or a pitch class the input uses (not with ``strict_key``, for a key the file
    states), whatever the temperature, and with config chord_rule only where `_addition_rule` allows (each beat's
    chord, recomputed every pass).
    onsets (B, T, P) bool: the input's note starts (a re-struck note stays apart); None = each run is one note.
    """
    model.eval()
    model.to(memory_format=torch.channels_last)  # in place, idempotent: ~1.5x faster 3x3 convs on CPU (oneDNN)
    original = rolls.bool()
    batch, steps, n_pitches = original.shape
    multiple = 2**model.config.levels
    orig_np = _pad_time(original, multiple).numpy()  # (B, T', P)
    starts_np, boundaries = _input_notes(
        orig_np, None if onsets is None else _pad_time(onsets.bool() & original, multiple).numpy())
    addable = np.zeros_like(orig_np)
    addable[:, :steps] = addable_pitches(model, original, key_classes, strict_key).numpy()[:, None, :]
    editable = torch.from_numpy(addable | orig_np).reshape(batch, -1)  # (B, N): padding is never edited
    n_editable = editable.sum(dim=1).clamp(min=1).float()  # (B,)
    orig_flat = torch.from_numpy(orig_np.reshape(batch, -1))
    max_remove = np.floor(starts_np.sum(axis=(1, 2)) * (max_remove_pct / 100.0) + 1e-9).astype(np.int64)
    threshold, stop = float(model.config.confidence), bool(model.config.stop_logit)
    add_bias, add_offset = float(model.config.add_logit_bias), float(model.config.add_confidence_offset)
    per_pass = max(1, int(model.config.flips_per_pass))
    hold = int(model.config.sustain_steps)
    min_steps, tie = max(1, int(model.config.min_add_steps)), bool(model.config.tie_added)
    first_removals = bool(model.config.removals_first)
    # a bare melody (at most one note at a time on >= 90 % of its sounding steps) is harmonized readily: additions
    # there need confidence + add_confidence_offset; in a texture (a harmonized piece with gaps), confidence
    heard = orig_np.sum(axis=2)  # (B, T')
    melodic = (heard >= 2).sum(axis=1) <= 0.1 * np.maximum((heard >= 1).sum(axis=1), 1)  # (B,)
    add_threshold = torch.from_numpy(np.where(melodic, add_offset, 0.0).astype(np.float32))[:, None]  # (B, 1)
    classes = pitch_class_sums(addable[:, :1]).reshape(batch, 12) > 0  # (B, 12): the pitch classes one may add
    prior = None
    if model.config.chord_rule and model.config.chord_prior_weight:
        keys = [key_of_classes(key_classes[b].numpy()) if key_classes is not None else None for b in range(batch)]
        prior = np.stack([chord_prior(orig_np[b], keys[b] or estimate_key(orig_np[b])) for b in range(batch)])
    roll_np = orig_np.copy()
    added = np.zeros(batch, dtype=np.int64)  # cells on now that were off in the input
    removed = np.zeros(batch, dtype=np.int64)  # input notes removed
    done = np.zeros(batch, dtype=np.int64)  # edits so far
    dead = np.zeros(orig_flat.shape, dtype=bool)  # cells where no note fits (never picked again)
    active = np.full(batch, iterations > 0)
    while active.any():
        flat = torch.from_numpy(roll_np.reshape(batch, -1))  # (B, N)
        raw = model(torch.from_numpy(roll_np)).reshape(batch, -1).masked_fill(~editable, -math.inf)
        # log odds of each flip against the model's "nothing to change" outcome (logit 0); older checkpoints:
        # against a uniform pick
        uniform = torch.logsumexp(raw, dim=1, keepdim=True) - torch.log(n_editable)[:, None]
        odds = raw if stop else raw - uniform
        logits = raw + add_bias * (~flat).float() if add_bias else raw  # the sampling prior for turning cells on
        fillable, bonus = _addition_rule(model, roll_np, addable, raw, classes, prior)
        if bonus is not None:
            logits = logits + torch.from_numpy(bonus.reshape(batch, -1))
        blocked = ~editable | (odds < threshold + add_threshold * (~flat).float())
        blocked |= torch.from_numpy(~active[:, None] | dead)
        blocked |= ~flat & ~torch.from_numpy(fillable.reshape(batch, -1))
        blocked |= ~flat & torch.from_numpy(added >= max_add)[:, None]
        blocked |= flat & orig_flat & torch.from_numpy(removed >= max_remove)[:, None]
        scores = logits / temperature + _gumbel(logits.shape, generator)
        if first_removals:  # a musician takes out the wrong notes before writing harmony
            scores = scores + REMOVAL_FIRST * flat.float()
        scores = scores.masked_fill(blocked, -math.inf)
        top = scores.topk(min(per_pass, scores.shape[1]), dim=1)
        for b in np.flatnonzero(active).tolist():
            picks = [c for c, v in zip(top.indices[b].tolist(), top.values[b].tolist(), strict=True) if v > -math.inf]
            if not picks:
                active[b] = False  # nothing the model is sure of is left to change
                continue
            for cell in picks:
                step, pitch = divmod(cell, n_pitches)
                if done[b] >= iterations or bool(flat[b, cell]) != bool(roll_np[b, step, pitch]):
                    continue  # the edits are used up, or this pass's earlier edit changed this cell
                if roll_np[b, step, pitch]:  # remove the note holding this cell
                    lo, hi = _note_span(roll_np[b], starts_np[b], step, pitch)
                    is_input = bool(orig_np[b, lo:hi, pitch].any())
                    if is_input and removed[b] >= max_remove[b]:
                        continue
                    added[b] -= int((~orig_np[b, lo:hi, pitch]).sum())
                    roll_np[b, lo:hi, pitch] = False
                    removed[b] += is_input
                else:  # add a note around this cell
                    lo, hi = _new_note_span(roll_np[b], boundaries[b], step, pitch, hold, fillable[b],
                                            orig_np[b] if tie else None)
                    hi = min(hi, lo + int(max_add - added[b]))
                    if hi - lo < min_steps:
                        dead[b, cell] = True
                        continue
                    added[b] += int((~orig_np[b, lo:hi, pitch]).sum())
                    roll_np[b, lo:hi, pitch] = True
                done[b] += 1
            active[b] &= done[b] < iterations
    return torch.from_numpy(roll_np[:, :steps])


def _notes_from_roll(
    pm: pretty_midi.PrettyMIDI, melody: pretty_midi.Instrument, roll: np.ndarray, onsets: np.ndarray
) -> list[pretty_midi.Note]:
    """Notes of an edited roll; a note with the same pitch and step span as an input note is that note, verbatim."""
    originals: dict[tuple[int, int, int], pretty_midi.Note] = {}
    if melody.notes:
        times = np.array([[n.start, n.end] for n in melody.notes])
        spans = np.rint(seconds_to_steps(pm, times.ravel())).astype(np.int64).reshape(-1, 2)
        for note, (start, end) in zip(melody.notes, spans.tolist(), strict=True):
            originals.setdefault((note.pitch, start, max(end, start + 1)), note)
    velocity = int(np.median([n.velocity for n in melody.notes])) if melody.notes else DEFAULT_VELOCITY
    pitches, starts, ends = roll_to_notes(roll, onsets)
    seconds = steps_to_seconds(pm, np.stack([starts, ends]).astype(np.float64))
    notes = []
    for k, (p, s, e) in enumerate(zip(pitches.tolist(), starts.tolist(), ends.tolist(), strict=True)):
        kept = originals.get((p, s, e))
        if kept is not None:
            notes.append(copy.copy(kept))
        else:
            notes.append(pretty_midi.Note(velocity=velocity, pitch=p, start=float(seconds[0, k]),
                                          end=float(seconds[1, k])))
    return notes


def generate(model: ARCNN, pm: pretty_midi.PrettyMIDI, params: dict, seed: int | None = None) -> pretty_midi.PrettyMIDI:
    """Edit the melody track of `pm` with validated arcnn params; other tracks, tempo and meter stay unchanged.

    params: max_remove_pct, max_add, iterations, temperature, validated against spec.PARAMS (pipeline.generate).
    The same seed gives the same output.
    """
    melody_index = melody_track(pm)
    rolls = midi_to_rolls(pm)
    roll, onsets = rolls.tracks[melody_index], rolls.onsets[melody_index]  # (T, 128) each
    n_edit = min(roll.shape[0], MAX_BARS * rolls.steps_per_bar)
    generator = torch.Generator().manual_seed(int(seed) if seed is not None else secrets.randbits(63))
    key_classes = torch.zeros(1, 12, dtype=torch.bool)
    key_classes[0, sorted(key_pitch_classes(key_of(pm)))] = True  # the file's key signature, else all its tracks
    edited = edit_rolls(
        model,
        torch.from_numpy(roll[:n_edit].copy()).unsqueeze(0),
        iterations=int(params.get("iterations", 100)),
        temperature=float(params.get("temperature", 1.0)),
        max_add=int(params.get("max_add", 500)),
        max_remove_pct=float(params.get("max_remove_pct", 10)),
        generator=generator,
        onsets=torch.from_numpy(onsets[:n_edit].copy()).unsqueeze(0),
        key_classes=key_classes,
        strict_key=bool(pm.key_signature_changes),  # a stated key (e.g. the studio's key control): its notes only
    )[0].numpy()
    new_roll = roll.copy()
    new_roll[:n_edit] = edited
    out = copy.deepcopy(pm)
    melody = out.instruments[melody_index]
    melody.notes = _notes_from_roll(pm, pm.instruments[melody_index], new_roll, onsets & new_roll)
    return out
