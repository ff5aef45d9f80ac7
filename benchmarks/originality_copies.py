"""Originality (docs/design.md section 5): precision and recall of the copy flag on a labelled set, per kind of entry.

Copies are made from the held-out (test split, r % 10 == 0) chorales, which are in the originality index like every
chorale: verbatim, transposed (-5..+6 semitones), with every note value doubled (at the same tempo marking, and at a
doubled one), re-voiced (the four voices on other tracks, moved by octaves; or all on one piano track, transposed),
one voice copied into an otherwise original piece (three random-walk tracks); only 4 bars of the soprano in such a
piece; humanized timing. Same-sound variants (Judge III): a 64/4 time signature at tick 0 then 4/4 at tick 1; a 15-bpm
tempo marking with the audio kept (written to MIDI and read back); chords alternated between two tracks; every onset
(all notes struck together) moved by up to +-60 ms; every other onset delayed by 60 ms; swung eighths (the off-beat
eighth at 2/3 of the beat); a patchwork of 1.5-bar pieces of four other held-out chorales (each under the 2-bar
threshold); the retrograde; the inversion. Originals: Essen folk tunes of
the test split (left out of the commonplace table), 30-s excerpts of other composers' music from music21's corpus,
and random-walk pieces. Each entry is checked as a challenge without reference set checks it (the chorale index,
the default 2-bar threshold).

    .venv/bin/python benchmarks/originality_copies.py [--folk 1000] [--walks 40] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pretty_midi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.originality import MIN_NOTES, originality_check, training_index
from generation.engine.dataset import load_chorales, pieces_split
from generation.engine.folk import load_folk
from tests.evaluation.music import (
    alternated,
    every_other_late,
    inversion,
    jittered,
    one_track,
    patchwork,
    random_walk_piece,
    retrograde,
    swung,
    tempo_marking_changed,
    time_signature_changed,
    variant,
    with_tracks,
)

COMPOSERS = ("mozart/k80/movement1", "mozart/k155/movement1", "beethoven/opus18no1/movement1",
             "haydn/opus1no1/movement1", "haydn/opus74no1/movement1", "joplin/maple_leaf_rag")
EXCERPT_S = 30.0
SECONDS_PER_QUARTER = 0.5  # the composers' scores are rendered at 120 bpm
HUMANIZE_S = 0.01
JITTER_S = 0.06  # the attack: onsets moved by up to 60 ms


def copies(pm: pretty_midi.PrettyMIDI, rng: np.random.Generator, seed: int,
           others: list[pretty_midi.PrettyMIDI]) -> dict[str, pretty_midi.PrettyMIDI]:
    n = len(pm.instruments)
    shift = int(rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6]))
    walk = random_walk_piece(seed, n_notes=int(pm.get_end_time() * 2), n_tracks=3)
    return {
        "verbatim": pm,
        "transposed": variant(pm, shift=shift),
        "note values x2": variant(pm, note_values=2.0),
        "note values x2, tempo x2": variant(pm, note_values=2.0, tempo=2.0),
        "re-voiced": variant(pm, order=list(rng.permutation(n)), octaves=list(rng.integers(-1, 2, size=n))),
        "four voices on one piano track": one_track(variant(pm, shift=shift)),
        "one voice in an original": with_tracks(variant(pm, order=[int(rng.integers(n))]), *walk.instruments),
        "4 bars of the soprano in an original": with_tracks(excerpt(variant(pm, order=[0]), 4.0), *walk.instruments),
        f"humanized (onsets +-{HUMANIZE_S * 1000:.0f} ms s.d.)": humanized(pm, np.random.default_rng(seed)),
        "time signature 64/4, then 4/4 at tick 1": time_signature_changed(pm),
        "tempo marking 15 bpm, same audio": tempo_marking_changed(pm, 15.0),
        "chords alternated between 2 tracks": alternated(pm),
        "onsets jittered up to +-60 ms": jittered(pm, np.random.default_rng(seed), JITTER_S),
        "every other onset 60 ms late": every_other_late(pm, JITTER_S),
        "swung eighths (2/3)": swung(pm),
        "1.5-bar patchwork of 4 chorales": patchwork([pm, *others], 1.5),
        "retrograde": retrograde(pm),
        "inversion": inversion(pm),
    }


def humanized(pm: pretty_midi.PrettyMIDI, rng: np.random.Generator) -> pretty_midi.PrettyMIDI:
    """Every note moved by a random offset (normal, HUMANIZE_S standard deviation), as a performance would."""
    out = variant(pm)
    for inst in out.instruments:
        for note in inst.notes:
            move = float(rng.normal(0.0, HUMANIZE_S))
            note.start, note.end = max(0.0, note.start + move), note.end + move
    return out


def excerpt(pm: pretty_midi.PrettyMIDI, bars: float) -> pretty_midi.PrettyMIDI:
    """The notes starting in ``bars`` bars from the second bar on, moved to the start (the tracks' first tempo)."""
    _, tempi = pm.get_tempo_changes()
    ts = pm.time_signature_changes[0]
    bar_s = ts.numerator * 4 / ts.denominator * 60.0 / float(tempi[0])
    for inst in pm.instruments:
        inst.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start - bar_s, n.end - bar_s) for n in inst.notes
                      if bar_s <= n.start < (1 + bars) * bar_s]
    return pm


def composer_excerpts(name: str) -> list[pretty_midi.PrettyMIDI]:
    """The score's parts as tracks (chords as several notes, ties joined), cut into EXCERPT_S-second pieces."""
    from music21 import corpus

    score = corpus.parse(name).stripTies()
    ts = score.flatten().getTimeSignatures()
    num, den = (ts[0].numerator, ts[0].denominator) if ts else (4, 4)
    parts = [[(p.midi, float(n.offset) * SECONDS_PER_QUARTER, float(n.offset + n.quarterLength) * SECONDS_PER_QUARTER)
              for n in part.flatten().notes if n.quarterLength > 0 for p in n.pitches]
             for part in score.parts]
    end = max(e for notes in parts for _, _, e in notes)
    out = []
    for start in np.arange(0.0, end - EXCERPT_S / 2, EXCERPT_S):
        pm = pretty_midi.PrettyMIDI(initial_tempo=60.0 / SECONDS_PER_QUARTER)
        pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
        for i, notes in enumerate(parts):
            inst = pretty_midi.Instrument(0, name=f"part {i + 1}")
            inst.notes = [pretty_midi.Note(80, p, s - start, e - start) for p, s, e in notes
                          if start <= s < start + EXCERPT_S]
            pm.instruments.append(inst)
        out.append(pm)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folk", type=int, default=1000, help="at most this many held-out folk tunes")
    parser.add_argument("--walks", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    training_index()
    labelled: list[tuple[str, bool, str, pretty_midi.PrettyMIDI]] = []  # (kind, is a copy, true source, piece)
    held_out = pieces_split(load_chorales(), "test")
    midis = [c.to_midi() for c in held_out]
    for i, chorale in enumerate(held_out):
        others = [midis[(i + k) % len(midis)] for k in (1, 2, 3)]  # the patchwork's other sources
        for kind, pm in copies(midis[i], rng, 1000 + i, others).items():
            labelled.append((kind, True, chorale.name, pm))
    folk = [t for t in load_folk() if t.split == "test"][: args.folk]
    labelled += [("folk tune (Essen, held out)", False, "", t.to_midi()) for t in folk]
    for name in COMPOSERS:
        labelled += [(f"{name.split('/')[0]} (30-s excerpts)", False, "", pm) for pm in composer_excerpts(name)]
    labelled += [("random walk", False, "", random_walk_piece(5000 + s, n_notes=80, n_tracks=3))
                 for s in range(args.walks)]

    rows: dict[str, list] = {}
    for kind, is_copy, source, pm in labelled:
        t0 = time.perf_counter()
        result = originality_check([pm])
        ms = (time.perf_counter() - t0) * 1000
        longest = result["longest"] or {}
        rows.setdefault(kind, []).append((is_copy, result["flagged"], longest.get("source") == source,
                                          result["copied_share"], longest.get("bars", 0.0), ms))

    print(f"threshold {result['threshold_bars']} bars and {MIN_NOTES} notes; index {len(training_index())} lines; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'kind':<38}{'n':>5}{'flagged':>9}{'rate':>7}{'source':>8}{'share':>7}{'bars':>7}{'ms':>6}")
    tp = fp = fn = tn = 0
    for kind, r in rows.items():
        is_copy = r[0][0]
        flagged = sum(x[1] for x in r)
        found = f"{sum(x[1] and x[2] for x in r):>8}" if is_copy else f"{'':>8}"
        print(f"{kind:<38}{len(r):>5}{flagged:>9}{flagged / len(r):>7.2f}{found}"
              f"{statistics.mean(x[3] for x in r):>7.2f}{statistics.median(x[4] for x in r):>7.1f}"
              f"{statistics.median(x[5] for x in r):>6.1f}")
        tp, fn = tp + (flagged if is_copy else 0), fn + (len(r) - flagged if is_copy else 0)
        fp, tn = fp + (0 if is_copy else flagged), tn + (0 if is_copy else len(r) - flagged)
    print("(source: flagged with the true chorale as the longest passage's source; share: mean copied share of the "
          "notes; bars: median longest passage)")
    print(f"copies {tp + fn}, originals {fp + tn}: precision {tp / max(tp + fp, 1):.3f}, recall {tp / (tp + fn):.3f}, "
          f"false-positive rate {fp / (fp + tn):.3f}; {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
