"""User parameters: each generator's PARAMS in its spec, validated through the pipeline (docs/design.md section 4)."""

import pytest

from generation.engine import registry
from generation.engine.errors import ArchitectureUnavailableError, CheckpointError, ParamError
from generation.engine.models.arcnn import spec as arcnn_spec
from generation.engine.params import describe_params, parse_param_args
from generation.engine.pipeline import describe_model, model_params

ARCNN_DEFAULTS = {spec.name: spec.default for spec in arcnn_spec.PARAMS}


def test_arcnn_names_are_design_section_4():
    assert list(ARCNN_DEFAULTS) == ["max_remove_pct", "max_add", "iterations", "temperature", "seed"]
    assert model_params("arcnn", {}) == ARCNN_DEFAULTS
    assert ARCNN_DEFAULTS["seed"] is None  # random unless given


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("max_remove_pct", 0, 100), ("max_add", 50, 1000), ("iterations", 0, 100), ("temperature", 0.5, 6),
     ("seed", 0, 2**32 - 1)],
)
def test_ranges_accept_the_ends_and_refuse_outside(name, low, high):
    assert model_params("arcnn", {name: str(low)})[name] == low
    assert model_params("arcnn", {name: high})[name] == high
    for bad in (low - 1, high + 1):
        with pytest.raises(ParamError) as info:
            model_params("arcnn", {name: bad})
        assert info.value.code == "param_out_of_range"
        assert name in info.value.message
        assert f"between {low:g} and {high:g}" in info.value.message


def test_casts_cli_strings():
    params = model_params("arcnn", parse_param_args(["max_add=200", "temperature=2.5", "seed=7"]))
    assert params == {**ARCNN_DEFAULTS, "max_add": 200, "temperature": 2.5, "seed": 7}
    assert isinstance(params["max_add"], int)


def test_programs_and_choices_cast():
    from generation.engine.params import ChoiceParam, ProgramsParam, validate_params

    specs = (ProgramsParam("programs", 3, (0, 0, 0), "GM programs"), ChoiceParam("sampling", ("topk", "nucleus"),
                                                                                   "nucleus", "how"))
    assert validate_params(specs, {"programs": "0, 41,32"}, model="m")["programs"] == [0, 41, 32]
    assert validate_params(specs, {"programs": [1, 2, 3]}, model="m")["programs"] == [1, 2, 3]
    assert validate_params(specs, {}, model="m") == {"programs": [0, 0, 0], "sampling": "nucleus"}
    for raw in ({"programs": "1,2"}, {"programs": "1,2,300"}, {"sampling": "beam"}):
        with pytest.raises(ParamError) as info:
            validate_params(specs, raw, model="m")
        assert next(iter(raw)) in info.value.message


@pytest.mark.parametrize(
    "raw", [{"max_add": "lots"}, {"max_add": 100.5}, {"iterations": True}, {"temperature": "nan"}],
)
def test_bad_values_are_refused(raw):
    with pytest.raises(ParamError) as info:
        model_params("arcnn", raw)
    assert info.value.code in {"bad_param_value", "param_out_of_range"}
    assert next(iter(raw)) in info.value.message


def test_unknown_names_list_the_known_ones(monkeypatch):
    with pytest.raises(ParamError) as info:
        model_params("arcnn", {"temprature": 2})
    assert info.value.code == "unknown_param"
    assert "temprature" in info.value.message
    for name in ARCNN_DEFAULTS:
        assert name in info.value.message
    with pytest.raises(CheckpointError) as unknown:
        model_params("vae", {})
    assert unknown.value.code == "unknown_architecture"
    monkeypatch.setattr(registry, "PLANNED_ARCHITECTURES", ("musicvae",))
    with pytest.raises(ArchitectureUnavailableError) as planned:
        model_params("musicvae", {})
    assert planned.value.code == "not_available"


def test_param_args_syntax():
    assert parse_param_args(["a=1", " b = x "]) == {"a": "1", "b": "x"}
    with pytest.raises(ParamError):
        parse_param_args(["max_add"])


def test_describe_model_is_json_ready():
    described = describe_model("arcnn")
    assert described["description"] == arcnn_spec.DESCRIPTION
    rows = described["params"]
    assert [r["name"] for r in rows] == list(ARCNN_DEFAULTS)
    assert rows[1] == {"name": "max_add", "range": "50-1000", "default": ARCNN_DEFAULTS["max_add"],
                       "help": rows[1]["help"]}
    assert describe_params(arcnn_spec.PARAMS) == rows
