"""Writes examples/folk/ (Essen folk tunes from music21: 40 train-split tunes as a reference set, 5 held-out tunes to
enter) and examples/trivial/ (trivial entries that must not outrank them). Reproducible:

    .venv/bin/python scripts/make_folk_examples.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generation.engine.folk import load_folk  # noqa: E402
from generation.engine.trivial_music import SCRATCH_FAMILIES, as_midi  # noqa: E402


def main() -> None:
    tunes = load_folk()
    out = ROOT / "examples" / "folk"
    for split, folder, n in (("train", "reference", 40), ("test", "held-out", 5)):
        for tune in [t for t in tunes if t.split == split][:n]:
            tune.to_midi().write(str(out / folder / f"{tune.name.split('/')[-1].replace('#', '-')}.mid"))
    rng = np.random.default_rng(1)
    for name in ("held_chord", "scale", "chord_loop", "cadence_loop", "arpeggio"):
        pm = as_midi(*SCRATCH_FAMILIES[name](240, rng))
        pm.write(str(ROOT / "examples" / "trivial" / f"{name}.mid"))


if __name__ == "__main__":
    main()
