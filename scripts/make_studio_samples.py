"""Write the studio's sample melodies, generation/samples/*.mid: short public-domain tunes (none from the Bach
chorales, so no test-split piece is ever an input), one track, piano, written note by note below.

    .venv/bin/python scripts/make_studio_samples.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pretty_midi

OUT = Path(__file__).resolve().parents[1] / "generation" / "samples"
# name -> (tempo bpm, (beats, unit), [(note name or None for a rest, length in quarter notes), ...])
TUNES = {
    "ode-to-joy": (110, (4, 4), [
        ("E4", 1), ("E4", 1), ("F4", 1), ("G4", 1), ("G4", 1), ("F4", 1), ("E4", 1), ("D4", 1),
        ("C4", 1), ("C4", 1), ("D4", 1), ("E4", 1), ("E4", 1.5), ("D4", .5), ("D4", 2),
        ("E4", 1), ("E4", 1), ("F4", 1), ("G4", 1), ("G4", 1), ("F4", 1), ("E4", 1), ("D4", 1),
        ("C4", 1), ("C4", 1), ("D4", 1), ("E4", 1), ("D4", 1.5), ("C4", .5), ("C4", 2),
    ]),
    "twinkle": (100, (4, 4), [
        ("C4", 1), ("C4", 1), ("G4", 1), ("G4", 1), ("A4", 1), ("A4", 1), ("G4", 2),
        ("F4", 1), ("F4", 1), ("E4", 1), ("E4", 1), ("D4", 1), ("D4", 1), ("C4", 2),
        ("G4", 1), ("G4", 1), ("F4", 1), ("F4", 1), ("E4", 1), ("E4", 1), ("D4", 2),
        ("G4", 1), ("G4", 1), ("F4", 1), ("F4", 1), ("E4", 1), ("E4", 1), ("D4", 2),
    ]),
    "frere-jacques": (120, (4, 4), [
        ("C4", 1), ("D4", 1), ("E4", 1), ("C4", 1), ("C4", 1), ("D4", 1), ("E4", 1), ("C4", 1),
        ("E4", 1), ("F4", 1), ("G4", 2), ("E4", 1), ("F4", 1), ("G4", 2),
        ("G4", .5), ("A4", .5), ("G4", .5), ("F4", .5), ("E4", 1), ("C4", 1),
        ("G4", .5), ("A4", .5), ("G4", .5), ("F4", .5), ("E4", 1), ("C4", 1),
        ("C4", 1), ("G3", 1), ("C4", 2), ("C4", 1), ("G3", 1), ("C4", 2),
    ]),
    "amazing-grace": (80, (3, 4), [
        (None, 2), ("D4", 1),
        ("G4", 2), ("B4", .5), ("G4", .5), ("B4", 2), ("A4", 1), ("G4", 2), ("E4", 1), ("D4", 2), ("D4", 1),
        ("G4", 2), ("B4", .5), ("G4", .5), ("B4", 2), ("A4", 1), ("D5", 3), ("D5", 2), ("B4", 1),
        ("D5", 1.5), ("B4", .5), ("G4", 1), ("B4", 2), ("A4", 1), ("G4", 2), ("E4", 1), ("D4", 2), ("D4", 1),
        ("G4", 2), ("B4", .5), ("G4", .5), ("B4", 2), ("A4", 1), ("G4", 3),
    ]),
}


def tune_midi(tempo: float, meter: tuple[int, int], notes: list) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.time_signature_changes = [pretty_midi.TimeSignature(meter[0], meter[1], 0.0)]
    piano = pretty_midi.Instrument(program=0, name="melody")
    beat, t = 60.0 / tempo, 0.0
    for name, quarters in notes:
        if name is not None:
            pitch = pretty_midi.note_name_to_number(name)
            piano.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=t, end=t + quarters * beat))
        t += quarters * beat
    pm.instruments.append(piano)
    return pm


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (tempo, meter, notes) in TUNES.items():
        path = OUT / f"{name}.mid"
        tune_midi(tempo, meter, notes).write(str(path))
        sys.stdout.write(f"{path.relative_to(OUT.parents[1])}\n")


if __name__ == "__main__":
    main()
