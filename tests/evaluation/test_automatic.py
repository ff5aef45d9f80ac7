"""score_midi_paths end to end with the shipped discriminator, the reference sets and the score command."""
# The fair-judge behaviour (notation, transposition, trivial music, content, copies, challenge models) is in
# test_fair_judge.py.

from __future__ import annotations

import io
import json

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from chartbusters.challenges.models import ReferenceFile
from evaluation.automatic import ScoringError, score_midi_paths
from evaluation.formula import automatic_score
from evaluation.metrics import METRIC_NAMES
from evaluation.models import ReferenceStats
from evaluation.reference import NO_USABLE_REFERENCE, load_bach_reference
from generation.engine.midi_io import midi_to_bytes
from tests.evaluation.music import piece, random_walk_piece, scale_piece, write
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.slow  # runs the real discriminator


def test_default_score_has_every_part(tmp_path):
    result = score_midi_paths([write(random_walk_piece(3), tmp_path / "a.mid")])
    parts = result.parts
    assert set(parts["metrics"]) == set(METRIC_NAMES)
    bach = load_bach_reference()["metrics"]
    for name, m in parts["metrics"].items():
        assert m["mean"] == bach[name]["mean"]
        assert 0.0 <= m["closeness"] <= 1.0
    factor = parts["content"]["repetition_factor"]
    assert factor == 1.0  # a random walk does not loop
    assert result.style == pytest.approx(sum(m["closeness"] for m in parts["metrics"].values()) / len(METRIC_NAMES))
    assert 0.0 <= result.realness <= 1.0
    assert parts["content"]["ok"] is True
    assert result.automatic == pytest.approx(automatic_score(result.style, result.realness, 1.0, 1.0))
    assert result.automatic == result.automatic_unpenalized
    assert result.copy_penalty == 1.0
    assert parts["originality"]["flagged"] is False
    assert parts["realness_model"]["source"].startswith("default")
    json.dumps(parts)  # storable as JSON


@pytest.mark.django_db
def test_challenge_metrics_weights_and_several_outputs(tmp_path):
    challenge = ChallengeFactory(metrics=["pitch_range", "polyphony"], weight_style=3.0, weight_realness=1.0)
    paths = [write(random_walk_piece(s), tmp_path / f"{s}.mid") for s in (4, 5)]
    one = [score_midi_paths([p], challenge=challenge) for p in paths]
    both = score_midi_paths(paths, challenge=challenge)
    assert both.style == pytest.approx((one[0].style + one[1].style) / 2)
    assert both.realness == pytest.approx((one[0].realness + one[1].realness) / 2)
    assert both.automatic == pytest.approx(100 * (3 * both.style + both.realness) / 4)
    m = both.parts["metrics"]
    assert both.style == pytest.approx((m["pitch_range"]["closeness"] + m["polyphony"]["closeness"]) / 2)
    assert [k for k, v in m.items() if v["in_style"]] == ["pitch_range", "polyphony"]
    assert len(both.parts["outputs"]) == 2


@pytest.mark.django_db
def test_challenge_reference_set_is_read_not_written_by_scoring(tmp_path):
    from evaluation.reference import reference_stats_compute

    challenge = ChallengeFactory()
    ReferenceFile.objects.create(challenge=challenge, name="scale",
                                 midi=ContentFile(midi_to_bytes(scale_piece()), name="scale.mid"))
    path = write(scale_piece(), tmp_path / "s.mid")
    first = score_midi_paths([path], challenge=challenge)
    assert first.parts["reference"]["n_pieces"] == 1
    assert first.style == pytest.approx(1.0)  # the piece is its own reference
    assert not ReferenceStats.objects.filter(challenge=challenge).exists()  # scoring only reads
    reference_stats_compute(challenge=challenge)  # the realness-model task stores the figures
    stored = ReferenceStats.objects.get(challenge=challenge)
    assert score_midi_paths([path], challenge=challenge).parts["reference"]["n_pieces"] == stored.n_files == 1
    ReferenceFile.objects.create(challenge=challenge, name="chord",
                                 midi=ContentFile(midi_to_bytes(piece([[(60, 0, 4)], [(67, 0, 4)]])), name="c.mid"))
    second = score_midi_paths([path], challenge=challenge)  # stale figures are not used
    assert second.parts["reference"]["n_pieces"] == 2
    assert second.style < 1.0


@pytest.mark.django_db
def test_figures_of_older_metrics_are_measured_again(tmp_path):
    """A set stored before a metric was added (METRICS_VERSION 2: no outer_voice_step_rate) scores with fresh
    figures, never a missing metric; a rescoring run's refresh stores them once."""
    from evaluation.reference import reference_stats_compute, reference_stats_refresh
    from evaluation.scorer import METRICS_VERSION

    challenge = ChallengeFactory()
    ReferenceFile.objects.create(challenge=challenge, name="scale",
                                 midi=ContentFile(midi_to_bytes(scale_piece()), name="scale.mid"))
    reference_stats_compute(challenge=challenge)
    stored = ReferenceStats.objects.get(challenge=challenge)
    assert stored.metrics_version == METRICS_VERSION
    assert reference_stats_refresh(challenge=challenge) is False  # fresh: nothing to do
    old = {k: v for k, v in stored.stats.items() if k != "outer_voice_step_rate"}
    ReferenceStats.objects.filter(pk=stored.pk).update(stats=old, metrics_version=2)
    result = score_midi_paths([write(scale_piece(), tmp_path / "s.mid")], challenge=challenge)
    assert set(result.parts["metrics"]) == set(METRIC_NAMES)
    assert result.style == pytest.approx(1.0)
    assert ReferenceStats.objects.get(pk=stored.pk).metrics_version == 2  # scoring only reads
    assert reference_stats_refresh(challenge=challenge) is True
    stored.refresh_from_db()
    assert stored.metrics_version == METRICS_VERSION
    assert set(stored.stats) == set(METRIC_NAMES)


@pytest.mark.django_db
def test_unusable_reference_set_is_a_clear_error(tmp_path):
    challenge = ChallengeFactory()
    ReferenceFile.objects.create(challenge=challenge, name="junk", midi=ContentFile(b"not midi", name="junk.mid"))
    with pytest.raises(ScoringError) as err:
        score_midi_paths([write(scale_piece(), tmp_path / "s.mid")], challenge=challenge)
    assert err.value.code == "no_usable_reference"
    assert err.value.message == NO_USABLE_REFERENCE.format(n=1)


@pytest.mark.parametrize("drums", [None, [(36, 0, 1)]])
def test_empty_or_drums_only_is_a_clear_error(tmp_path, drums):
    path = write(piece([[]] if drums is None else [], drums=drums), tmp_path / "e.mid")
    with pytest.raises(ScoringError) as err:
        score_midi_paths([path])
    assert err.value.code == "no_notes"
    assert "no notes" in err.value.message


@pytest.mark.django_db
def test_registered_entries_are_checked_for_later_ones(tmp_path, make_user):
    from evaluation.models import OriginalityFingerprint
    from evaluation.originality import originality_register
    from generation.engine.midi_io import load_midi
    from submissions.models import Submission

    challenge = ChallengeFactory()
    alice, bob = make_user("alice"), make_user("bob")
    first = Submission.objects.create(challenge=challenge, entrant=alice, kind="composition", title="a", licence="x")
    later = Submission.objects.create(challenge=challenge, entrant=bob, kind="composition", title="b", licence="x")
    path = write(random_walk_piece(9, n_notes=40), tmp_path / "a.mid")
    assert score_midi_paths([path], challenge=challenge, exclude_submission_id=first.pk).flagged_copy is False
    assert not OriginalityFingerprint.objects.exists()  # scoring only reads
    originality_register(submission_id=first.pk, pms=[load_midi(path)])  # the scoring service's own step
    copied = score_midi_paths([path], challenge=challenge, exclude_submission_id=later.pk)
    assert copied.flagged_copy is True
    assert copied.parts["originality"]["longest"]["source"] == f"submission {first.pk}"


def test_score_command(tmp_path):
    path = write(random_walk_piece(6), tmp_path / "a.mid")
    out = io.StringIO()
    call_command("score", str(path), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) >= {"automatic", "style", "realness", "parts"}
    text = io.StringIO()
    call_command("score", str(path), stdout=text)
    assert "automatic" in text.getvalue()
    assert "pitch_entropy" in text.getvalue()
    with pytest.raises(CommandError, match="no notes"):
        call_command("score", str(write(piece([], drums=[(36, 0, 1)]), tmp_path / "d.mid")))
