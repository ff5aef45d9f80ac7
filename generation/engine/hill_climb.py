"""The adversarial entrant of issue 23: hill-climb a piece against a scorer, one note at a time (NumPy only).

Start from a parallel-harmony scale (trivial_music.parallel_scale), change one note (its pitch by up to a fourth, or
split it in two, or merge it with the next), and keep the change when the score does not drop. The objective is any
``fn(tracks, onsets) -> float``: the realness model while it trains (train.ClimbPool: what the climb finds becomes a
negative, and the climb goes on against the updated model), or the whole automatic score in
``benchmarks/scoring_gaming.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generation.engine.representation import roll_to_notes
from generation.engine.trivial_music import parallel_scale, tracks_from_notes

Objective = Callable[[np.ndarray, np.ndarray], float]
Voices = list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # per voice: pitches, starts, ends (steps)


def start_piece(n_steps: int, rng: np.random.Generator) -> Voices:
    """The climb's starting point: a four-voice parallel-harmony scale."""
    tracks, onsets = parallel_scale(n_steps, rng)
    return [roll_to_notes(tracks[i], onsets[i]) for i in range(tracks.shape[0])]


def mutate(voices: Voices, rng: np.random.Generator) -> Voices:
    """One single-note change (a new list; the input is left as it is)."""
    out = [(p.copy(), s.copy(), e.copy()) for p, s, e in voices]
    candidates = [v for v, (p, _s, _e) in enumerate(out) if len(p)]
    v = candidates[int(rng.integers(len(candidates)))]
    p, s, e = out[v]
    i = int(rng.integers(len(p)))
    kind = rng.random()
    delta = int(rng.choice([-1, 1])) * int(rng.integers(1, 6))
    if kind < 0.7 or (kind < 0.85 and e[i] - s[i] < 2) or (kind >= 0.85 and (i + 1 >= len(p) or s[i + 1] != e[i])):
        p[i] = np.clip(p[i] + delta, 21, 108)
    elif kind < 0.85:  # split: the second part gets a new pitch
        cut = int(rng.integers(s[i] + 1, e[i]))
        p = np.insert(p, i + 1, np.clip(p[i] + delta, 21, 108))
        s = np.insert(s, i + 1, cut)
        e = np.insert(e, i + 1, e[i])
        e[i] = cut
    else:  # merge with the next note of the voice
        e[i] = e[i + 1]
        p, s, e = np.delete(p, i + 1), np.delete(s, i + 1), np.delete(e, i + 1)
    out[v] = (p, s, e)
    return out


@dataclass
class Climber:
    voices: Voices
    n_steps: int
    score: float = -np.inf
    steps: int = 0  # mutations tried

    def piece(self, voices: Voices | None = None) -> tuple[np.ndarray, np.ndarray]:
        return tracks_from_notes(voices if voices is not None else self.voices, self.n_steps)

    def step(self, objective: Objective, rng: np.random.Generator) -> bool:
        """Try one mutation; keep it when the objective does not drop. True when kept."""
        if self.score == -np.inf:
            self.score = float(objective(*self.piece()))
        proposal = mutate(self.voices, rng)
        value = float(objective(*self.piece(proposal)))
        self.steps += 1
        if value >= self.score:
            self.voices, self.score = proposal, value
            return True
        return False


def climb(
    objective: Objective,
    n_steps: int,
    steps: int,
    rng: np.random.Generator,
    on_step: Callable[[Climber], None] | None = None,
) -> Climber:
    """``steps`` mutations from a parallel-harmony scale of ``n_steps`` against ``objective``."""
    climber = Climber(start_piece(n_steps, rng), n_steps)
    for _ in range(steps):
        climber.step(objective, rng)
        if on_step is not None:
            on_step(climber)
    return climber


# ------------------------------------------------------------------------------ climbs against the whole scorer
# The second adversarial round (issue 23 item 3): pieces that hill-climbs against the whole automatic score (style
# and realness, ``manage.py climb_scorer``) found, kept as a negative family of the realness model's next training.
# The seeds used here are training seeds; benchmarks/scoring_gaming.py climbs with others (7000, ...).
SCORER_CLIMBS_PATH = Path(__file__).resolve().parent / "models" / "discriminator" / "scorer_climbs.npz"


def save_pieces(pieces: list[tuple[np.ndarray, np.ndarray]], path: Path, **info) -> None:
    """Pieces of one shape (tracks, onsets: bool (V, T, 128)) as packed bits in a compressed .npz, with ``info``."""
    tracks = np.stack([t for t, _ in pieces])
    onsets = np.stack([o for _, o in pieces])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, shape=np.array(tracks.shape), tracks=np.packbits(tracks), onsets=np.packbits(onsets),
                        **{k: np.array(v) for k, v in info.items()})


def load_pieces(path: Path = SCORER_CLIMBS_PATH) -> list[tuple[np.ndarray, np.ndarray]]:
    """What ``save_pieces`` wrote (an empty list when there is no file)."""
    if not path.exists():
        return []
    with np.load(path, allow_pickle=False) as z:
        shape = tuple(int(x) for x in z["shape"])
        size = int(np.prod(shape))
        tracks = np.unpackbits(z["tracks"])[:size].reshape(shape).astype(bool)
        onsets = np.unpackbits(z["onsets"])[:size].reshape(shape).astype(bool)
    return [(tracks[i], onsets[i]) for i in range(shape[0])]
