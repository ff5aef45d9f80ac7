"""AR-CNN quality (docs/design.md section 8): what a user gets from the editor, in three tables.

1. `notes` (the target table): every test-split 8-bar (128-step) window of the four voices OR-ed into one roll, with
   50 % of its NOTES removed (whole notes, chosen at random) and short random notes (1-4 steps, a sixteenth to a
   quarter) added on 1 % of the empty cells within the window's pitch span. The sampler then edits it. Reported:
   windows whose Jaccard similarity to the original (note cells) rises, the mean gain, the precision of the cells
   it added (share that belong to the original) and of the cells it removed (share that were random), the gain of
   removing exactly the random notes, and the best mean any 100 single-cell edits could reach (an oracle).
2. `cells` (the earlier mode, kept for comparison): 50 % of the note CELLS removed (gaps inside notes that stay),
   1 % of the empty cells within the pitch span added (`--cells-of voices` uses soprano windows, 1 % of all empty
   cells, the first model's setting).
3. `melodies`: a user's melody edited at the given parameters: the first 8 bars of --folk Essen folk tunes of the
   test split (music21's corpus via generation/engine/folk.py; no model trains on folk) and of every test-split
   chorale soprano. Reported per source: share of input notes kept whole, added notes a bar (beside Bach's three
   lower voices), share of added notes inside Bach's chord at their onset (the four voices' pitch classes; beside a
   random-in-key baseline: the share of the key's pitch classes inside that chord), share forming a second, seventh
   or tritone with the melody note sounding at their onset and share a sixteenth or less (both beside Bach's lower
   voices), share of time with >= 2 notes sounding, share in key (keys.key_of of the MIDI file: its key signature,
   else estimated from its tracks; also without the checkpoint's key mask), the range of the added notes, and the
   share of notes shorter than a beat before/after.
   `--temperatures` adds a row per temperature: notes added outside the model's training pitch range.

--confidence overrides the checkpoint's sampler threshold (to choose it on --split valid); --config FIELD=VALUE any
sampler field (the chord rule's, models/arcnn/spec.py).
The sampler's parameters default to the user defaults (models/arcnn/spec.py PARAMS); --iterations, --temperature,
--max-add and --max-remove-pct override them.

    .venv/bin/python benchmarks/arcnn_quality.py [--tables notes,cells,melodies] [--split test|valid]
        [--checkpoint DIR] [--hop 16] [--folk 40] [--temperatures 0.5,1,2,4,6] [--seed 0] [--threads 1]
        [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.engine.dataset import load_chorales, pieces_split, windows
from generation.engine.keys import estimate_key, key_of, key_pitch_classes  # noqa: F401
from generation.engine.models.arcnn.model import _choose_cells, make_training_pairs
from generation.engine.models.arcnn.sampler import edit_rolls
from generation.engine.representation import roll_to_notes

WINDOW = 128
SHORT = 4  # steps: a note shorter than a beat (a quarter note)


def default_params() -> dict:
    """The AR-CNN's user parameters at their defaults (models/arcnn/spec.py PARAMS), seed aside."""
    from generation.engine.models.arcnn.spec import PARAMS

    return {param.name: param.default for param in PARAMS if param.name != "seed"}


# ---------------------------------------------------------------------------------------------------- corruption
def window_notes(roll: np.ndarray, onsets: np.ndarray) -> list[tuple[int, int, int]]:
    """(pitch, start, end) of every note of a (T, P) roll, notes split at `onsets` (re-struck notes stay apart)."""
    pitches, starts, ends = roll_to_notes(roll, onsets & roll)
    return list(zip(pitches.tolist(), starts.tolist(), ends.tolist(), strict=True))


def remove_notes(roll: np.ndarray, onsets: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A copy of `roll` (T, P) with round(fraction * n) of its n notes removed whole, chosen at random."""
    notes = window_notes(roll, onsets)
    out = roll.copy()
    for k in rng.choice(len(notes), size=round(fraction * len(notes)), replace=False).tolist():
        pitch, start, end = notes[k]
        out[start:end, pitch] = False
    return out


def add_short_notes(roll: np.ndarray, clean: np.ndarray, pct: float, rng: np.random.Generator,
                    max_len: int = SHORT) -> np.ndarray:
    """A copy of `roll` with random notes of 1..max_len steps added on `pct` % of the cells that are empty in `clean`
    between its lowest and highest sounding pitch (the last note is cut to land on the count exactly). Added cells
    are empty in `clean` (each is a wrong note); a note stops at the first cell that is not."""
    out = roll.copy()
    sounding = np.flatnonzero(clean.any(axis=0))
    if len(sounding) == 0:
        return out
    low, high = int(sounding[0]), int(sounding[-1])
    free = ~clean[:, low : high + 1]
    budget = round(pct / 100.0 * float(free.sum()))
    added = 0
    while added < budget:
        pitch, start = int(rng.integers(low, high + 1)), int(rng.integers(0, roll.shape[0]))
        length = int(rng.integers(1, max_len + 1))
        for step in range(start, min(start + length, roll.shape[0])):
            if clean[step, pitch] or out[step, pitch] or added >= budget:
                break
            out[step, pitch] = True
            added += 1
    return out


def corrupt_notes(clean: np.ndarray, onsets: np.ndarray, *, seed: int = 0, remove: float = 0.5,
                  add_pct: float = 1.0) -> np.ndarray:
    """The note-level benchmark's corruption of (N, T, P) windows: whole notes removed, short random notes added."""
    rng = np.random.default_rng(seed)
    return np.stack([add_short_notes(remove_notes(c, o, remove, rng), c, add_pct, rng)
                     for c, o in zip(clean, onsets, strict=True)])


# ------------------------------------------------------------------------------------------------------- metrics
def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, T, P) bool x2 -> (N,) |a & b| / |a | b|."""
    inter = (a & b).sum(axis=(1, 2))
    union = (a | b).sum(axis=(1, 2))
    return inter / np.maximum(union, 1)


def oracle_jaccard(corrupted: np.ndarray, clean: np.ndarray, edits: int) -> np.ndarray:
    """Best Jaccard reachable with `edits` single-cell flips, knowing the original."""
    inter = (corrupted & clean).sum(axis=(1, 2))
    union = (corrupted | clean).sum(axis=(1, 2))
    missing = (clean & ~corrupted).sum(axis=(1, 2))
    wrong = (corrupted & ~clean).sum(axis=(1, 2))
    best = inter / np.maximum(union, 1)
    for n_add in range(edits + 1):
        add = np.minimum(n_add, missing)
        remove = np.minimum(wrong, edits - n_add)
        best = np.maximum(best, (inter + add) / np.maximum(union - remove, 1))
    return best


def edit_metrics(clean: np.ndarray, corrupted: np.ndarray, edited: np.ndarray, edits: int) -> dict:
    """Jaccard before/after, precision of additions and removals (pooled over windows), oracle and baselines."""
    before, after = jaccard(corrupted, clean), jaccard(edited, clean)
    added, removed = edited & ~corrupted, corrupted & ~edited
    return {
        "windows": len(clean),
        "improved_fraction": float((after > before).mean()),
        "mean_jaccard_before": float(before.mean()),
        "mean_jaccard_after": float(after.mean()),
        "mean_gain": float((after - before).mean()),
        "precision_added": float((added & clean).sum() / max(added.sum(), 1)),
        "precision_removed": float((removed & ~clean).sum() / max(removed.sum(), 1)),
        "mean_cells_added": float(added.sum(axis=(1, 2)).mean()),
        "mean_cells_removed": float(removed.sum(axis=(1, 2)).mean()),
        "gain_removing_random": float((jaccard(corrupted & clean, clean) - before).mean()),
        "oracle_mean_jaccard": float(oracle_jaccard(corrupted, clean, edits).mean()),
        "mean_note_cells": float(clean.sum(axis=(1, 2)).mean()),
        "mean_random_cells": float((corrupted & ~clean).sum(axis=(1, 2)).mean()),
    }


DISSONANT = {1, 2, 6, 10, 11}  # interval classes of a second, a seventh or a tritone (compound intervals included)


def _sounding_top(roll: np.ndarray, step: int) -> int | None:
    pitches = np.flatnonzero(roll[step])
    return int(pitches[-1]) if len(pitches) else None


def melody_metrics(inputs: np.ndarray, onsets: np.ndarray, outputs: np.ndarray, lengths: list[int],
                   pitch_range: tuple[int, int], keys: list[tuple[int, str]], bars: list[float],
                   bach: np.ndarray | None = None) -> dict:
    """Per-melody measures: notes kept averaged over melodies; added-note shares pooled over all added notes.

    bach (N, V, T, P) bool, optional: the chorales' four voices, for the shares inside Bach's chord (the pitch
    classes of all voices sounding at the added note's onset) beside a random-in-key baseline (the share of the
    key's pitch classes inside that chord, at the same onsets), and Bach's lower voices measured the same way."""
    kept, poly, short_in, short_out = [], [], [], []
    added_total = added_in_key = outside = in_chord = dissonant = with_melody = sixteenths = 0
    baseline, n_bars, added_pitches = 0.0, 0.0, []
    bach_notes = bach_dissonant = bach_with_melody = bach_sixteenths = 0
    for k, (x, o, y, n) in enumerate(zip(inputs, onsets, outputs, lengths, strict=True)):
        x, o, y = x[:n], o[:n], y[:n]
        notes_in = window_notes(x, o)
        kept.append(np.mean([y[s:e, p].all() and not (s > 0 and y[s - 1, p] and not o[s, p])
                             for p, s, e in notes_in]))
        poly.append(float((y.sum(axis=1) >= 2).mean()))
        short_in.append(np.mean([e - s < SHORT for _p, s, e in notes_in]))
        new_pitches, new_starts, new_ends = roll_to_notes(y & ~x)  # the sampler never merges a new note
        notes_out = window_notes(y, o | ((y & ~x) & ~np.vstack([np.zeros((1, y.shape[1]), bool), (y & ~x)[:-1]])))
        short_out.append(np.mean([e - s < SHORT for _p, s, e in notes_out]) if notes_out else 0.0)
        pcs = key_pitch_classes(keys[k])
        n_bars += bars[k]
        added_total += len(new_pitches)
        added_in_key += sum(int(p) % 12 in pcs for p in new_pitches.tolist())
        outside += int(((new_pitches < pitch_range[0]) | (new_pitches > pitch_range[1])).sum())
        added_pitches += new_pitches.tolist()
        sixteenths += int((new_ends - new_starts <= 1).sum())
        for p, s in zip(new_pitches.tolist(), new_starts.tolist(), strict=True):
            top = _sounding_top(x, s)
            if top is not None:
                with_melody += 1
                dissonant += (top - p) % 12 in DISSONANT
            if bach is not None:
                chord = {int(q) % 12 for q in np.flatnonzero(bach[k][:, s].any(axis=0))}
                in_chord += p % 12 in chord
                baseline += len(chord & pcs) / len(pcs)
        if bach is not None:
            lower = [roll_to_notes(voice[:n]) for voice in bach[k][1:]]  # each voice's notes
            for p, s, e in zip(*(np.concatenate(part) for part in zip(*lower, strict=True)), strict=True):
                top = _sounding_top(x, int(s))
                bach_notes += 1
                bach_sixteenths += int(e - s <= 1)
                if top is not None:
                    bach_with_melody += 1
                    bach_dissonant += (top - int(p)) % 12 in DISSONANT
    out = {
        "melodies": len(inputs),
        "notes_kept": float(np.mean(kept)),
        "time_two_plus": float(np.mean(poly)),
        "added_notes": added_total,
        "added_per_bar": float(added_total / max(n_bars, 1e-9)),
        "added_in_key": float(added_in_key / max(added_total, 1)),
        "added_dissonant": float(dissonant / max(with_melody, 1)),
        "added_sixteenths": float(sixteenths / max(added_total, 1)),
        "added_pitch_min": int(min(added_pitches)) if added_pitches else None,
        "added_pitch_max": int(max(added_pitches)) if added_pitches else None,
        "added_outside_range": outside,
        "short_before": float(np.mean(short_in)),
        "short_after": float(np.mean(short_out)),
    }
    if bach is not None:
        out.update({
            "added_in_chord": float(in_chord / max(added_total, 1)),
            "random_in_key_in_chord": float(baseline / max(added_total, 1)),
            "bach_per_bar": float(bach_notes / max(n_bars, 1e-9)),
            "bach_dissonant": float(bach_dissonant / max(bach_with_melody, 1)),
            "bach_sixteenths": float(bach_sixteenths / max(bach_notes, 1)),
        })
    return out


# --------------------------------------------------------------------------------------------------------- data
def merged_windows(split: str, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Every non-empty 128-step window of the four voices OR-ed into one roll, with its note onsets: (N, T, P) x2."""
    rolls, onsets = [], []
    for piece in pieces_split(load_chorales(), split):
        merged = piece.rolls.any(axis=0)
        starts = (piece.onsets & piece.rolls).any(axis=0)
        w, o = windows(merged, WINDOW, hop), windows(starts, WINDOW, hop)
        keep = w.any(axis=(1, 2))
        rolls.append(w[keep])
        onsets.append(o[keep])
    return np.concatenate(rolls), np.concatenate(onsets)


def soprano_windows(split: str, hop: int) -> np.ndarray:
    out = []
    for piece in pieces_split(load_chorales(), split):
        w = windows(piece.rolls[0], WINDOW, hop)
        out.append(w[w.any(axis=(1, 2))])
    return np.concatenate(out)


def melodies(split: str, n_folk: int) -> dict[str, dict]:
    """{"folk": ..., "soprano": ...}, each {"rolls", "onsets" (N, 128, 128), "lengths" (steps), "keys" (keys.key_of
    of the MIDI file), "bars"}, and for the sopranos "bach" (N, 4, 128, 128): the first 8 bars of the first n_folk
    folk tunes of `split` (by name) and of every chorale soprano of `split`, read from MIDI as a user's upload is."""
    from generation.engine.folk import load_folk
    from generation.engine.representation import midi_to_rolls

    def first_window(pm) -> tuple[np.ndarray, np.ndarray, int, tuple[int, str], float]:
        rolls = midi_to_rolls(pm)
        roll, onset = np.zeros((WINDOW, 128), bool), np.zeros((WINDOW, 128), bool)
        n = min(WINDOW, rolls.tracks[0].shape[0])
        roll[:n], onset[:n] = rolls.tracks[0][:n], rolls.onsets[0][:n]
        return roll, onset, n, key_of(pm), n / rolls.steps_per_bar

    out = {}
    tunes = sorted((t for t in load_folk() if t.split == split), key=lambda t: t.name)[:n_folk] if n_folk else []
    chorales = pieces_split(load_chorales(), split)
    for name, pms in (("folk", [t.to_midi() for t in tunes]),
                      ("soprano", [replace_voices(p) for p in chorales])):
        if not pms:
            continue
        rows = [first_window(pm) for pm in pms]
        out[name] = {"rolls": np.stack([r[0] for r in rows]), "onsets": np.stack([r[1] for r in rows]),
                     "lengths": [r[2] for r in rows], "keys": [r[3] for r in rows], "bars": [r[4] for r in rows]}
        if name == "soprano":
            bach = np.zeros((len(chorales), 4, WINDOW, 128), bool)
            for k, piece in enumerate(chorales):
                part = piece.rolls[:4, :WINDOW]
                bach[k, : part.shape[0], : part.shape[1]] = part
            out[name]["bach"] = bach
    return out


def replace_voices(piece):
    """The piece's soprano alone, as a one-track MIDI (a user's melody)."""
    from generation.engine.representation import replace_tracks, rolls_to_midi

    return rolls_to_midi(replace_tracks(piece.to_rolls(), piece.rolls[:1], piece.onsets[:1], programs=[0],
                                        is_drum=[False], names=["melody"]))


# ------------------------------------------------------------------------------------------------------- running
def run_sampler(model, rolls: np.ndarray, params: dict, seed: int, batch: int = 64,
                onsets: np.ndarray | None = None, keys: list[tuple[int, str]] | None = None) -> np.ndarray:
    generator = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(rolls)
    o = None if onsets is None else torch.from_numpy(onsets)
    key_classes = None
    if keys is not None:
        key_classes = torch.zeros(len(keys), 12, dtype=torch.bool)
        for k, key in enumerate(keys):
            key_classes[k, sorted(key_pitch_classes(key))] = True
    return torch.cat([
        edit_rolls(model, x[lo : lo + batch], iterations=int(params["iterations"]),
                   temperature=float(params["temperature"]), max_add=int(params["max_add"]),
                   max_remove_pct=float(params["max_remove_pct"]), generator=generator,
                   onsets=None if o is None else o[lo : lo + batch],
                   key_classes=None if key_classes is None else key_classes[lo : lo + batch])
        for lo in range(0, len(x), batch)
    ]).numpy()


def notes_table(model, split: str, hop: int, params: dict, seed: int) -> dict:
    clean, onsets = merged_windows(split, hop)
    corrupted = corrupt_notes(clean, onsets, seed=seed)
    edited = run_sampler(model, corrupted, params, seed + 1)
    return edit_metrics(clean, corrupted, edited, int(params["iterations"]))


def cells_table(model, split: str, hop: int, params: dict, seed: int, of: str = "merged") -> dict:
    """The earlier cell-level mode: 50 % of note cells removed; merged: 1 % of the span's empty cells added there;
    voices: soprano windows, 1 % of all empty cells (the training recipe's unit)."""
    generator = torch.Generator().manual_seed(seed)
    if of == "voices":
        clean = soprano_windows(split, hop)
        corrupted = make_training_pairs(torch.from_numpy(clean), remove_pct=(50.0, 50.0), add_pct=(1.0, 1.0),
                                        generator=generator)[0]
    else:
        clean = merged_windows(split, hop)[0]
        c = torch.from_numpy(clean)
        batch = c.shape[0]
        flat = c.reshape(batch, -1)
        removed = _choose_cells(flat, torch.full((batch,), 0.5), generator)
        sounding = c.any(dim=1)
        pitch = torch.arange(c.shape[2])
        low = torch.where(sounding, pitch, c.shape[2]).min(dim=1).values
        high = torch.where(sounding, pitch, -1).max(dim=1).values
        in_span = (pitch >= low[:, None]) & (pitch <= high[:, None])
        candidates = ~flat & in_span[:, None, :].expand_as(c).reshape(batch, -1)
        added = _choose_cells(candidates, torch.full((batch,), 0.01), generator)
        corrupted = ((flat & ~removed) | added).reshape(c.shape)
    corrupted = corrupted.numpy()
    edited = run_sampler(model, corrupted, params, seed + 1)
    return edit_metrics(clean, corrupted, edited, int(params["iterations"]))


def melody_tables(model, split: str, n_folk: int, params: dict, seed: int, temperatures: list[float]) -> dict:
    config = model.config
    pitch_range = (config.pitch_low, config.pitch_high) if (config.pitch_low, config.pitch_high) != (0, 127) \
        else training_pitch_range()
    out = {"pitch_range": list(pitch_range)}
    for name, data in melodies(split, n_folk).items():
        rolls, onsets, keys = data["rolls"], data["onsets"], data["keys"]

        def measure(edited: np.ndarray, data=data) -> dict:
            return melody_metrics(data["rolls"], data["onsets"], edited, data["lengths"], pitch_range, data["keys"],
                                  data["bars"], data.get("bach"))

        edited = run_sampler(model, rolls, params, seed, onsets=onsets, keys=keys)
        out[name] = measure(edited)
        if config.key_mask:  # what the model does without the key mask
            masked, model.config = model.config, replace(model.config, key_mask=False)
            try:
                free = run_sampler(model, rolls, params, seed, onsets=onsets, keys=keys)
            finally:
                model.config = masked
            out[name]["added_in_key_unmasked"] = measure(free)["added_in_key"]
        for temperature in temperatures:
            hot = run_sampler(model, rolls, {**params, "temperature": temperature}, seed, onsets=onsets, keys=keys)
            out[name][f"outside_range_t{temperature:g}"] = measure(hot)["added_outside_range"]
    return out


def training_pitch_range(max_transpose: int = 6) -> tuple[int, int]:
    """Lowest and highest pitch of the chorales' train split, widened by the training transpositions (-5..+6)."""
    sounding = np.flatnonzero(np.any([p.rolls.any(axis=(0, 1)) for p in pieces_split(load_chorales(), "train")],
                                     axis=0))
    return int(sounding[0]) - (max_transpose - 1), int(sounding[-1]) + max_transpose


def print_edit_table(title: str, result: dict, params: dict) -> None:
    print(title)
    print(f"{'measure':<44}{'value':>10}{'target':>10}")
    rows = [
        ("windows", f"{result['windows']}", ""),
        ("note cells / random cells a window", f"{result['mean_note_cells']:.0f} / {result['mean_random_cells']:.0f}",
         ""),
        ("windows improved", f"{result['improved_fraction']:.3f}", ">= 0.80"),
        ("mean Jaccard before -> after", f"{result['mean_jaccard_before']:.3f} -> {result['mean_jaccard_after']:.3f}",
         ""),
        ("mean gain", f"{result['mean_gain']:.3f}", ">= 0.06"),
        ("precision of additions", f"{result['precision_added']:.3f}", ""),
        ("precision of removals", f"{result['precision_removed']:.3f}", ""),
        ("cells added / removed a window", f"{result['mean_cells_added']:.1f} / {result['mean_cells_removed']:.1f}",
         ""),
        ("gain of removing exactly the random cells", f"{result['gain_removing_random']:.3f}", ""),
        (f"oracle gain ({params['iterations']} edits)",
         f"{result['oracle_mean_jaccard'] - result['mean_jaccard_before']:.3f}", ""),
        ("seconds", f"{result['seconds']}", ""),
    ]
    for name, value, target in rows:
        print(f"{name:<44}{value:>10}{target:>10}")
    print()


def print_melody_table(result: dict, temperatures: list[float]) -> None:
    names = [n for n in ("folk", "soprano") if n in result]
    print(f"Melodies (first 8 bars), training pitch range {result['pitch_range'][0]}..{result['pitch_range'][1]}")
    print(f"{'measure':<46}" + "".join(f"{n:>16}" for n in names) + f"{'target':>10}")

    def row(label: str, fmt, target: str = "") -> None:
        print(f"{label:<46}" + "".join(f"{fmt(result[n]) if n == 'soprano' or 'bach' not in label else '':>16}"
                                       for n in names) + f"{target:>10}")

    def chorale(key: str, fmt: str = ".3f"):
        return lambda r: format(r[key], fmt) if key in r else "-"

    row("melodies", lambda r: f"{r['melodies']}")
    row("input notes kept", lambda r: f"{r['notes_kept']:.3f}", ">= 0.97")
    row("added notes", lambda r: f"{r['added_notes']}")
    row("added notes a bar", lambda r: f"{r['added_per_bar']:.2f}")
    row("  bach's lower voices: notes a bar", chorale("bach_per_bar", ".2f"))
    row("added notes inside Bach's chord", chorale("added_in_chord"), ">= 0.55")
    row("  random notes of the key inside it", chorale("random_in_key_in_chord"))
    row("added notes a 2nd/7th/tritone from the melody", lambda r: f"{r['added_dissonant']:.3f}", "<= 0.12")
    row("  bach's lower voices", chorale("bach_dissonant"))
    row("added notes a sixteenth or less", lambda r: f"{r['added_sixteenths']:.3f}", "<= 0.10")
    row("  bach's lower voices", chorale("bach_sixteenths"))
    row("time with >= 2 notes sounding", lambda r: f"{r['time_two_plus']:.3f}")
    row("added notes in key", lambda r: f"{r['added_in_key']:.3f}")
    if all("added_in_key_unmasked" in result[n] for n in names):
        row("  same without the key mask", lambda r: f"{r['added_in_key_unmasked']:.3f}")
    row("pitch range of added notes", lambda r: f"{r['added_pitch_min']}..{r['added_pitch_max']}")
    row("notes shorter than a beat before/after", lambda r: f"{r['short_before']:.2f} / {r['short_after']:.2f}")
    for t in temperatures:
        row(f"added notes outside the range, T={t:g}", lambda r, t=t: f"{r[f'outside_range_t{t:g}']}", "0")
    print(f"{'seconds':<46}{result['seconds']:>16}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="notes,cells,melodies", help="comma-separated: notes, cells, melodies")
    parser.add_argument("--cells-of", default="merged", choices=["merged", "voices"])
    parser.add_argument("--checkpoint", default=None, help="checkpoint folder (default: the shipped one)")
    parser.add_argument("--split", default="test", choices=["test", "valid"], help="valid: for choosing settings")
    parser.add_argument("--hop", type=int, default=16, help="window start every HOP steps (16 = every 4/4 bar)")
    parser.add_argument("--folk", type=int, default=40, help="folk tunes in the melody table")
    parser.add_argument("--temperatures", default="", help="e.g. 0.5,1,2,4,6: out-of-range count at each")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--max-add", type=int, default=None)
    parser.add_argument("--max-remove-pct", type=float, default=None)
    parser.add_argument("--add-logit-bias", type=float, default=None, help="override the model's sampling prior")
    parser.add_argument("--flips-per-pass", type=int, default=None, help="override the model's flips per pass")
    parser.add_argument("--confidence", type=float, default=None, help="override the sampler's confidence")
    parser.add_argument("--key-mask", default=None, choices=["on", "off"], help="override the model's key mask")
    parser.add_argument("--config", action="append", default=[], metavar="FIELD=VALUE",
                        help="override any sampler config field, e.g. chord_rule=false (the previous sampler: "
                             "chord_rule=false add_confidence_offset=0 tie_added=false removals_first=false "
                             "min_add_steps=1 max_voices=0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from generation.engine.loading import default_checkpoint_dir, load_checkpoint

    checkpoint = args.checkpoint or default_checkpoint_dir("arcnn")
    model, _meta = load_checkpoint(checkpoint, architecture="arcnn")
    overrides = {k: v for k, v in (("add_logit_bias", args.add_logit_bias), ("flips_per_pass", args.flips_per_pass),
                                   ("confidence", args.confidence),
                                   ("key_mask", None if args.key_mask is None else args.key_mask == "on"))
                 if v is not None}
    for item in args.config:
        name, _, value = item.partition("=")
        current = getattr(model.config, name)  # an unknown field is an AttributeError naming it
        overrides[name] = value.lower() in ("1", "true", "on") if isinstance(current, bool) else type(current)(value)
    if overrides:
        model.config = replace(model.config, **overrides)
    params = default_params()
    for name in ("iterations", "temperature", "max_add", "max_remove_pct"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    temperatures = [float(t) for t in args.temperatures.split(",") if t]
    tables = args.tables.split(",")
    results: dict = {"params": params, "config": {k: getattr(model.config, k) for k in
                                                  ("add_logit_bias", "flips_per_pass", "pitch_low", "pitch_high",
                                                   "key_mask")}}
    for table in tables:
        started = time.perf_counter()
        if table == "notes":
            results[table] = notes_table(model, args.split, args.hop, params, args.seed)
        elif table == "cells":
            results[table] = cells_table(model, args.split, args.hop, params, args.seed, args.cells_of)
        elif table == "melodies":
            results[table] = melody_tables(model, args.split, args.folk, params, args.seed, temperatures)
        else:
            raise SystemExit(f"unknown table {table!r}")
        results[table]["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"AR-CNN quality, {args.split} split, checkpoint {checkpoint}, params {params}, "
          f"sampler {results['config']}, seed {args.seed}, {args.threads} thread(s)\n")
    if "notes" in results:
        print_edit_table("Note-level: 4 voices merged, 50 % of notes removed whole, short random notes on 1 % of the "
                         "span's empty cells", results["notes"], params)
    if "cells" in results:
        print_edit_table(f"Cell-level ({args.cells_of}): 50 % of note cells removed, 1 % random cells",
                         results["cells"], params)
    if "melodies" in results:
        print_melody_table(results["melodies"], temperatures)


if __name__ == "__main__":
    main()
