"""Transformer quality (docs/design.md §8): test NLL per token, 310-token vocabulary, against the reference's 0.968.

Test split (r % 10 == 0) of the music21 chorales, tokenized as in training (generation/engine/models/transformer/
train.py): each chorale's four voices merged into one Performance event stream at 100 bpm, velocity 80, from its
<S>; every token after <S> scored once, with windows of `context` tokens advancing by `--stride` (128: each token
sees at least 128 tokens of context, or the piece's start). Also reported: the valid split, and the test chorales'
voices one at a time (the sampler's usual prompt is one track).

    .venv/bin/python benchmarks/transformer_quality.py [--checkpoint DIR] [--stride 128] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generation.engine.dataset import load_chorales, pieces_split
from generation.engine.models.transformer.train import (
    CHORALE_TEMPO_BPM,
    REFERENCE_TEST_NLL,
    eval_windows,
    nll_per_token,
    piece_tokens,
    token_pieces,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="checkpoint folder (default: the shipped one)")
    parser.add_argument("--stride", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from generation.engine.loading import default_checkpoint_dir, load_checkpoint

    model, meta = load_checkpoint(args.checkpoint or default_checkpoint_dir("transformer"), architecture="transformer")
    context = model.config.context
    chorales = load_chorales()
    rows = []
    for split in ("valid", "test"):
        pieces = token_pieces(pieces_split(chorales, split), tempo_bpm=CHORALE_TEMPO_BPM)
        merged = eval_windows([piece_tokens(p) for p in pieces], context, args.stride)
        rows.append((f"{split}, 4 voices merged", int((merged[1] != -100).sum()), nll_per_token(model, merged, "cpu")))
        if split == "test":
            voices = eval_windows([piece_tokens(p, voice=v) for p in pieces for v in range(len(p.voices))],
                                  context, args.stride)
            rows.append(("test, one voice at a time", int((voices[1] != -100).sum()),
                         nll_per_token(model, voices, "cpu")))
    steps = meta.get("metrics", {}).get("steps")
    print(f"Transformer quality: NLL per token (nats), context {context}, stride {args.stride}; checkpoint trained "
          f"{steps} steps")
    print(f"{'split':<30}{'tokens':>9}{'NLL':>8}")
    for name, count, nll in rows:
        print(f"{name:<30}{count:>9,}{nll:>8.3f}")
    test = rows[1][2]
    verdict = "met" if test < REFERENCE_TEST_NLL else f"NOT met ({test - REFERENCE_TEST_NLL:+.3f})"
    print(f"target: test NLL < {REFERENCE_TEST_NLL} (DeepComposer Transformer-XL, JSB chorales): {verdict}")


if __name__ == "__main__":
    main()
