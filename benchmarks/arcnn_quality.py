"""AR-CNN quality (DESIGN section 8): does editing bring corrupted test windows back towards the original?

Two modes. `--mode voices` (default): every test-split 8-bar (128-step) window of the chosen voices (soprano = the
melody by default) that holds a note. `--mode merged`: the four voices OR-ed into one roll (DeepComposer's setting:
its AR-CNN notebook trains on the chorales merged into one piano track), ~490 note cells a window. Windows start
every --hop steps and are corrupted with a fixed seed: 50 % of the note cells removed and "1 % random notes" added,
read by --add-pct-of as 1 % of the window's empty cells (`empty`, the voices default), 1 % of its note cells
(`notes`), or 1 % of the empty cells between its lowest and highest sounding pitch, added there (`span`, the merged
default: the reading that reproduces issue 3's ~0.47 before-Jaccard). The default sampler (100 iterations,
temperature 1.0, max_add 500, max_remove_pct 100) then edits it. We report the fraction of windows whose Jaccard
similarity (note cells) to the original rises, the mean Jaccard before and after, and the best mean any 100
single-cell edits could reach (an oracle that knows the original).

    .venv/bin/python benchmarks/arcnn_quality.py [--mode voices|merged] [--add-pct-of empty|notes|span]
        [--checkpoint DIR] [--hop 16] [--voices 0] [--seed 0] [--threads 1]
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
from generation.engine.models.arcnn.model import _choose_cells, make_training_pairs
from generation.engine.models.arcnn.sampler import edit_rolls

TARGET_IMPROVED = 0.95
ADD_READINGS = {
    "empty": "1 % of the window's empty cells, anywhere",
    "notes": "1 % of the window's note cells, anywhere empty",
    "span": "1 % of the empty cells within the window's pitch span, added there",
}
DEFAULT_ADD_OF = {"voices": "empty", "merged": "span"}
TARGET_GAIN = 0.15
DISCRIMINATOR_DIR = Path(__file__).resolve().parents[1] / "generation" / "checkpoints" / "discriminator"


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, T, P) bool x2 -> (N,) |a & b| / |a | b|."""
    inter = (a & b).sum(axis=(1, 2))
    union = (a | b).sum(axis=(1, 2))
    return inter / np.maximum(union, 1)


def oracle_jaccard(corrupted: np.ndarray, clean: np.ndarray, edits: int) -> np.ndarray:
    """Best Jaccard reachable with `edits` single-cell flips, knowing the original (adds first pay most)."""
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


def split_windows(split: str, voices: list[int], hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Every non-empty 128-step window of `voices` in `split`, starting every `hop` steps.

    Returns (windows (N, 128, 128) bool, their four-voice context (N, 4, 128, 128) with the edited voice first).
    """
    steps = 128
    rolls, contexts = [], []
    for piece in pieces_split(load_chorales(), split):
        full = np.stack([windows(piece.rolls[v], steps, hop) for v in range(4)], axis=1)  # (W, 4, steps, 128)
        for voice in voices:
            keep = full[:, voice].any(axis=(1, 2))
            rolls.append(full[keep, voice])
            contexts.append(np.roll(full[keep], -voice, axis=1))  # the edited voice first
    return np.concatenate(rolls), np.concatenate(contexts)


def merged_windows(split: str, hop: int) -> np.ndarray:
    """Every non-empty 128-step window of the four voices OR-ed into one roll: (N, 128, 128) bool."""
    out = []
    for piece in pieces_split(load_chorales(), split):
        merged = windows(piece.rolls.any(axis=0), 128, hop)  # (W, 128, 128)
        out.append(merged[merged.any(axis=(1, 2))])
    return np.concatenate(out)


def corrupt(clean: torch.Tensor, *, add_of: str, generator: torch.Generator, remove_pct: float = 50.0,
            add_pct: float = 1.0) -> torch.Tensor:
    """Remove `remove_pct` % of each window's note cells and add random cells, `add_pct` % of what `add_of` names.

    `empty` is the training recipe's corruption (make_training_pairs, same random stream). clean (B, T, P) bool.
    """
    if add_of == "empty":
        return make_training_pairs(clean, remove_pct=(remove_pct, remove_pct), add_pct=(add_pct, add_pct),
                                   generator=generator)[0]
    batch = clean.shape[0]
    flat = clean.bool().reshape(batch, -1)  # (B, N)
    removed = _choose_cells(flat, torch.full((batch,), remove_pct / 100.0), generator)
    candidates = ~flat
    if add_of == "span":
        sounding = clean.any(dim=1)  # (B, P)
        pitch = torch.arange(clean.shape[2])
        low = torch.where(sounding, pitch, clean.shape[2]).min(dim=1).values  # (B,)
        high = torch.where(sounding, pitch, -1).max(dim=1).values
        in_span = (pitch >= low[:, None]) & (pitch <= high[:, None])  # (B, P)
        candidates &= in_span[:, None, :].expand_as(clean).reshape(batch, -1)
        fraction = torch.full((batch,), add_pct / 100.0)
    else:  # notes: as many cells as add_pct % of the note cells, among all empty cells
        fraction = (flat.sum(dim=1) * add_pct / 100.0) / candidates.sum(dim=1).clamp(min=1)
    added = _choose_cells(candidates, fraction, generator)
    return ((flat & ~removed) | added).reshape(clean.shape)


def mean_realness(discriminator, contexts: np.ndarray, edited_voice: np.ndarray) -> float:
    """Mean realness of each 4-voice window with its first track replaced by `edited_voice` (N, T, 128)."""
    from generation.engine.models.discriminator.model import realness

    tracks = contexts.copy()
    tracks[:, 0] = edited_voice
    return float(np.mean([realness(discriminator, t) for t in tracks]))


def evaluate(model, clean: np.ndarray, *, seed: int = 0, iterations: int = 100, temperature: float = 1.0,
             max_add: int = 500, max_remove_pct: float = 100.0, batch: int = 64, discriminator=None,
             contexts: np.ndarray | None = None, add_of: str = "empty") -> dict:
    """Corrupt (50 % removed, 1 % added as `add_of` reads it), edit with the sampler, compare Jaccard before/after."""
    generator = torch.Generator().manual_seed(seed)
    corrupted = corrupt(torch.from_numpy(clean), add_of=add_of, generator=generator)
    sample_gen = torch.Generator().manual_seed(seed + 1)
    edited = torch.cat([
        edit_rolls(model, corrupted[lo : lo + batch], iterations=iterations, temperature=temperature,
                   max_add=max_add, max_remove_pct=max_remove_pct, generator=sample_gen)
        for lo in range(0, len(clean), batch)
    ]).numpy()
    corrupted = corrupted.numpy()
    before, after = jaccard(corrupted, clean), jaccard(edited, clean)
    added = (edited & ~corrupted).sum(axis=(1, 2))
    realness = {}
    if discriminator is not None and contexts is not None:
        realness = {f"realness_{name}": mean_realness(discriminator, contexts, roll)
                    for name, roll in (("original", clean), ("corrupted", corrupted), ("edited", edited))}
    return {
        **realness,
        "windows": len(clean),
        "improved_fraction": float((after > before).mean()),
        "mean_jaccard_before": float(before.mean()),
        "mean_jaccard_after": float(after.mean()),
        "mean_gain": float((after - before).mean()),
        "oracle_mean_jaccard": float(oracle_jaccard(corrupted, clean, iterations).mean()),
        "mean_note_cells": float(clean.sum(axis=(1, 2)).mean()),
        "mean_random_cells": float((corrupted & ~clean).sum(axis=(1, 2)).mean()),
        "mean_cells_added": float(added.mean()),
        "mean_cells_removed": float((corrupted & ~edited).sum(axis=(1, 2)).mean()),
        "fixes_per_edit": float((((edited ^ corrupted) & (corrupted ^ clean)).sum(axis=(1, 2))
                                 / np.maximum((edited ^ corrupted).sum(axis=(1, 2)), 1)).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="voices", choices=["voices", "merged"],
                        help="voices: one voice a roll (--voices); merged: the four voices OR-ed into one roll")
    parser.add_argument("--add-pct-of", default=None, choices=sorted(ADD_READINGS),
                        help="what the 1 %% of random cells is a percentage of (default: empty for voices, span for "
                             "merged)")
    parser.add_argument("--checkpoint", default=None, help="checkpoint folder (default: the shipped one)")
    parser.add_argument("--hop", type=int, default=16, help="window start every HOP steps (16 = every 4/4 bar)")
    parser.add_argument("--voices", default="0", help="comma-separated voices: 0 soprano .. 3 bass")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", default="test", choices=["test", "valid"], help="valid: for choosing the prior")
    parser.add_argument("--add-logit-bias", type=float, default=None, help="override the model's sampling prior")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-realness", action="store_true", help="skip the discriminator's realness figures")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from generation.engine.loading import default_checkpoint_dir, load_checkpoint

    model, _meta = load_checkpoint(args.checkpoint or default_checkpoint_dir("arcnn"), architecture="arcnn")
    if args.add_logit_bias is not None:
        model.config = replace(model.config, add_logit_bias=args.add_logit_bias)
    add_of = args.add_pct_of or DEFAULT_ADD_OF[args.mode]
    if args.mode == "merged":
        clean, contexts = merged_windows(args.split, args.hop), None  # realness needs one voice of four
    else:
        clean, contexts = split_windows(args.split, [int(v) for v in args.voices.split(",")], args.hop)
    discriminator = None
    if contexts is not None and not args.no_realness and (DISCRIMINATOR_DIR / "model.safetensors").exists():

        discriminator = load_checkpoint(DISCRIMINATOR_DIR, architecture="discriminator")[0]
    started = time.perf_counter()
    result = evaluate(model, clean, seed=args.seed, discriminator=discriminator, contexts=contexts, add_of=add_of)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    rolls = "4 voices merged into one roll" if args.mode == "merged" else f"voices {args.voices}"
    print(f"AR-CNN quality on {args.split} windows ({rolls}, hop {args.hop}, seed {args.seed}, "
          f"add_logit_bias {model.config.add_logit_bias:g})")
    print(f"corruption: 50 % of note cells removed; '1 % random notes' = {ADD_READINGS[add_of]} "
          f"(--add-pct-of {add_of})")
    print(f"{'measure':<34}{'value':>10}{'target':>10}")
    print(f"{'windows':<34}{result['windows']:>10}")
    print(f"{'note / random cells a window':<34}{result['mean_note_cells']:>5.1f} / "
          f"{result['mean_random_cells']:.1f}")
    print(f"{'improved fraction':<34}{result['improved_fraction']:>10.3f}{'>= 0.95':>10}")
    print(f"{'mean Jaccard before':<34}{result['mean_jaccard_before']:>10.3f}")
    print(f"{'mean Jaccard after':<34}{result['mean_jaccard_after']:>10.3f}")
    print(f"{'mean gain':<34}{result['mean_gain']:>10.3f}{'>= 0.15':>10}")
    print(f"{'oracle mean Jaccard (100 edits)':<34}{result['oracle_mean_jaccard']:>10.3f}")
    print(f"{'mean cells added / removed':<34}{result['mean_cells_added']:>5.1f} / {result['mean_cells_removed']:.1f}")
    print(f"{'edits that fix a corrupted cell':<34}{result['fixes_per_edit']:>10.3f}")
    if "realness_edited" in result:
        print(f"{'realness original/corrupted/edited':<34}{result['realness_original']:>10.3f} / "
              f"{result['realness_corrupted']:.3f} / {result['realness_edited']:.3f}")
    print(f"{'seconds':<34}{result['seconds']:>10}")


if __name__ == "__main__":
    main()
