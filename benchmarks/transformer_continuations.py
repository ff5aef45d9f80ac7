"""Transformer continuations as the same piece going on (issue 22): held-out folk tunes and chorale halves.

Inputs: test-split Essen folk tunes (hash split, never trained on) of the five commonest meters in turn (4/4, 2/4,
3/4, 6/8, 3/8), each at a tempo of its own (the Essen files carry none: tempos cycle through ♩ = 72, 96, 120, 144,
176, 200 by tune), their first --bars bars (or first half, if shorter) as the prompt (one track, keys estimated);
and test-split chorales (r % 10 == 0) at 100 bpm, their first half as the prompt in four tracks (soprano, alto,
tenor, bass). The shipped Transformer adds --seconds through the one generation path (`pipeline.generate`, default
sampling, seeds 1 and 2).

On the added part, against the input: clusters (runs with more note starts in 100 ms than the input's largest chord,
or a note shorter than the input's shortest), onsets on the input's eighth grid, notes in the input's key
(keys.key_of), the commonest gap a note value of the input, voices continued (tracks with new notes, and new notes
within their voice's range +-4 semitones), pitches used and notes a second (over the prompt's), and the shipped
discriminator's realness. Beside it: the piece's real next --seconds ("real") and random notes ("random": the
prompt's notes a second, uniform onsets, pitches uniform over the prompt's range, every voice).

    .venv/bin/python benchmarks/transformer_continuations.py [--tunes 25] [--chorales 12] [--seconds 12]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")

TEMPI = (72, 96, 120, 144, 176, 200)
METERS = 5  # the test split's commonest meters (4/4, 2/4, 3/4, 6/8, 3/8), taken in turn
SEEDS = (1, 2)


def _part(pm, start: float, end: float, tempo: float, tracks: list[int]):
    """The notes of ``tracks`` starting in [start, end), moved to start at 0 (one track per voice)."""
    import pretty_midi

    out = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    for i in tracks:
        inst = pretty_midi.Instrument(0, name=pm.instruments[i].name)
        inst.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start - start, min(n.end, end) - start)
                      for n in pm.instruments[i].notes if start - 1e-6 <= n.start < end - 1e-6]
        out.instruments.append(inst)
    return out


def _random_part(prompt, seconds: float, rng: np.random.Generator):
    """Random notes: each voice at its prompt's rate, uniform onsets, pitches uniform over its prompt's range."""
    import pretty_midi

    out = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    end = max(n.end for inst in prompt.instruments for n in inst.notes)
    for inst in prompt.instruments:
        pitches = [n.pitch for n in inst.notes]
        count = max(1, round(len(pitches) / end * seconds))
        onsets = np.sort(rng.uniform(0, seconds - 0.05, count))
        ends = np.append(onsets[1:], seconds)
        voice = pretty_midi.Instrument(0)
        voice.notes = [pretty_midi.Note(80, int(rng.integers(min(pitches), max(pitches) + 1)), float(s),
                                        float(max(e, s + 0.05))) for s, e in zip(onsets, ends, strict=True)]
        out.instruments.append(voice)
    return out


def _measures(part, prompt, perf, realness_of) -> dict[str, float]:
    from generation.engine.keys import in_key_share
    from generation.engine.models.transformer.sampler import grid_share, largest_chord

    notes = [n for inst in part.instruments for n in inst.notes]
    prompt_notes = [n for inst in prompt.instruments for n in inst.notes]
    onsets = sorted({round(n.start, 4) for n in notes})
    seconds = max((n.end for n in notes), default=0.0)
    prompt_seconds = max(n.end for n in prompt_notes)
    values = {round(n.end - n.start, 2) for n in prompt_notes} | {
        round(g, 2) for g in np.diff(sorted({round(n.start, 4) for n in prompt_notes}))}
    gaps, counts = np.unique(np.round(np.diff(onsets), 2), return_counts=True)
    ranges = [(min(n.pitch for n in inst.notes) - 4, max(n.pitch for n in inst.notes) + 4)
              for inst in prompt.instruments]
    in_range = [lo <= n.pitch <= hi for inst, (lo, hi) in zip(part.instruments, ranges, strict=True)
                for n in inst.notes]
    shift = perf.origin  # the grid's origin, in the part's own time (the part starts at the input's end)
    return {
        "clustered": float(largest_chord([n.start for n in notes]) > perf.chord
                           or min((n.end - n.start for n in notes), default=1.0) < perf.shortest - 1e-3),
        "largest chord / input's": largest_chord([n.start for n in notes]) / perf.chord,
        "on the eighth grid": grid_share(onsets, 30.0 / perf.tempo_bpm, shift),
        "in key": in_key_share([n.pitch for n in notes], perf.key),
        "commonest gap a note value": float(len(gaps) > 0 and min(abs(gaps[np.argmax(counts)] - v)
                                                                 for v in values) <= 0.011),
        "voices continued": float(np.mean([len(inst.notes) > 0 for inst in part.instruments])),
        "notes in voice range": float(np.mean(in_range)) if in_range else float("nan"),
        "pitches used / prompt's": len({n.pitch for n in notes}) / len({n.pitch for n in prompt_notes}),
        "notes a second / prompt's": (len(notes) / seconds if seconds else 0.0) / (len(prompt_notes)
                                                                                 / prompt_seconds),
        "realness": realness_of(part),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=25, help="held-out folk tunes")
    parser.add_argument("--chorales", type=int, default=12, help="test chorales")
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import django

    django.setup()
    import torch

    from evaluation.realness import load_model, realness_of
    from generation.engine.dataset import load_chorales, pieces_split
    from generation.engine.folk import load_folk
    from generation.engine.loading import load_default_model
    from generation.engine.models.transformer.sampler import performance_of
    from generation.engine.pipeline import generate

    torch.set_num_threads(args.threads)
    model = load_default_model("transformer")[0]
    judge = load_model()

    def realness(part):
        return realness_of(part, judge)

    inputs = []  # (kind, name, full piece, prompt end in s, tempo)
    by_meter: dict[tuple[int, int], int] = {}
    candidates: dict[tuple[int, int], list] = {}  # long enough for a real continuation, by meter
    for tune in load_folk():
        bar = tune.time_signature[0] * 4 / tune.time_signature[1]
        if tune.split == "test" and tune.onset[-1] >= args.bars * bar:  # a prompt of at least half --bars
            candidates.setdefault(tune.time_signature, []).append(tune)
    meters = sorted(candidates, key=lambda m: -len(candidates[m]))[:METERS]  # the commonest meters, in turn
    chosen = [tune for group in itertools.zip_longest(*(candidates[m] for m in meters)) for tune in group if tune]
    for tune in chosen[: args.tunes]:
        bar = tune.time_signature[0] * 4 / tune.time_signature[1]
        by_meter[tune.time_signature] = by_meter.get(tune.time_signature, 0) + 1
        tempo = TEMPI[len(inputs) % len(TEMPI)]
        pm = tune.to_midi(tempo=tempo)
        bars = min(args.bars, int(tune.onset[-1] / bar / 2))  # --bars, or the first half of a shorter tune
        inputs.append(("folk", f"{tune.name} {tune.time_signature[0]}/{tune.time_signature[1]} ♩{tempo}", pm,
                       bars * bar * 60.0 / tempo, float(tempo)))
    for piece in pieces_split(load_chorales(), "test")[: args.chorales]:
        pm = piece.to_midi()
        tempo = 100.0
        scale = piece.tempo_bpm / tempo  # played at 100 bpm
        for inst in pm.instruments:
            for n in inst.notes:
                n.start, n.end = n.start * scale, n.end * scale
        end = max(n.end for inst in pm.instruments for n in inst.notes)
        beat = 60.0 / tempo
        inputs.append(("chorale", piece.name, pm, round(end / 2 / beat) * beat, tempo))

    rows: dict[tuple[str, str], list[dict]] = {}
    rng = np.random.default_rng(0)
    seconds_taken = []
    for kind, _name, pm, cut, tempo in inputs:
        tracks = [i for i, inst in enumerate(pm.instruments) if inst.notes]
        prompt = _part(pm, 0.0, cut, tempo, tracks)
        if pm.time_signature_changes:
            prompt.time_signature_changes = list(pm.time_signature_changes)
        perf = performance_of(prompt)
        real_end = max(n.end for inst in pm.instruments for n in inst.notes)
        for seed in SEEDS:
            started = time.perf_counter()
            out = generate("transformer", prompt, {"extension_seconds": args.seconds, "seed": seed},
                           model=model).midi
            seconds_taken.append(time.perf_counter() - started)
            added = _part(out, perf.end, perf.end + args.seconds, tempo, list(range(len(prompt.instruments))))
            rows.setdefault((kind, "generated"), []).append(_measures(added, prompt, perf, realness))
        if real_end >= cut + args.seconds / 2:
            real = _part(pm, cut, cut + args.seconds, tempo, tracks)
            if all(inst.notes for inst in real.instruments):
                rows.setdefault((kind, "real"), []).append(_measures(real, prompt, perf, realness))
        rows.setdefault((kind, "random"), []).append(
            _measures(_random_part(prompt, args.seconds, rng), prompt, perf, realness))

    n_folk = sum(k == "folk" for k, *_ in inputs)
    n_chorale = len(inputs) - n_folk
    meters = ", ".join(f"{a}/{b}: {c}" for (a, b), c in sorted(by_meter.items()))
    print(f"Transformer continuations: {n_folk} held-out folk tunes ({meters}; ♩ {TEMPI[0]}-{TEMPI[-1]}), first "
          f"{args.bars} bars (or half) as the prompt; {n_chorale} test chorale halves in four tracks at 100 bpm; "
          f"{args.seconds:g} s added, seeds {SEEDS}; {platform.machine()}, {os.cpu_count()} cores, "
          f"{args.threads} torch thread(s); median {np.median(seconds_taken):.2f} s a run")
    columns = [(kind, source) for kind in ("folk", "chorale") for source in ("generated", "real", "random")]
    print(f"{'measure (mean over runs)':<28}" + "".join(f"{k[:5] + ' ' + s[:4]:>12}" for k, s in columns))
    for measure in rows[("folk", "generated")][0]:
        cells = []
        for column in columns:
            values = [r[measure] for r in rows.get(column, [])]
            cells.append(f"{np.nanmean(values):>12.3f}" if values else f"{'-':>12}")
        print(f"{measure:<28}" + "".join(cells))
    print("runs: " + ", ".join(f"{k} {s} {len(rows.get((k, s), []))}" for k, s in columns))


if __name__ == "__main__":
    main()
