"""The one config check every architecture uses for an untrusted config.json (no torch)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from generation.engine.config_bounds import bounded_config_values
from generation.engine.errors import CheckpointError


@dataclass(frozen=True)
class _Config:
    width: int = 8
    rate: float = 0.5
    flag: bool = False


def check(raw):
    return bounded_config_values(
        _Config, raw, architecture="toy", int_bounds={"width": (1, 64)}, float_bounds={"rate": (0.0, 1.0)},
        bool_fields=("flag",),
    )


def test_defaults_fill_what_is_left_out_and_numbers_are_cast():
    assert check({"rate": 1}) == {"width": 8, "rate": 1.0, "flag": False}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([1, 2], "toy config must be a JSON object, found list"),
        ({"depth": 3}, "toy config has unknown field(s): depth"),
        ({"width": 65}, "toy config field width must be in 1..64, found 65"),
        ({"width": True}, "toy config field width must be an integer, found True"),
        ({"width": 2.0}, "toy config field width must be an integer, found 2.0"),
        ({"rate": 1.5}, "toy config field rate must be a number in 0..1, found 1.5"),
        ({"rate": "0.5"}, "toy config field rate must be a number in 0..1, found '0.5'"),
        ({"flag": 1}, "toy config field flag must be true or false, found 1"),
    ],
)
def test_each_refusal_names_the_field_the_range_and_the_value(raw, message):
    with pytest.raises(CheckpointError) as caught:
        check(raw)
    assert caught.value.code == "bad_config"
    assert caught.value.message == message
