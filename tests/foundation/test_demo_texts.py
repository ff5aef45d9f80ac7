"""The demo's seeded texts describe today's site: every `manage.py <command> [model]` they name exists (and takes
that model), every page they link or name resolves to a page, and none says a feature is still to come."""

from __future__ import annotations

import re

import pytest
from django.core.management import get_commands
from django.urls import Resolver404, resolve

from chartbusters.challenges.models import Challenge
from chartbusters.challenges.services.demo import demo_seed
from generation.engine.registry import generator_names

pytestmark = pytest.mark.django_db

COMMAND = re.compile(r"manage\.py\s+([a-z_]+)(?:\s+([a-z_]+))?")
PAGE = re.compile(r"\]\((/[^)\s]*)\)|`(/[a-z0-9_/-]*/)`|(?<![\w.])(/[a-z][a-z0-9_-]*/(?:[a-z0-9_-]+/)*)")
NOT_YET = re.compile(r"roadmap|coming soon|not yet|next on|in a later|will be added", re.IGNORECASE)
MODEL_COMMANDS = {"generate", "train"}  # their first argument names a model


def _seeded_texts(settings, tmp_path) -> dict[str, str]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    demo_seed()  # the challenges and users of seed_demo (its extras, e.g. the judging demo, are slow)
    return {c.slug: f"{c.title}\n{c.description}" for c in Challenge.objects.all()}


def text_problems(text: str) -> list[str]:
    """What in ``text`` names something the site does not have."""
    problems = []
    commands = get_commands()
    for command, argument in COMMAND.findall(text):
        if command not in commands:
            problems.append(f"`manage.py {command}` is no command")
        elif command in MODEL_COMMANDS and argument and argument not in {*generator_names(), "discriminator"}:
            problems.append(f"`manage.py {command} {argument}`: no model is called {argument}")
    for groups in PAGE.findall(text):
        path = next(g for g in groups if g)
        try:
            resolve(path)
        except Resolver404:
            problems.append(f"{path} is no page")
    problems += [f"says {m.group(0)!r}: describe the site as it is" for m in NOT_YET.finditer(text)]
    for name in re.findall(r"`(arcnn|gan|transformer|[a-z]+net)`", text):
        if name not in generator_names():
            problems.append(f"`{name}` is no model")
    return problems


def test_the_seeded_texts_name_only_what_exists(settings, tmp_path):
    texts = _seeded_texts(settings, tmp_path)
    assert {"melody-go-round", "melody-harvest"} <= set(texts)
    for slug, text in texts.items():
        assert text_problems(text) == [], slug
    # the texts send a newcomer to the studio, the Train page and My models
    assert "/studio/" in texts["melody-go-round"]
    assert "/train/" in texts["melody-harvest"]
    assert "/models/" in texts["melody-harvest"]


def test_the_check_fails_on_a_missing_command_or_page():
    assert text_problems("Run `python manage.py train arcnn` then open [the studio](/studio/).") == []
    assert text_problems("Run `python manage.py compose arcnn`.") == ["`manage.py compose` is no command"]
    assert text_problems("Run `python manage.py train wavenet`.") == [
        "`manage.py train wavenet`: no model is called wavenet"]
    assert text_problems("Open [the mixer](/mixer/).") == ["/mixer/ is no page"]
    assert any("roadmap" in p for p in text_problems("The studio is on the roadmap."))
