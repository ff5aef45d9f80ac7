"""The key of a piece: from the file's key signature when it has one, else estimated from all its pitched tracks.

No torch, no Django. The one place for the rule every model and benchmark that needs a key uses (the AR-CNN's key
mask, the Transformer's key penalty, the measures of "in key"):

    key_of(pm) -> (tonic pitch class 0..11, "major" | "minor")
    estimate_key(roll) -> the estimate for a (T, 128) roll, or rolls (..., T, 128) together (a window, no file)
    scale_pitch_classes(tonic, mode) / key_pitch_classes((tonic, mode)) -> the pitch classes counted "in the key"
    in_key_share(pitches, key) -> the share of pitches in the key
    KEY_NAMES, key_name(key), key_from_name(name) -> the 24 keys by name ("D major", "Bb minor"), as the studio's
        key control and the API's ``key`` offer them
    with_key_signature(midi bytes, key) -> the file with ``key`` as its only key signature (a job run in a chosen
        key: every model then reads that key through key_of)

The estimate weights each pitch class by how long it sounds, over every non-drum track (a melody alone misleads: a
C-major tune that starts and dwells on E correlates best with E minor), counts the last sounding notes once more
(tunes end on their tonic chord), then picks among the keys whose scale holds the most of that weight (within 3 %)
the one best correlated with the Krumhansl-Kessler profiles: the scale first, so a dorian tune that rarely sounds
its third reads as minor, not as the major key its tonic and fifth suggest. A modal tune written with its signature
(D dorian with no sharps or flats) reads as that signature's major key, whose notes are the mode's.
"""

from __future__ import annotations

import io

import mido
import numpy as np
import pretty_midi

from generation.engine.errors import ParamError

MAJOR, MINOR = "major", "minor"
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 9, 10, 11)  # natural minor + the raised 6th and 7th (melodic and harmonic minor)
# Krumhansl-Kessler probe-tone profiles, tonic first
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
FINAL_WEIGHT = 0.25  # the last sounding notes count this share of the whole duration again (the tonic at the end)
FIT_STEP = 0.03  # scale fits within this share of the weight count as equal; the profile correlation decides
TONIC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")  # pitch class 0..11
KEY_NAMES = tuple(f"{tonic} {mode}" for mode in (MAJOR, MINOR) for tonic in TONIC_NAMES)
UNKNOWN_KEY_MESSAGE = ("`key` must be one of the 24 keys ({first}, ..., {last}) or empty (from the music); "
                       "got {value!r}.")


def key_from_weights(weights: np.ndarray) -> tuple[int, str]:
    """(tonic, mode) of 12 pitch-class weights: among the keys whose scale holds the most weight (within FIT_STEP),
    the one whose Krumhansl-Kessler profile correlates best (C major when the weights are empty or all equal)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.sum() <= 0 or weights.std() == 0:
        return 0, MAJOR
    histogram = weights / weights.sum()
    best = (-1, -2.0, 0, MAJOR)
    for tonic in range(12):
        rotated = np.roll(histogram, -tonic)  # index 0 = the candidate tonic
        for mode, profile, steps in ((MAJOR, KK_MAJOR, MAJOR_SCALE), (MINOR, KK_MINOR, MINOR_SCALE)):
            fit = round(rotated[list(steps)].sum() / FIT_STEP)
            r = float(np.corrcoef(rotated, profile)[0, 1])
            if (fit, r) > best[:2]:
                best = (fit, r, tonic, mode)
    return best[2], best[3]


def _final_weights(pitches: np.ndarray, ends: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """FINAL_WEIGHT of the total duration, shared by the pitch classes sounding at the very end."""
    weights = np.zeros(12)
    if len(pitches) == 0:
        return weights
    last = pitches[ends >= ends.max() - 1e-6] % 12
    np.add.at(weights, last, FINAL_WEIGHT * durations.sum() / len(last))
    return weights


def estimate_key(roll: np.ndarray) -> tuple[int, str]:
    """(tonic, mode) of a (T, P) roll, or of rolls (..., T, P) with their tracks together: duration-weighted pitch
    classes plus the last sounding step's pitch classes counted FINAL_WEIGHT of the total again."""
    roll = np.asarray(roll, dtype=bool).reshape(-1, *np.shape(roll)[-2:]).any(axis=0)  # (T, P)
    weights = np.bincount(np.arange(roll.shape[-1]) % 12, weights=roll.sum(axis=0), minlength=12)
    sounding = np.flatnonzero(roll.any(axis=1))
    if len(sounding):
        last = np.flatnonzero(roll[sounding[-1]]) % 12
        np.add.at(weights, last, FINAL_WEIGHT * weights.sum() / len(last))
    return key_from_weights(weights)


def key_of(pm: pretty_midi.PrettyMIDI) -> tuple[int, str]:
    """(tonic pitch class, "major" | "minor") of a PrettyMIDI: its first key signature when the file has one, else
    the estimate from every non-drum track's notes (duration-weighted, final notes counted again)."""
    if pm.key_signature_changes:
        number = int(min(pm.key_signature_changes, key=lambda k: k.time).key_number)  # 0-11 major, 12-23 minor
        return number % 12, MAJOR if number < 12 else MINOR
    notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
    pitches = np.array([n.pitch for n in notes], dtype=np.int64)
    ends = np.array([n.end for n in notes], dtype=np.float64)
    durations = np.array([max(n.end - n.start, 1e-3) for n in notes], dtype=np.float64)
    weights = np.bincount(pitches % 12, weights=durations, minlength=12) if len(notes) else np.zeros(12)
    return key_from_weights(weights + _final_weights(pitches, ends, durations))


def scale_pitch_classes(tonic: int, mode: str) -> frozenset[int]:
    """The pitch classes of a key: its major scale, or natural minor + the raised 6th and 7th."""
    return frozenset((tonic + step) % 12 for step in (MAJOR_SCALE if mode == MAJOR else MINOR_SCALE))


def key_pitch_classes(key: tuple[int, str]) -> frozenset[int]:
    """scale_pitch_classes of a (tonic, mode) pair."""
    return scale_pitch_classes(*key)


def in_key_share(pitches, key: tuple[int, str]) -> float:
    """Share of ``pitches`` whose pitch class is in the key's scale (nan for none)."""
    pitches = list(pitches)
    if not pitches:
        return float("nan")
    scale = scale_pitch_classes(*key)
    return sum(int(p) % 12 in scale for p in pitches) / len(pitches)


def key_name(key: tuple[int, str]) -> str:
    """(2, "major") -> "D major"."""
    return f"{TONIC_NAMES[key[0] % 12]} {key[1]}"


def key_from_name(name: str) -> tuple[int, str]:
    """"D major" -> (2, "major"); ParamError (bad_key) names the choices for anything else."""
    if name not in KEY_NAMES:
        raise ParamError("bad_key", UNKNOWN_KEY_MESSAGE.format(first=KEY_NAMES[0], last=KEY_NAMES[-1], value=name))
    tonic, mode = name.split(" ")
    return TONIC_NAMES.index(tonic), mode


def key_number(key: tuple[int, str]) -> int:
    """A key as a MIDI key signature's number (pretty_midi's: 0-11 major, 12-23 minor, tonic first)."""
    return key[0] % 12 + (12 if key[1] == MINOR else 0)


def _mido_key(key: tuple[int, str]) -> str:
    """A key as a MIDI key-signature meta message names it ("D", "Bbm")."""
    return TONIC_NAMES[key[0] % 12] + ("m" if key[1] == MINOR else "")


def with_key_signature(data: bytes, key: tuple[int, str]) -> bytes:
    """The Standard MIDI File ``data`` with ``key`` as its only key signature (at time 0, first track); every other
    event is kept at its tick (a removed key signature's delta time passes to the event after it)."""
    midi = mido.MidiFile(file=io.BytesIO(data))
    for track in midi.tracks:
        carried, kept = 0, []
        for message in track:
            if message.is_meta and message.type == "key_signature":
                carried += message.time
                continue
            kept.append(message.copy(time=message.time + carried) if carried else message)
            carried = 0
        track[:] = kept
    if not midi.tracks:
        midi.tracks.append(mido.MidiTrack())
    midi.tracks[0].insert(0, mido.MetaMessage("key_signature", key=_mido_key(key), time=0))
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()
