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


HELD_OUT_SEEDS = 7000  # benchmarks/scoring_gaming.py climbs with seeds from here; no round may use them
CLIMB_SECONDS = 30  # each climbed piece lasts 30 s (the sounded grid's 8 steps a second)


def climb_round(objective: Objective, *, first_seed: int, climbs: int, steps: int, keep_every: int,
                out: Path = SCORER_CLIMBS_PATH, replace: bool = False,
                on_step: Callable[[], None] | None = None) -> dict:
    """One adversarial round: ``climbs`` hill-climbs (seeds ``first_seed``...) of ``steps`` mutations against
    ``objective``, the piece after every ``keep_every`` steps added to ``out`` (``replace``: instead of the earlier
    rounds' pieces). Refuses (ValueError, naming the fix) counts below 1, the benchmark's held-out seeds and seeds an
    earlier round in ``out`` used. Returns the round's number, the pieces added and in all, and each climb's final
    score."""
    if climbs < 1 or steps < 1 or keep_every < 1:
        raise ValueError("The number of climbs, their steps and --keep-every must be at least 1.")
    seeds = list(range(first_seed, first_seed + climbs))
    if seeds[-1] >= HELD_OUT_SEEDS:
        raise ValueError(f"Seeds from {HELD_OUT_SEEDS} are the benchmark's held-out climbs; use lower ones.")
    earlier: list = []
    info: dict[str, list] = {"seeds": [], "final_scores": [], "rounds": []}
    if out.exists() and not replace:
        earlier = load_pieces(out)
        with np.load(out, allow_pickle=False) as z:
            info = {key: z[key].tolist() for key in info if key in z.files}
        if len(info.get("seeds", [])) != len(info.get("final_scores", [])):
            raise ValueError(f"{out} was written by an older version; start again with --replace.")
        used = sorted(set(info["seeds"]) & set(seeds))
        if used:
            raise ValueError(f"Seeds {used} were climbed in an earlier round; start at --seed "
                             f"{max(info['seeds']) + 1}.")
    round_number = max(info["rounds"] or [0]) + 1
    found, finals = [], []
    for seed in seeds:
        def keep(climber: Climber) -> None:
            if on_step is not None:
                on_step()
            if climber.steps % keep_every == 0:
                found.append(climber.piece())

        climber = climb(objective, CLIMB_SECONDS * 8, steps, np.random.default_rng(seed), on_step=keep)
        finals.append(round(climber.score, 1))
    save_pieces(earlier + found, out, seeds=info["seeds"] + seeds, final_scores=info["final_scores"] + finals,
                rounds=info["rounds"] + [round_number] * climbs)
    return {"out": str(out), "round": round_number, "pieces": len(found), "pieces_in_all": len(earlier) + len(found),
            "final_scores": finals}
