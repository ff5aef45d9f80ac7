"""The import contracts (docs/design.md §2; pyproject.toml [tool.importlinter]) hold, and the rules they cannot see
(imports by name through the registry) are checked here: the pipeline is the only caller of samplers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from generation.engine import registry

REPO = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("chartbusters", "submissions", "evaluation", "generation", "benchmarks", "scripts")


def _lint(config: Path | None = None) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]
    if config is not None:
        command.append(str(config))
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)


def test_every_import_contract_is_kept():
    result = _lint()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", result.stdout)
    assert kept, result.stdout[-2000:]
    assert int(kept.group(1)) >= 8
    assert kept.group(2) == "0"


def test_a_broken_contract_is_reported(tmp_path):
    """The linter catches what the contracts forbid: a copy of the engine-layers contract turned upside down (models
    forbidden to use the training toolkit) must fail on today's code, where every model's train.py uses it."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["generation"]\n'
        '[[tool.importlinter.contracts]]\nname = "upside down"\ntype = "layers"\n'
        'layers = ["generation.engine.training", "generation.engine.models"]\n'
    )
    result = _lint(config)
    assert result.returncode != 0
    assert "upside down BROKEN" in result.stdout


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("generation", "submissions", "evaluation", "chartbusters", cache_dir=None)


@pytest.mark.parametrize("name", registry.generator_names())
def test_no_module_imports_a_sampler(graph, name):
    """Samplers are reached only by name, through registry.get_part in the pipeline (which restores tempo, meter
    and untouched tracks and applies the time limit)."""
    sampler = f"generation.engine.models.{name}.sampler"
    assert graph.find_modules_that_directly_import(sampler) == set()


def test_only_the_pipeline_asks_the_registry_for_a_sampler():
    callers = []
    for folder in SOURCE_DIRS:
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text()
            if re.search(r"get_part\([^)]*[\"']sampler[\"']", text) or re.search(r"\.sampler import generate", text):
                callers.append(path.relative_to(REPO).as_posix())
    assert callers == ["generation/engine/pipeline.py"]
