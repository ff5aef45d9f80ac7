"""The learning pages (/learn/): public, one per generator and one on training, every user parameter of a model in
its table (from the registry, so a new parameter cannot go unexplained), every picture a static file that exists,
nothing loaded from outside the site, and the studio and Train pages linked."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import capfirst

from generation import learning
from generation.engine import registry
from generation.engine.params import NumberParam

pytestmark = pytest.mark.django_db

MAX_PICTURE_BYTES = 150 * 1024


class Tags(HTMLParser):
    """Every start tag with its attributes: [(tag, {name: value})]."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def tags(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def page_urls() -> list[str]:
    return [reverse("generation:learn")] + [reverse("generation:learn-topic", args=[slug]) for slug in learning.TOPICS]


def param_table_names(html: str) -> list[str]:
    """Parameter names of the page's tables, in order (the first cell of each row)."""
    return re.findall(r'<tr id="param-[^"]+">\s*<td class="name">([^<]+)</td>', html)


def _get(url: str, client=None) -> str:
    from django.test import Client

    response = (client or Client()).get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_every_generator_has_a_page_and_the_index_links_them_all():
    assert {t["model"] for t in learning.TOPICS.values() if t["model"]} == set(registry.generator_names())
    assert "training" in learning.TOPICS
    index = reverse("generation:learn")
    assert index == "/learn/"
    hrefs = {attrs.get("href") for tag, attrs in tags(_get(index)) if tag == "a"}
    for slug in learning.TOPICS:
        assert reverse("generation:learn-topic", args=[slug]) in hrefs


@pytest.mark.parametrize("url", ["/learn/", "/learn/arcnn/", "/learn/gan/", "/learn/transformer/",
                                 "/learn/training/"])
def test_each_page_is_public(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "<h1>" in response.content.decode()


def test_an_unknown_topic_is_not_found(client):
    assert client.get("/learn/no-such-model/").status_code == 404


@pytest.mark.parametrize("name", registry.generator_names())
def test_a_model_page_names_every_parameter_of_its_model_in_its_table(client, name):
    html = _get(reverse("generation:learn-topic", args=[name]), client)
    specs = registry.get_generator_spec(name).PARAMS
    table = param_table_names(html)
    assert [spec.name for spec in specs] == table[: len(specs)]
    for spec in specs:  # its range and one-line help as the registry gives them
        row = re.search(rf'<tr id="param-{spec.name}">(.*?)</tr>', html, re.S).group(1)
        whole = isinstance(spec, NumberParam) and spec.integer
        shown = f"{int(spec.low)}-{int(spec.high)}" if whole else escape(spec.range_text)
        assert f'<td data-label="range">{shown}</td>' in row
        assert escape(capfirst(spec.help)) in row


def test_a_new_parameter_gets_a_row_without_any_edit_here(client, monkeypatch):
    spec = registry.get_generator_spec("gan")
    extra = NumberParam("swing_amount_xyz", 0, 1, 0.5, False, "how much the parts swing")
    monkeypatch.setattr(spec, "PARAMS", (*spec.PARAMS, extra))
    html = _get("/learn/gan/", client)
    assert "swing_amount_xyz" in param_table_names(html)
    assert "How much the parts swing" in html


def test_training_parameters_are_shown_when_a_spec_has_them(client, monkeypatch):
    spec = registry.get_generator_spec("arcnn")
    html = _get("/learn/arcnn/", client)
    assert "lr_xyz" not in html
    monkeypatch.setattr(spec, "TRAIN_PARAMS", (NumberParam("lr_xyz", 1e-5, 1e-2, 1e-3, False, "learning rate"),),
                        raising=False)
    assert "lr_xyz" in param_table_names(_get("/learn/arcnn/", client))
    assert "lr_xyz" in param_table_names(_get("/learn/training/", client))


def test_every_picture_is_a_static_file_of_the_project_and_nothing_comes_from_outside(client):
    seen = set()
    for url in page_urls():
        html = _get(url, client)
        images = [attrs for tag, attrs in tags(html) if tag == "img"]
        assert images, f"{url} has no picture"
        for attrs in images:
            src = attrs.get("src", "")
            assert src.startswith("/" + settings.STATIC_URL.strip("/") + "/"), (url, src)
            found = finders.find(src.split("/", 2)[2])
            assert found, (url, src)
            assert Path(found).stat().st_size <= MAX_PICTURE_BYTES, src
            assert attrs.get("alt"), (url, src)
            seen.add(src)
        for tag, attrs in tags(html):
            for key in ("src", "href", "srcset", "data", "poster", "action"):
                value = attrs.get(key, "")
                assert not re.match(r"^\s*(https?:)?//", value, re.I), (url, tag, key, value)
        assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", html, re.I), url
        assert "@import" not in html, url
    assert len(seen) >= 8  # before/after and loss curve of each generator, realness, when to stop


def test_every_picture_in_the_folder_is_a_png_that_a_page_shows(client):
    folder = Path(learning.__file__).parent / "static" / "learn"
    shown = {attrs["src"].rsplit("/", 1)[-1] for url in page_urls() for tag, attrs in tags(_get(url, client))
             if tag == "img"}
    pngs = sorted(folder.glob("*.png"))
    assert pngs
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png.name
        assert png.name in shown, f"{png.name} is on no learning page"


def test_every_page_links_the_studio_and_the_train_page(client):
    for url in page_urls():
        hrefs = {attrs.get("href") for tag, attrs in tags(_get(url, client)) if tag == "a"}
        assert "/studio/" in hrefs, url
        assert "/train/" in hrefs, url


def test_the_studio_links_the_learning_pages(client, users):
    client.force_login(users["entrant"])
    hrefs = {attrs.get("href") for tag, attrs in tags(_get("/studio/", client)) if tag == "a"}
    assert "/learn/" in hrefs


def test_the_pages_fit_a_phone(client):
    for url in page_urls():
        html = _get(url, client)
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
        for style in re.findall(r"<style>(.*?)</style>", html, re.S):
            assert not re.search(r"(?<!max-)width:\s*\d{3,}px", style), url  # no fixed page widths
        assert html.count("<table") == html.count('<div class="table-wrap">'), url  # wide tables scroll


@pytest.mark.parametrize("slug", list(learning.TOPICS))
def test_each_topic_ends_with_questions_and_their_answers(client, slug):
    html = _get(reverse("generation:learn-topic", args=[slug]), client)
    section = html.split('id="check-your-understanding"')[1]
    assert len(re.findall(r"<details><summary>Answer</summary>", section)) >= 3
    assert "Every parameter" not in section  # at the end of the page, after its tables


def test_the_gan_page_uses_deepcomposers_words_and_sends_you_to_what_the_run_page_draws(client):
    html = _get("/learn/gan/", client)
    assert "discriminator loss" in html
    assert "generator loss" in html
    assert "is the one to watch" not in html  # the Wasserstein line, which no run page draws
    prose = html.split('id="parameters"')[0]  # (the tables quote the spec's own help)
    assert prose.count("critic") <= 1  # named once, as what WGAN papers call the discriminator


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}


@pytest.mark.parametrize("name", registry.generator_names())
def test_no_note_says_its_help_again(name):
    """A row's note adds to the one-line help instead of repeating it in other words."""
    for row in [*learning.model_params(name), *learning.model_train_params(name)]:
        if not row["note"]:
            continue
        first_sentence = row["note"].split(". ")[0]
        shared = _words(first_sentence) & _words(row["help"])
        assert len(shared) <= max(2, len(_words(first_sentence)) // 3), (row["name"], shared)
