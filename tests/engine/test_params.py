import pytest

from generation.engine.errors import ParamError
from generation.engine.params import (
    PARAM_SPECS,
    describe_params,
    parse_param_args,
    validate_params,
)

DEFAULTS = {
    "arcnn": {"max_remove_pct": 100, "max_add": 500, "iterations": 100, "temperature": 1.0, "seed": None},
    "gan": {"programs": [0, 0, 0], "seed": None},
    "transformer": {"sampling": "nucleus", "k": 40, "p": 0.95, "temperature": 0.95, "prompt_seconds": None,
                    "extension_seconds": 20, "max_rest_seconds": 2, "max_note_seconds": 3, "seed": None},
}


@pytest.mark.parametrize("model", ["arcnn", "gan", "transformer"])
def test_defaults_are_design_section_4(model):
    assert validate_params(model, {}) == DEFAULTS[model]


@pytest.mark.parametrize(
    ("model", "name", "low", "high"),
    [
        ("arcnn", "max_remove_pct", 0, 100),
        ("arcnn", "max_add", 50, 1000),
        ("arcnn", "iterations", 0, 100),
        ("arcnn", "temperature", 0.5, 6),
        ("transformer", "k", 1, 309),
        ("transformer", "p", 0, 1),
        ("transformer", "temperature", 0.5, 6),
        ("transformer", "extension_seconds", 1, 30),
        ("transformer", "prompt_seconds", 0.1, 30),
        ("gan", "seed", 0, 2**32 - 1),
    ],
)
def test_ranges_accept_the_ends_and_refuse_outside(model, name, low, high):
    assert validate_params(model, {name: str(low)})[name] == low
    assert validate_params(model, {name: high})[name] == high
    for bad in (low - 1, high + 1):
        with pytest.raises(ParamError) as info:
            validate_params(model, {name: bad})
        assert info.value.code == "param_out_of_range"
        assert name in info.value.message
        assert f"between {low:g} and {high:g}" in info.value.message


def test_casts_cli_strings():
    params = validate_params("arcnn", parse_param_args(["max_add=200", "temperature=2.5", "seed=7"]))
    assert params == {**DEFAULTS["arcnn"], "max_add": 200, "temperature": 2.5, "seed": 7}
    assert isinstance(params["max_add"], int)
    assert validate_params("gan", {"programs": "0, 41,32"})["programs"] == [0, 41, 32]
    assert validate_params("gan", {"programs": [1, 2, 3]})["programs"] == [1, 2, 3]
    assert validate_params("transformer", {"sampling": "topk"})["sampling"] == "topk"


@pytest.mark.parametrize(
    ("model", "raw"),
    [
        ("arcnn", {"max_add": "lots"}),
        ("arcnn", {"max_add": 100.5}),
        ("arcnn", {"iterations": True}),
        ("arcnn", {"temperature": "nan"}),
        ("gan", {"programs": "1,2"}),
        ("gan", {"programs": "1,2,300"}),
        ("transformer", {"sampling": "beam"}),
    ],
)
def test_bad_values_are_refused(model, raw):
    with pytest.raises(ParamError) as info:
        validate_params(model, raw)
    assert info.value.code in {"bad_param_value", "param_out_of_range"}
    assert next(iter(raw)) in info.value.message


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ParamError) as info:
        validate_params("arcnn", {"temprature": 2})
    assert info.value.code == "unknown_param"
    assert "temprature" in info.value.message
    for name in PARAM_SPECS["arcnn"]:
        assert name in info.value.message
    with pytest.raises(ParamError) as info:
        validate_params("vae", {})
    assert info.value.code == "unknown_model"
    assert "arcnn, gan, transformer" in info.value.message


def test_param_args_syntax():
    assert parse_param_args(["a=1", " b = x "]) == {"a": "1", "b": "x"}
    with pytest.raises(ParamError):
        parse_param_args(["max_add"])


def test_describe_params_is_json_ready():
    rows = describe_params("transformer")
    assert [r["name"] for r in rows] == list(PARAM_SPECS["transformer"])
    assert rows[1] == {"name": "k", "range": "1-309", "default": 40, "help": rows[1]["help"]}
