"""Anonymized copies of an entry's files for one judge (issue 24 item 2; docs/judging.md): no Django, no torch.

A judge must not be able to tie what they review to a public file (the leaderboard's MIDI, audio or piano roll), and
so to its entrant or title. Each judge's copy therefore
- keeps the notes but drops every meta text event (track and instrument names, copyright, text, markers, cue points,
  lyrics, device names, and unnamed meta events such as program names): names typed into a MIDI file never reach
  the judge;
- starts a few milliseconds later and ends a little later (a random lead-in and tail pad, inaudible), so that its
  bytes, its size and its duration differ from the public file's, and from every other judge's copy;
- is rendered anew (audio and piano roll from the anonymized MIDI), never copied.
"""

from __future__ import annotations

import io
import random
import struct
import zlib

import mido

# Meta events that carry free text: stripped from every judge's copy.
META_TEXT_TYPES = frozenset({
    "text", "copyright", "track_name", "instrument_name", "lyrics", "marker", "cue_marker", "device_name",
})
# Also stripped: meta events that mido does not name (program name 0x08 among them) and sequencer-specific data,
# which may carry anything; nothing that sounds needs them.
OTHER_STRIPPED = frozenset({"unknown_meta", "sequencer_specific"})
LEAD_IN_MS = (20, 60)  # random lead-in: later than any public copy by at least 20 ms (one MP3 frame is ~26 ms)
TAIL_MS = (40, 250)  # random silence after the last event
ORDINAL_STEP_MS = 45  # each further judge of an entry starts this much later (more than the lead-in's random span)


def _ticks(ms: float, *, ticks_per_beat: int, tempo: int = 500_000) -> int:
    """``ms`` milliseconds in ticks at ``tempo`` (microseconds per beat; the MIDI default is 120 bpm)."""
    return max(1, round(ms * 1000 * ticks_per_beat / tempo))


def _first_tempo(mid: mido.MidiFile) -> int:
    for track in mid.tracks:
        for msg in track:
            if msg.type == "set_tempo":
                return msg.tempo
    return 500_000


def anonymize_midi(data: bytes, *, rng: random.Random, avoid_sizes: frozenset[int] = frozenset(),
                   ordinal: int = 0) -> bytes:
    """The MIDI file ``data`` without meta text, with a random lead-in and tail pad; its size is none of
    ``avoid_sizes`` (the sizes of the public files it must not be matched with). ``ordinal`` (the review's place
    among the entry's reviews) moves the lead-in by whole steps of ORDINAL_STEP_MS, so no two judges of one entry
    ever get the same copy, whatever the random draw."""
    src = mido.MidiFile(file=io.BytesIO(data))
    tempo = _first_tempo(src)
    step = max(1, _ticks(ORDINAL_STEP_MS, ticks_per_beat=src.ticks_per_beat, tempo=tempo))
    lead = _ticks(rng.uniform(*LEAD_IN_MS), ticks_per_beat=src.ticks_per_beat, tempo=tempo) + ordinal * step
    tail = _ticks(rng.uniform(*TAIL_MS), ticks_per_beat=src.ticks_per_beat, tempo=tempo)
    for _ in range(64):
        out = mido.MidiFile(type=src.type, ticks_per_beat=src.ticks_per_beat)
        for track in src.tracks:
            new = mido.MidiTrack()
            carried = lead  # the lead-in goes before the first kept event; dropped events' time is kept
            for msg in track:
                if msg.is_meta and (msg.type in META_TEXT_TYPES or msg.type in OTHER_STRIPPED):
                    carried += msg.time
                    continue
                if msg.type == "end_of_track":
                    continue
                new.append(msg.copy(time=msg.time + carried))
                carried = 0
            new.append(mido.MetaMessage("end_of_track", time=carried + tail))
            out.tracks.append(new)
        buffer = io.BytesIO()
        out.save(file=buffer)
        copy = buffer.getvalue()
        if len(copy) not in avoid_sizes and copy != data:
            return copy
        tail += 128  # one more byte in the tail's delta time: another size
    return copy


def png_with_nonce(data: bytes, *, rng: random.Random, avoid_sizes: frozenset[int] = frozenset()) -> bytes:
    """The PNG ``data`` with a private ancillary chunk of random bytes before IEND (viewers ignore it): other bytes,
    and a size that is none of ``avoid_sizes``."""
    end = data.rfind(b"IEND") - 4
    if end < 8:
        return data
    for _ in range(64):
        payload = rng.randbytes(rng.randint(4, 64))
        kind = b"jdGe"  # ancillary (lower-case first letter), private, safe to copy
        chunk = struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        copy = data[:end] + chunk + data[end:]
        if len(copy) not in avoid_sizes:
            return copy
    return copy
