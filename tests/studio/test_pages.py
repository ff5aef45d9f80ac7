"""The studio page and the phone layout of every page (390 px: no fixed widths, the header wraps)."""

from __future__ import annotations

import json
import re

import pytest

from generation.engine import registry
from tests.studio.conftest import midi_bytes  # noqa: F401

pytestmark = pytest.mark.django_db


def test_studio_needs_a_login(client):
    response = client.get("/studio/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_studio_offers_every_registered_model_with_its_parameters_and_the_samples(client, users):
    client.force_login(users["entrant"])
    page = client.get("/studio/").content.decode()
    config = json.loads(re.search(r'<script id="studio-config" type="application/json">(.*?)</script>', page,
                                  re.S).group(1))
    assert [m["name"] for m in config["models"]] == registry.generator_names()  # arcnn, gan, transformer
    assert {p["name"] for p in config["models"][0]["params"]} >= {"max_remove_pct", "max_add", "iterations",
                                                                  "temperature"}
    assert [s["slug"] for s in config["samples"]] == ["ode-to-joy", "twinkle", "frere-jacques", "amazing-grace"]
    assert config["maxBars"] == 32
    assert config["maxVariations"] == 4
    assert 'src="/static/studio/studio.js"' in page
    assert 'id="roll"' in page
    assert 'href="/studio/"' in page  # in the header


def test_the_samples_are_short_public_domain_tunes_not_chorales():
    from generation.engine.midi_io import load_midi_with_info
    from generation.selectors import SAMPLES_DIR, sample_list

    for sample in sample_list():
        _pm, info = load_midi_with_info(SAMPLES_DIR / f"{sample['slug']}.mid")
        assert info.n_bars <= 32
        assert info.n_tracks == 1


@pytest.mark.parametrize("url", ["/challenges/", "/accounts/login/"])
def test_pages_fit_a_phone(client, url):
    page = client.get(url).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    style = page.split("<style>")[1].split("</style>")[0]
    assert "flex-wrap: wrap" in style.split("header {")[1].split("}")[0]
    assert "@media (max-width: 640px)" in style
    assert not re.search(r"(?<!max-)width:\s*\d{3,}px", style)  # no fixed page widths


def test_jobs_in_the_admin_are_for_superusers_only(client, users, make_user, media_root, sent):
    from chartbusters.accounts.roles import Role
    from generation.services.jobs import job_create
    from tests.studio.conftest import notes_json

    job = job_create(owner=users["entrant"], model_name="arcnn", notes=notes_json())[0]
    client.force_login(make_user("orga", role=Role.ORGANIZER))
    assert client.get("/admin/generation/generationjob/").status_code == 403
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    assert client.get("/admin/generation/generationjob/").status_code == 200
    assert client.get(f"/admin/generation/generationjob/{job.pk}/change/").status_code == 200
