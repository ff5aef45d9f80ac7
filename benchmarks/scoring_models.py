"""How the judge scores the platform's own models (issue 23, item 5; docs/design.md sections 5 and 8).

Every registered generator with a shipped checkpoint (GAN, AR-CNN, Transformer) is run the way a user runs it,
through the one generation path (``generation.engine.negatives.generator_family``: the melody alone for a model that
adds parts, the voices in one piano track for one that edits or continues), on held-out chorales (the test split: no
model trained on them), ``--pieces`` of them cut to 30 s, ``--seeds`` seeds each. Each output is scored as an entry
(``score_pieces``, default Bach challenge): realness and the automatic score before the copy penalty (the held-out
chorale the output was made from is in the originality index, and the AR-CNN keeps most of its notes). Beside them:
the real pieces themselves and random in-key notes in four voices (the baseline).

The realness model never saw any model's output as a negative (docs/design.md §5), so these rows measure the models'
music, not their fingerprints. Rerun after retraining any model: the table reads the checkpoints in the tree.

    .venv/bin/python benchmarks/scoring_models.py [--pieces 12] [--seeds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")
_SCRATCH = tempfile.mkdtemp(prefix="chartbusters-models-")
os.environ["DATABASE_URL"] = f"sqlite:///{_SCRATCH}/bench.sqlite3"  # never the development database
os.environ["MEDIA_ROOT"] = f"{_SCRATCH}/media"

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from evaluation.automatic import ScoringError, score_pieces  # noqa: E402
from generation.engine import loading, registry  # noqa: E402
from generation.engine.dataset import Piece, load_chorales, pieces_split  # noqa: E402
from generation.engine.errors import ArchitectureUnavailableError  # noqa: E402
from generation.engine.negatives import generator_family, weights_sha256  # noqa: E402
from generation.engine.trivial_music import MAJOR, as_midi, tracks_from_notes  # noqa: E402

SECONDS = 30
STEPS = SECONDS * 8


def random_in_key(n_steps: int, rng: np.random.Generator):
    """Four voices of random notes of one major scale in the choir's ranges, quarter and eighth notes: the baseline."""
    tonic = int(rng.integers(0, 12))
    scale = np.array([p for p in range(36, 82) if (p - tonic) % 12 in MAJOR])
    voices = []
    for low, high in ((60, 81), (53, 74), (48, 69), (36, 62)):
        choices = scale[(scale >= low) & (scale <= high)]
        durations = rng.choice([2, 4, 4, 8], size=n_steps)
        starts = np.concatenate([[0], np.cumsum(durations)[:-1]])
        keep = starts < n_steps
        voices.append((rng.choice(choices, size=int(keep.sum())), starts[keep], starts[keep] + durations[keep]))
    return tracks_from_notes(voices, n_steps)


def score_row(pms: list) -> tuple[np.ndarray, np.ndarray]:
    real, auto = [], []
    for pm in pms:
        try:
            result = score_pieces([pm])
            real.append(result.realness)
            auto.append(result.automatic_unpenalized)
        except ScoringError:
            real.append(0.0)
            auto.append(0.0)
    return np.array(real), np.array(auto)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pieces", type=int, default=12, help="held-out chorales used as inputs")
    parser.add_argument("--seeds", type=int, default=2, help="outputs per input and model")
    args = parser.parse_args()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    test = [p for p in pieces_split(load_chorales(), "test") if p.rolls.shape[1] >= 64][: args.pieces]
    inputs = [Piece(p.name, p.split, p.rolls[:, :STEPS], p.tempo_bpm, p.time_signature, p.steps_per_bar,
                    None if p.onsets is None else p.onsets[:, :STEPS]) for p in test]  # fmt: skip
    rows: dict[str, list] = {"real held-out chorales (the inputs, 30 s)": [p.to_midi() for p in inputs]}
    rng = np.random.default_rng(23)
    rows["random in-key notes, four voices (baseline)"] = [as_midi(*random_in_key(STEPS, rng)) for _ in inputs]
    made_by = {}
    for name in registry.generator_names():
        try:
            model, _meta = loading.load_default_model(name)
        except ArchitectureUnavailableError:
            continue
        make = generator_family(name, model)
        outputs = []
        for piece in inputs:
            for seed in range(args.seeds):
                tracks, onsets = make(piece, np.random.default_rng(1000 * seed + len(outputs)))
                outputs.append(as_midi(tracks, onsets))
        rows[name] = outputs
        made_by[name] = f"model.safetensors sha256 {(weights_sha256(name) or '?')[:12]}"

    real_realness, _ = score_row(rows[next(iter(rows))])
    p10 = float(np.percentile(real_realness, 10))
    print(f"{len(inputs)} held-out chorales as inputs, {args.seeds} seed(s) each; realness of the real inputs: 10th "
          f"percentile {p10:.2f}")
    print("| pieces | n | realness mean | realness min | share >= real p10 | automatic mean | automatic min |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, pms in rows.items():
        realness, auto = score_row(pms)
        label = f"{label} ({made_by[label]})" if label in made_by else label
        print(f"| {label} | {len(pms)} | {realness.mean():.2f} | {realness.min():.2f} | "
              f"{(realness >= p10).mean():.0%} | {auto.mean():.1f} | {auto.min():.1f} |")
    print(f"\n{time.perf_counter() - started:.0f} s in all; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
