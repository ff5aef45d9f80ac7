"""Audio rendering speed (docs/design.md section 8): a 30-s four-track piece rendered from its notes by the synthesizer
evaluation.audio picks (FluidSynth when installed, else tinysoundfont), normalized and encoded by soundfile,
as a multiple of real time (music seconds / wall seconds), median of --runs runs; target >= 20x.

    .venv/bin/python benchmarks/audio_speed.py [--runs 5] [--k80]

--k80 also renders music21's export of Mozart K80 (4 min 45 s, 4 string parts; the file that once made FluidSynth's
command line write 3.0 GB) once, as MP3: the render tests/evaluation/test_audio.py checks for length and size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.audio import render_audio, synthesizer
from evaluation.pianoroll import render_pianoroll_png
from generation.engine.dataset import load_chorales, pieces_split
from generation.engine.midi_io import write_midi

TARGET_X = 20.0
SECONDS = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--k80", action="store_true", help="also render Mozart K80 (music21's export) once, as MP3")
    args = parser.parse_args()
    test = pieces_split(load_chorales(), "test")
    # the first test chorale of at least 30 s (240 steps at 120 bpm): flute, oboe, clarinet, bassoon
    pm = next(p for p in test if p.rolls.shape[1] >= 240).to_midi(programs=(73, 68, 71, 70))
    for inst in pm.instruments:
        inst.notes = [n for n in inst.notes if n.start < SECONDS]
        for n in inst.notes:
            n.end = min(n.end, SECONDS)
    music = pm.get_end_time()
    synth = synthesizer()
    synth.close()
    print(f"synthesizer: {synth.name}, soundfont: {synth.soundfont.name}; piece {music:.1f} s, 4 tracks; "
          f"median of {args.runs} runs; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'output':<12}{'seconds':>10}{'x real time':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        midi = write_midi(pm, Path(tmp) / "piece.mid")
        jobs = {f"audio {s}": (lambda s=s: render_audio(midi, Path(tmp) / f"out.{s}")) for s in ("wav", "ogg", "mp3")}
        jobs["pianoroll png"] = lambda: render_pianoroll_png(midi, Path(tmp) / "roll.png")
        for name, job in jobs.items():
            job()  # warm-up (page cache, imports)
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                job()
                times.append(time.perf_counter() - start)
            seconds = statistics.median(times)
            verdict = "" if name.startswith("pianoroll") else ("  met" if music / seconds >= TARGET_X else "  NOT met")
            print(f"{name:<12}{seconds:>10.3f}{music / seconds:>13.1f}x{verdict}")
        if args.k80:
            render_k80(Path(tmp))


def render_k80(folder: Path) -> None:
    import music21
    import pretty_midi

    midi = folder / "k80.mid"
    music21.corpus.parse("mozart/k80/movement1").write("midi", str(midi))
    music = pretty_midi.PrettyMIDI(str(midi)).get_end_time()
    start = time.perf_counter()
    out = render_audio(midi, folder / "k80.mp3")
    seconds = time.perf_counter() - start
    print(f"{'K80 mp3':<12}{seconds:>10.3f}{music / seconds:>13.1f}x  (once; {music:.0f} s of music, "
          f"{out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
