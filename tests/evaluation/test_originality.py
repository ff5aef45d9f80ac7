"""Originality: copies are found however they are disguised (transposed, in other note values or tempo, re-voiced,
one voice of them), with where they match and the share of notes copied; real music and commonplace material are
not flagged; given material never counts; earlier entries of other entrants count; the index stays small."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.base import ContentFile

from evaluation.originality import (
    MIN_NOTES,
    Entry,
    LineIndex,
    lines_from_piece,
    originality_check,
    originality_register,
    training_index,
)
from generation.engine.dataset import load_chorales, pieces_split
from generation.engine.folk import folk_file
from generation.engine.midi_io import midi_to_bytes
from tests.evaluation.music import (
    C_MAJOR_SCALE,
    alternated,
    every_other_late,
    inversion,
    jittered,
    one_track,
    patchwork,
    piece,
    random_walk_piece,
    retrograde,
    swung,
    tempo_marking_changed,
    time_signature_changed,
    variant,
    with_tracks,
)
from tests.factories import ChallengeFactory


@pytest.fixture(scope="module")
def chorale():
    """A held-out (test split) 4/4 chorale of at least 8 bars: every chorale is in the index."""
    return next(p for p in pieces_split(load_chorales(), "test") if p.steps_per_bar == 16 and p.rolls.shape[1] > 128)


def _walk_tracks(seed: int, n_tracks: int, seconds: float):
    return random_walk_piece(seed, n_notes=int(seconds * 2), n_tracks=n_tracks).instruments


COPIES = {
    "verbatim": {},
    "transposed up a fourth": {"shift": 5},
    "transposed down a minor third": {"shift": -3},
    "note values doubled": {"note_values": 2.0},
    "note values doubled, tempo doubled": {"note_values": 2.0, "tempo": 2.0},
    "note values halved": {"note_values": 0.5},
    "re-voiced": {"order": [2, 0, 3, 1], "octaves": [1, -1, 0, 1]},
}


@pytest.mark.parametrize("name", list(COPIES))
def test_copies_of_a_chorale_are_found_and_cost_their_share(chorale, name):
    result = originality_check([variant(chorale.to_midi(), **COPIES[name])])
    assert result["flagged"] is True
    assert result["longest"]["source"] == chorale.name
    assert result["longest"]["kind"] == "training"
    assert result["copied_share"] > 0.8  # almost every note lies in a copied passage
    assert result["copy_penalty"] == pytest.approx(1 - result["copied_share"], abs=1e-3)


def test_passages_are_measured_in_sounded_bars_whatever_the_notation(chorale):
    """Bars are 4 of the piece's typical inter-onset intervals, read from the sound: doubled note values (a uniform
    scaling) or a 64/4 time signature measure the same."""
    same = originality_check([chorale.to_midi()])["longest"]
    for other in (variant(chorale.to_midi(), note_values=2.0), time_signature_changed(chorale.to_midi())):
        longest = originality_check([other])["longest"]
        assert longest["notes"] == same["notes"]
        assert longest["bars"] == pytest.approx(same["bars"], rel=0.02)


SAME_SOUND = {
    "time signature 64/4, then 4/4 at tick 1": time_signature_changed,
    "tempo marking 15 bpm, same audio": lambda pm: tempo_marking_changed(pm, 15.0),
    "chords alternated between two tracks": alternated,
    "every other onset 60 ms late": lambda pm: every_other_late(pm, 0.06),
    "onsets jittered up to 60 ms": lambda pm: jittered(pm, np.random.default_rng(0), 0.06),
    "swung eighths": swung,
}


@pytest.mark.parametrize("name", list(SAME_SOUND))
def test_the_same_sound_is_the_same_copy(chorale, name):
    result = originality_check([SAME_SOUND[name](chorale.to_midi())])
    assert result["flagged"] is True
    assert result["longest"]["source"] == chorale.name
    assert result["longest"]["transform"] == ""


@pytest.mark.parametrize("transform", [retrograde, inversion])
def test_retrograde_and_inverted_copies_are_flagged(chorale, transform):
    result = originality_check([transform(chorale.to_midi())])
    assert result["flagged"] is True
    assert result["longest"]["source"] == chorale.name
    assert result["longest"]["transform"] == transform.__name__
    assert result["copied_share"] > 0.8


def test_a_patchwork_counts_its_share_over_all_its_sources():
    """1.5-bar pieces of four chorales in turn: no passage reaches the 2-bar threshold, together they do."""
    held_out = [p.to_midi() for p in pieces_split(load_chorales(), "test")[:4]]
    result = originality_check([patchwork(held_out, 1.5)])
    assert result["flagged"] is True
    assert result["patchwork"] is True
    assert result["longest"]["bars"] <= result["threshold_bars"]
    assert len(result["sources"]) >= 2
    assert result["copy_penalty"] == pytest.approx(1 - result["copied_share"], abs=1e-3)
    # every voice of each borrowed piece counts, confirmed against its source: not only the lines that matched
    assert result["copied_share"] > 0.5


def test_other_voices_count_only_where_the_source_sounds_them(chorale):
    """A matched soprano's span takes the other tracks' notes with it only when the source has them there: real
    alto, tenor and bass do; random-walk voices under the same soprano do not."""
    pm = chorale.to_midi()
    entry = Entry.of([pm])
    index = training_index()
    soprano = [p for p in index.passages(entry)
               if p.source == chorale.name and p.entry_track == "Soprano" and p.notes >= MIN_NOTES]
    assert soprano
    assert all(len(index.vertical(entry, p)) > 0 for p in soprano)
    mixed = with_tracks(variant(pm, order=[0]), *_walk_tracks(3, 3, pm.get_end_time()))
    entry = Entry.of([mixed])
    found = [p for p in index.passages(entry) if p.source == chorale.name]
    assert found
    assert all(len(index.vertical(entry, p)) == 0 for p in found)


def test_four_voices_on_one_keyboard_track(chorale):
    """Top and bottom lines of a chord track: the held soprano hides the alto's moving notes from the top line."""
    result = originality_check([one_track(variant(chorale.to_midi(), shift=2))])
    assert result["flagged"] is True
    assert result["longest"]["source"] == chorale.name
    assert result["longest"]["entry_track"].startswith("piano")
    assert result["copied_share"] > 0.8


def test_one_voice_copied_into_an_original_piece(chorale):
    pm = chorale.to_midi()
    entry = with_tracks(variant(pm, order=[3]), *_walk_tracks(3, 3, pm.get_end_time()))  # the bass + 3 new tracks
    result = originality_check([entry])
    assert result["flagged"] is True
    assert (result["longest"]["source"], result["longest"]["source_track"]) == (chorale.name, "bass")
    assert result["longest"]["entry_track"] == "track 1"
    bass_share = len(pm.instruments[3].notes) / result["total_notes"]
    assert result["copied_share"] == pytest.approx(bass_share, abs=0.1)


def test_half_the_notes_copied_costs_about_half(chorale):
    soprano = variant(chorale.to_midi(), order=[0])
    n = len(soprano.instruments[0].notes)
    walk = random_walk_piece(8, n_notes=n, n_tracks=1).instruments[0]  # as many original notes
    result = originality_check([with_tracks(soprano, walk)])
    assert result["total_notes"] == 2 * n
    assert result["copied_share"] == pytest.approx(0.5, abs=0.06)
    assert result["copy_penalty"] == pytest.approx(0.5, abs=0.06)


@pytest.mark.parametrize(("n_notes", "flagged"), [(MIN_NOTES - 1, False), (MIN_NOTES, True)])
def test_a_copy_needs_the_minimum_number_of_notes(chorale, n_notes, flagged):
    """The soprano's first notes: longer than 2 sounded bars either way; the number of notes decides."""
    soprano = variant(chorale.to_midi(), order=[0])
    soprano.instruments[0].notes = soprano.instruments[0].notes[:n_notes]
    result = originality_check([soprano])
    assert result["longest"]["source"] == chorale.name
    assert result["longest"]["bars"] > result["threshold_bars"]
    assert result["longest"]["notes"] == n_notes
    assert result["flagged"] is flagged
    assert (result["copy_penalty"] < 0.1) if flagged else (result["copy_penalty"] == 1.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_original_piece_is_not_flagged(seed):
    result = originality_check([random_walk_piece(seed, n_notes=80, n_tracks=3)])
    assert result["flagged"] is False
    assert result["copied_share"] == 0.0
    assert result["copy_penalty"] == 1.0


@pytest.mark.parametrize("beats", [1.0, 0.5, 0.25])
def test_scale_passages_are_commonplace(beats):
    """Two octaves of C major up and down, in quarters, eighths or sixteenths: in every style, copied from none."""
    up = [p - 12 for p in C_MAJOR_SCALE[:-1]] + C_MAJOR_SCALE
    pitches = up + up[-2::-1]
    result = originality_check([piece([[(p, i * beats, (i + 1) * beats) for i, p in enumerate(pitches)]])])
    assert result["flagged"] is False


@pytest.fixture(scope="module")
def folk():
    """Real folk tunes from an Essen file outside the commonplace corpus (FOLK_FILES), its 3/8 tunes first."""
    tunes = folk_file("ballad60")
    return sorted(tunes, key=lambda t: t.time_signature != (3, 8))[:40]


def test_real_folk_tunes_are_not_flagged(folk):
    assert folk[0].time_signature == (3, 8)
    flagged = [t.name for t in folk if originality_check([t.to_midi()])["flagged"]]
    assert flagged == []


def _upload(model, challenge, name, pm):
    return model.objects.create(challenge=challenge, name=name, midi=ContentFile(midi_to_bytes(pm), name=f"{name}.mid"))


@pytest.mark.django_db
def test_given_material_never_counts(chorale):
    """A Melody Harvest input melody that happens to be a chorale: an entry that keeps it is not a copy."""
    from chartbusters.challenges.models import Challenge, InputMelody

    given = variant(chorale.to_midi(), order=[0])
    challenge = ChallengeFactory(kind=Challenge.Kind.MELODY_HARVEST)
    short = piece([[(60, 0, 1), (64, 1, 2), (67, 2, 3), (72, 3, 4)]]).instruments[0]  # fewer notes than an n-gram
    entry = with_tracks(given, *_walk_tracks(4, 2, given.get_end_time()), short)
    assert originality_check([entry], challenge=challenge)["flagged"] is True
    _upload(InputMelody, challenge, "input", given)
    result = originality_check([variant(entry, shift=2)], challenge=challenge)
    assert result["flagged"] is False


@pytest.mark.django_db
def test_reference_files_count(chorale):
    from chartbusters.challenges.models import ReferenceFile

    challenge = ChallengeFactory()
    tune = random_walk_piece(21, n_notes=40, n_tracks=1)
    _upload(ReferenceFile, challenge, "tune", tune)
    result = originality_check([variant(tune, shift=-2, note_values=2.0)], challenge=challenge)
    assert result["flagged"] is True
    assert (result["longest"]["kind"], result["longest"]["source"]) == ("reference", "tune")


@pytest.mark.django_db
def test_earlier_entries_of_other_entrants(make_user):
    from submissions.models import Submission

    challenge = ChallengeFactory(originality_threshold_bars=2.0)
    alice, bob = make_user("alice"), make_user("bob")

    def submit(user):
        return Submission.objects.create(challenge=challenge, entrant=user, kind="composition", title="t",
                                         licence="CC BY 4.0")

    first, own_again, copy = submit(alice), submit(alice), submit(bob)
    melody = random_walk_piece(11, n_notes=48, n_tracks=1)
    assert originality_register(submission_id=first.pk, pms=[melody]) > 0
    # bob's entry: the same melody a fourth higher in doubled note values, after a bar of rest
    notes = [(n.pitch + 5, n.start * 2 + 4, n.end * 2 + 4) for n in melody.instruments[0].notes]
    stolen = piece([notes])
    result = originality_check([stolen], challenge=challenge, exclude_submission_id=copy.pk)
    assert result["flagged"] is True
    assert result["longest"]["kind"] == "entry"
    assert result["longest"]["source"] == f"submission {first.pk}"
    assert result["copied_share"] > 0.9
    # alice reusing her own melody is no copy; nor is a check against entries that came later
    assert originality_check([stolen], challenge=challenge, exclude_submission_id=own_again.pk)["flagged"] is False
    assert originality_check([stolen], challenge=challenge, exclude_submission_id=first.pk)["flagged"] is False
    # registering again replaces the fingerprint; checking writes nothing
    n = originality_register(submission_id=first.pk, pms=[melody])
    assert first.originality_fingerprint.grams.count() == n
    originality_check([stolen], challenge=challenge, exclude_submission_id=copy.pk)
    assert not hasattr(Submission.objects.get(pk=copy.pk), "originality_fingerprint")


def test_index_round_trips_through_disk(tmp_path, chorale):
    index = LineIndex.from_lines(lines_from_piece(chorale))
    index.save(tmp_path / "i.npz")
    loaded = LineIndex.load(tmp_path / "i.npz")
    entry = Entry.of([chorale.to_midi()])
    assert loaded.passages(entry) == index.passages(entry)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def test_loading_the_chorale_index_stays_small(tmp_path):
    """Every chorale's lines in a few flat arrays (the old loader kept a copy of every array per line: +2.9 GB)."""
    path = tmp_path / "all.npz"
    training_index().save(path)
    before = _rss_mb()
    index = LineIndex.load(path)
    grown = _rss_mb() - before
    assert len(index) > 1400
    nbytes = sum(a.nbytes for a in (index.pitch, index.time, index.bar, index.tokens, index.hash_sorted,
                                     index.pos_sorted, index.lengths, index.line_start))
    assert nbytes < 8e6
    assert grown < 60, f"loading the index grew the process by {grown:.0f} MB"

