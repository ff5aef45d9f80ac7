"""load_challenge: a bundle round-trips (create, idempotent reload, update) and each bad bundle names its problem."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection

from chartbusters import metric_names as rules
from chartbusters.accounts.roles import Role, user_has_role
from chartbusters.challenges import validation as v
from chartbusters.challenges.models import Challenge, InputMelody, ReferenceFile
from chartbusters.challenges.services import bundles as b

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "chartbusters/challenges/demo"
pytestmark = pytest.mark.django_db


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    (tmp_path / "inputs").mkdir()
    (tmp_path / "refs").mkdir()
    for name in ("chorale-r010-soprano.mid", "chorale-r020-soprano.mid"):
        shutil.copy(DEMO / name, tmp_path / "inputs" / name)
    shutil.copy(DEMO / "chorale-r030-soprano.mid", tmp_path / "refs" / "ref.mid")
    (tmp_path / "not-midi.mid").write_bytes(b"hello, I am text")
    return tmp_path


def bundle_data(**overrides) -> dict:
    data = {
        "slug": "autumn-harvest", "title": "Autumn Harvest", "kind": "melody-harvest",
        "description": "## Rules\nBe kind.", "opens_at": "2026-09-01T00:00:00Z", "closes_at": "2026-10-01T00:00:00Z",
        "judging_ends_at": "2026-10-15T00:00:00Z", "daily_quota": 3, "total_quota": 10, "alpha": 0.25,
        "metrics": ["pitch_range", "polyphony"], "generation_params": {"arcnn": {"temperature": 0.9}},
        "input_melodies": ["inputs/chorale-r010-soprano.mid", "inputs/chorale-r020-soprano.mid"],
        "reference_set": ["refs/ref.mid"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def write_bundle(directory: Path, data: dict | str, name: str = "bundle.yaml") -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def load(path: Path) -> dict:
    out = StringIO()
    call_command("load_challenge", str(path), "--json", stdout=out)
    return json.loads(out.getvalue())


def test_round_trip_create_reload_update(bundle_dir, make_user):
    make_user("jules")
    path = write_bundle(bundle_dir, bundle_data(judges=["jules"]))
    first = load(path)
    assert first == {"slug": "autumn-harvest", "created": True, "input_melodies": 2, "reference_files": 1,
                     "files_written": 3, "files_removed": 0}
    challenge = Challenge.objects.get(slug="autumn-harvest")
    assert challenge.opens_at == datetime(2026, 9, 1, tzinfo=UTC)
    assert (challenge.alpha, challenge.daily_quota, challenge.metrics) == (0.25, 3, ["pitch_range", "polyphony"])
    assert challenge.generation_params == {"arcnn": {"temperature": 0.9}}
    assert [u.username for u in challenge.judges.all()] == ["jules"]
    assert user_has_role(challenge.judges.get(), Role.JUDGE)
    stored = challenge.input_melodies.get(name="chorale-r010-soprano.mid")
    assert stored.midi.read() == (DEMO / "chorale-r010-soprano.mid").read_bytes()

    again = load(path)  # idempotent: nothing written, nothing removed
    assert again == {**first, "created": False, "files_written": 0, "files_removed": 0}
    assert InputMelody.objects.count() == 2
    assert ReferenceFile.objects.count() == 1

    shutil.copy(DEMO / "chorale-r030-soprano.mid", bundle_dir / "inputs" / "chorale-r020-soprano.mid")
    write_bundle(bundle_dir, bundle_data(title="Autumn Harvest II", input_melodies=[
        "inputs/chorale-r020-soprano.mid"]))
    updated = load(path)
    assert updated["created"] is False
    assert (updated["files_written"], updated["files_removed"], updated["input_melodies"]) == (1, 1, 1)
    challenge.refresh_from_db()
    assert challenge.title == "Autumn Harvest II"
    assert challenge.alpha == 0.25  # fields left out keep their value
    assert challenge.input_melodies.get().midi.read() == (DEMO / "chorale-r030-soprano.mid").read_bytes()
    assert challenge.reference_files.count() == 1  # list left out: kept


def test_plain_output_and_example_bundle(make_user):
    make_user("judge")
    make_user("organizer")
    out = StringIO()
    call_command("load_challenge", str(REPO / "examples/demo-bundle.yaml"), stdout=out)
    assert "Created challenge" in out.getvalue()
    challenge = Challenge.objects.get(slug="winter-harvest")
    assert challenge.input_melodies.count() == 3
    assert challenge.kind == "melody-harvest"


@pytest.mark.parametrize(("data", "field", "fragment"), [
    (bundle_data(colour="red"), "colour", "unknown field"),
    (bundle_data(title=None), "title", b.MISSING_FIELD),
    (bundle_data(kind="melody-soup"), "kind", "not a valid choice"),
    (bundle_data(opens_at="next tuesday"), "opens_at", "invalid format"),
    (bundle_data(daily_quota="many"), "daily_quota", "integer"),
    (bundle_data(closes_at="2026-08-01T00:00:00Z"), "closes_at", v.CLOSES_BEFORE_OPENS),
    (bundle_data(judging_ends_at="2026-09-15T00:00:00Z"), "judging_ends_at", v.JUDGING_BEFORE_CLOSE),
    (bundle_data(alpha=3), "alpha", v.ALPHA_OUT_OF_RANGE),
    (bundle_data(total_quota=0), "total_quota", v.QUOTA_BELOW_ONE),
    (bundle_data(weight_style=0, weight_realness=0), "weight_style", rules.WEIGHTS_ALL_ZERO),
    (bundle_data(metrics=["loudness"]), "metrics", "'loudness'"),
    (bundle_data(input_melodies="inputs/chorale-r010-soprano.mid"), "input_melodies", b.NOT_A_LIST),
    (bundle_data(input_melodies=["inputs/missing.mid"]), "input_melodies[0]", "no file at"),
    (bundle_data(input_melodies=[42]), "input_melodies[0]", b.FILE_NOT_A_STRING),
    (bundle_data(reference_set=["refs/ref.mid", "not-midi.mid"]), "reference_set[1]",
     "not-midi.mid: The file is not a readable Standard MIDI File"),
    (bundle_data(input_melodies=["inputs/chorale-r010-soprano.mid", "inputs/../inputs/chorale-r010-soprano.mid"]),
     "input_melodies[1]", "two files are named"),
    (bundle_data(input_melodies=[]), "input_melodies", b.HARVEST_NEEDS_INPUTS),
    (bundle_data(judges=["nobody"]), "judges[0]", "no user named 'nobody'"),
])
def test_each_bundle_error_names_the_field_or_file(bundle_dir, data, field, fragment):
    path = write_bundle(bundle_dir, data)
    with pytest.raises(CommandError) as excinfo:
        load(path)
    message = str(excinfo.value)
    assert f": {field}: " in message, message
    assert fragment in message
    assert "\n" not in message
    assert not Challenge.objects.exists()
    assert not InputMelody.objects.exists()


@pytest.mark.parametrize(("text", "fragment"), [
    ("slug: [unclosed", "not valid YAML"),
    ("- just\n- a list\n", b.BUNDLE_NOT_MAPPING),
])
def test_bundle_that_is_not_a_mapping(bundle_dir, text, fragment):
    with pytest.raises(CommandError, match=fragment):
        load(write_bundle(bundle_dir, text))


def test_missing_bundle_file(tmp_path):
    with pytest.raises(CommandError, match="no bundle file at"):
        load(tmp_path / "nope.yaml")


def test_failed_update_leaves_the_stored_challenge_as_it_was(bundle_dir):
    load(write_bundle(bundle_dir, bundle_data()))
    before = sorted(InputMelody.objects.values_list("name", "midi"))
    path = write_bundle(bundle_dir, bundle_data(title="Changed", input_melodies=["inputs/chorale-r020-soprano.mid"],
                                                judges=["nobody"]))
    with pytest.raises(CommandError, match="judges"):
        load(path)
    assert Challenge.objects.get().title == "Autumn Harvest"
    assert sorted(InputMelody.objects.values_list("name", "midi")) == before


@pytest.mark.django_db(transaction=True)  # the subprocess must be able to take the database's write lock
def test_command_exits_non_zero_with_a_one_line_reason(bundle_dir):
    path = write_bundle(bundle_dir, bundle_data(alpha=7))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chartbusters.settings.test",
           "CHARTBUSTERS_TEST_DB_NAME": str(connection.settings_dict["NAME"])}
    result = subprocess.run([sys.executable, "manage.py", "load_challenge", str(path)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "alpha: " + v.ALPHA_OUT_OF_RANGE in result.stderr
