"""Tunes written note by note for the Transformer's tests and benchmarks (nobody trained on them): major, minor,
dorian; 4/4, 3/4, 6/8; ♩ 72-200; and a four-voice hymn (one voice a track). Each melody is (pitch, quarter notes)
in order, None a rest."""

from __future__ import annotations

import pretty_midi

# name: (tempo ♩, time signature, key signature or None, melody)
TUNES: dict[str, tuple[float, tuple[int, int], str | None, list[tuple[int | None, float]]]] = {
    "g_major_4_4_120": (
        120,
        (4, 4),
        "G",
        [
            (67, 1),
            (71, 1),
            (74, 1),
            (71, 1),
            (72, 0.5),
            (71, 0.5),
            (69, 1),
            (67, 2),
            (69, 1),
            (71, 1),
            (72, 1),
            (76, 1),
            (74, 3),
            (71, 1),
            (76, 1),
            (74, 0.5),
            (72, 0.5),
            (71, 1),
            (69, 1),
            (67, 1),
            (66, 1),
            (67, 1),
            (69, 1),
            (71, 0.5),
            (72, 0.5),
            (74, 1),
            (69, 1),
            (66, 1),
            (67, 4),
        ],
    ),
    "a_minor_3_4_72": (
        72,
        (3, 4),
        "Am",
        [
            (69, 1),
            (72, 1),
            (76, 1),
            (74, 2),
            (72, 1),
            (71, 1),
            (68, 1),
            (71, 1),
            (69, 3),
            (76, 1),
            (77, 0.5),
            (76, 0.5),
            (74, 1),
            (72, 1),
            (71, 1),
            (69, 1),
            (71, 1.5),
            (72, 0.5),
            (71, 1),
            (69, 3),
        ],
    ),
    "d_dorian_6_8_180": (
        180,
        (6, 8),
        None,
        [
            (62, 1),
            (65, 0.5),
            (69, 1),
            (65, 0.5),
            (67, 1),
            (71, 0.5),
            (69, 1),
            (67, 0.5),
            (65, 0.5),
            (64, 0.5),
            (62, 0.5),
            (64, 1),
            (60, 0.5),
            (62, 1.5),
            (69, 1.5),
            (72, 1),
            (71, 0.5),
            (69, 1),
            (67, 0.5),
            (69, 0.5),
            (71, 0.5),
            (72, 0.5),
            (74, 1.5),
            (72, 1),
            (69, 0.5),
            (67, 1),
            (64, 0.5),
            (62, 3),
        ],
    ),
    "f_major_3_4_160": (
        160,
        (3, 4),
        "F",
        [
            (72, 1),
            (69, 1),
            (65, 1),
            (70, 0.5),
            (69, 0.5),
            (67, 1),
            (72, 1),
            (69, 1),
            (65, 1),
            (69, 1),
            (67, 3),
            (72, 1),
            (74, 1),
            (72, 1),
            (70, 0.5),
            (69, 0.5),
            (67, 1),
            (70, 1),
            (69, 1),
            (67, 1),
            (64, 1),
            (65, 3),
        ],
    ),
    "e_minor_6_8_200": (
        200,
        (6, 8),
        "Em",
        [
            (64, 0.5),
            (67, 0.5),
            (71, 0.5),
            (76, 1),
            (71, 0.5),
            (72, 1),
            (69, 0.5),
            (66, 1),
            (63, 0.5),
            (64, 0.5),
            (66, 0.5),
            (67, 0.5),
            (69, 1),
            (67, 0.5),
            (66, 1.5),
            (59, 1.5),
            (64, 0.5),
            (67, 0.5),
            (71, 0.5),
            (76, 1),
            (74, 0.5),
            (72, 0.5),
            (71, 0.5),
            (69, 0.5),
            (67, 1),
            (66, 0.5),
            (64, 1),
            (67, 0.5),
            (66, 1),
            (63, 0.5),
            (64, 3),
        ],
    ),
}

# A four-voice hymn in C major, ♩ = 90, 4/4, a chord a beat (soprano, alto, tenor, bass): I IV V I vi ii V I ...
HYMN = [
    (72, 67, 64, 48),
    (72, 69, 65, 53),
    (71, 67, 62, 55),
    (72, 67, 64, 48),
    (69, 69, 64, 57),
    (69, 65, 62, 50),
    (67, 65, 62, 55),
    (67, 64, 60, 48),
    (64, 60, 55, 48),
    (65, 60, 57, 53),
    (67, 62, 59, 55),
    (69, 64, 60, 57),
    (67, 64, 60, 48),
    (65, 62, 57, 50),
    (67, 62, 59, 55),
    (72, 64, 55, 48),
]


def tune_midi(name: str) -> pretty_midi.PrettyMIDI:
    tempo, (num, den), key, melody = TUNES[name]
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
    if key:
        pm.key_signature_changes.append(
            pretty_midi.KeySignature(
                pretty_midi.key_name_to_key_number(key[0] + (" minor" if key.endswith("m") else " major")), 0.0
            )
        )
    beat = 60.0 / tempo
    inst = pretty_midi.Instrument(program=0, name="melody")
    now = 0.0
    for pitch, quarters in melody:
        if pitch is not None:
            inst.notes.append(pretty_midi.Note(80, pitch, now * beat, (now + quarters) * beat))
        now += quarters
    pm.instruments.append(inst)
    return pm


def hymn_midi(tempo: float = 90.0) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    beat = 60.0 / tempo
    for voice, name in enumerate(("soprano", "alto", "tenor", "bass")):
        inst = pretty_midi.Instrument(program=0, name=name)
        inst.notes = [pretty_midi.Note(80, chord[voice], i * beat, (i + 1) * beat) for i, chord in enumerate(HYMN)]
        pm.instruments.append(inst)
    return pm
