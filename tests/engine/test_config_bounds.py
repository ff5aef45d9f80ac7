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


# ---------------------------------------------------------------- the one config.json limit (upload and CLI)
from generation.engine.config_bounds import (  # noqa: E402
    MAX_CONFIG_BYTES,
    MAX_CONFIG_DEPTH,
    config_dict_check,
    config_json_loads,
)


def refusal(call, raw) -> CheckpointError:
    with pytest.raises(CheckpointError) as caught:
        call(raw)
    return caught.value


@pytest.mark.parametrize("depth", [MAX_CONFIG_DEPTH + 1, 10_000, 30_000])
def test_deep_nesting_is_refused_before_parsing(depth):
    error = refusal(config_json_loads, '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}")
    assert error.code == "bad_config"
    assert f"{depth:,} deep; the limit is {MAX_CONFIG_DEPTH}" in error.message


def test_nesting_up_to_the_limit_and_brackets_in_strings_are_fine():
    text = '{"a": ' + "[" * (MAX_CONFIG_DEPTH - 1) + "]" * (MAX_CONFIG_DEPTH - 1) + ', "b": "[[[[{{{{\\"]]"}'
    assert set(config_json_loads(text)) == {"a", "b"}


@pytest.mark.parametrize(("raw", "code", "words"), [
    (b" " * (MAX_CONFIG_BYTES + 1), "too_large", f"{MAX_CONFIG_BYTES + 1:,} bytes; the limit is {MAX_CONFIG_BYTES:,}"),
    (b"\xff\xfe{}", "bad_config", "not UTF-8"),
    ("{not json", "bad_config", "not valid JSON"),
    ("[1, 2]", "bad_config", "found an array"),
    ('"text"', "bad_config", "found a string"),
])
def test_config_json_refusals(raw, code, words):
    error = refusal(config_json_loads, raw)
    assert (error.code, words in error.message) == (code, True), error.message


def test_a_parsed_config_gets_the_same_limits():
    deep: dict = {}
    node = deep
    for _ in range(10_000):
        node["x"] = {}
        node = node["x"]
    assert "deep; the limit is" in refusal(config_dict_check, deep).message
    assert refusal(config_dict_check, {"x": "y" * MAX_CONFIG_BYTES}).code == "too_large"
    assert config_dict_check({"architecture": "arcnn", "config": {}}) == {"architecture": "arcnn", "config": {}}
