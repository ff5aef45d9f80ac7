"""The docs say what the code does: docs/operations.md's settings table names exactly the environment variables that
chartbusters/settings/*.py read, whether by hand (os.environ, env_bool) or through django-environ (env, env.bool,
env.int, ...); README and docs/operations.md name the workers scripts/demo.sh starts and the queues of the settings."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SETTINGS_DIR = REPO / "chartbusters" / "settings"
OPERATIONS = REPO / "docs" / "operations.md"
TABLE_HEADING = "## Settings: every environment variable the settings read"

NAME = r"""\s*["']([A-Z][A-Z0-9_]*)["']"""
# env("X", env.bool("X", env.int("X", env.list("X", env.db("X", env.str("X" (any django-environ method), env_bool("X",
# os.environ.get("X", os.getenv("X"; os.environ["X"] when read, not assigned. os.environ.setdefault writes a default.
READ = re.compile(
    rf"""(?:(?<![\w.])env(?:\.[a-z_]+)?|(?<![\w.])env_bool|os\.environ\.get|os\.getenv)\({NAME}"""
    rf"""|os\.environ\[{NAME}\s*\](?!\s*=[^=])"""
)
VARIABLE = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def variables_read(source: str) -> set[str]:
    return {a or b for a, b in READ.findall(source)}


def settings_variables() -> set[str]:
    return set().union(*(variables_read(path.read_text()) for path in SETTINGS_DIR.glob("*.py")))


def first_table(markdown: str, heading: str) -> tuple[list[str], list[list[str]]]:
    """The header and the body rows (as cells) of the first table under ``heading``, before the next heading."""
    assert heading in markdown, f"no section {heading!r}"
    section = markdown.split(heading, 1)[1].split("\n#", 1)[0].splitlines()
    start = next((i for i, line in enumerate(section) if line.startswith("|")), None)
    assert start is not None, f"no table under {heading!r}"
    table = []
    for line in section[start:]:
        if not line.startswith("|"):
            break
        table.append(line.split("|")[1:-1])
    header, rule, *body = table
    assert set("".join(rule)) <= set("-: "), rule
    return header, body


def table_variables(markdown: str) -> set[str]:
    """The backquoted names in the first column of the settings table."""
    header, body = first_table(markdown, TABLE_HEADING)
    assert header[0].strip() == "variable", header
    assert body, "the settings table is empty"
    names: set[str] = set()
    for row in body:
        found = VARIABLE.findall(row[0])
        assert found, f"a row of the settings table names no variable: {row}"
        names.update(found)
    return names


def test_the_reader_pattern_finds_every_way_the_settings_read_a_variable():
    source = """
A = env("PLAIN", default="x")
B = env.bool("A_BOOL", default=False)
C = env.int(
    "AN_INT", default=3)
D = env.list('A_LIST', default=[])
E = env.db("A_DB", default="sqlite://")
F = env.str("A_STR", default="")
G = env.float("A_FLOAT", default=1.0)
H = env_bool("OLD_BOOL", True)
I = os.environ.get("OLD_GET", "1")
J = os.environ["OLD_INDEX"]
K = os.getenv("OLD_GETENV")
L = os.environ["OLD_COMPARED"] == "1"
os.environ.setdefault("WRITTEN_DEFAULT", "1")
os.environ["WRITTEN"] = "1"
M = dev_env("NOT_ENV_HELPER")
N = settings.env("NOT_ENV_HELPER_EITHER")
O = env("lowercase_is_no_variable")
"""
    assert variables_read(source) == {
        "PLAIN", "A_BOOL", "AN_INT", "A_LIST", "A_DB", "A_STR", "A_FLOAT", "OLD_BOOL", "OLD_GET", "OLD_INDEX",
        "OLD_GETENV", "OLD_COMPARED",
    }


def test_the_settings_read_variables_and_the_table_lists_some():
    """Guards the comparison below against an empty side (a pattern or heading that no longer matches)."""
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "TRAINING_MAX_FILES"} <= settings_variables()
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "TRAINING_MAX_FILES"} <= table_variables(
        OPERATIONS.read_text())


def test_the_settings_table_names_exactly_the_variables_the_settings_read():
    read = settings_variables()
    documented = table_variables(OPERATIONS.read_text())
    missing = sorted(read - documented)
    stale = sorted(documented - read)
    assert not missing, f"read in chartbusters/settings/ but not in docs/operations.md's settings table: {missing}"
    assert not stale, f"in docs/operations.md's settings table but read by no settings module: {stale}"


def test_a_table_missing_a_variable_or_listing_a_stale_one_is_told_apart():
    markdown = OPERATIONS.read_text()
    documented = table_variables(markdown)
    without_debug = markdown.replace("| `DEBUG` |", "| `NOT_A_SETTING` |", 1)
    changed = table_variables(without_debug)
    assert "DEBUG" in documented
    assert "DEBUG" not in changed
    assert changed - documented == {"NOT_A_SETTING"}


# --------------------------------------------------------------------------- the workers and queues the docs name
WORKER = re.compile(r"celery -A chartbusters worker(?P<args>[^&]*?)&", re.DOTALL)
NAME_IN_CELL = re.compile(r"`([\w-]+)(?:@%h)?`")
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def demo_workers() -> dict[str, set[str]]:
    """scripts/demo.sh's workers: hostname -> queues."""
    workers = {}
    for match in WORKER.finditer((REPO / "scripts" / "demo.sh").read_text()):
        args = match.group("args")
        name = re.search(r'--hostname "([\w-]+)@%h"', args).group(1)
        workers[name] = set(re.search(r"-Q ([\w,-]+)", args).group(1).split(","))
    return workers


def worker_table(markdown: str, heading: str) -> dict[str, set[str]]:
    """A table of workers: the name in the first cell -> the queues named in the second."""
    _header, body = first_table(markdown, heading)
    return {NAME_IN_CELL.findall(row[0])[0]: set(NAME_IN_CELL.findall(row[1])) for row in body}


def test_readme_and_operations_name_every_worker_the_demo_starts_with_its_queues():
    workers = demo_workers()
    readme = (REPO / "README.md").read_text()
    assert f"**{NUMBER_WORDS[len(workers)]} workers**" in readme  # README's first lines count them
    assert worker_table(readme, "## Two commands") == workers
    operations = worker_table(OPERATIONS.read_text(), "## The embedded default")
    assert {name: queues & workers[name] for name, queues in operations.items()} == workers


def test_operations_lists_every_queue_of_the_settings(settings):
    _header, body = first_table(OPERATIONS.read_text(), "### The queues")
    documented = {NAME_IN_CELL.findall(row[0])[0] for row in body}
    assert documented == set(settings.CELERY_TASK_QUEUES_NAMES)
