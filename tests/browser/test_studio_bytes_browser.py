"""What the studio downloads, counted by Chromium itself (the DevTools protocol's bytes received per request,
headers included; a response served from the browser's cache counts 0): loading a studio that lists 11 versions of
8 bars stays under 1.5 MB, "Make current" under 100 KB, and each version's audio is downloaded once however often
it is played or made current. Figures printed (-s) go to benchmarks/README.md."""

from __future__ import annotations

import json
import time

import pytest

from chartbusters.accounts.roles import Role
from generation.services.jobs import job_create
from generation.services.running import job_run
from tests.browser.test_studio_browser import _login, _watch

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
LOAD_LIMIT = 1_500_000
MAKE_CURRENT_LIMIT = 100_000


def _eight_bars() -> str:
    """Eight bars of 4/4 at 120 bpm: a scale up and down in quarter notes (32 notes)."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    pitches = (scale + scale[::-1]) * 2
    notes = [[p, i * 4, 4, 90] for i, p in enumerate(pitches)]
    return json.dumps({"tempo": 120, "time_signature": [4, 4],
                       "tracks": [{"name": "melody", "program": 0, "is_drum": False, "notes": notes}]})


class Traffic:
    """Bytes received per URL since the last reset(), from Network.loadingFinished."""

    def __init__(self, page):
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        self.cached: list[str] = []
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.append(self.urls.get(e["requestId"], "")))
        cdp.on("Network.loadingFinished", self._finished)

    def _finished(self, event):
        url = self.urls.get(event["requestId"], "?")
        self.bytes[url] = self.bytes.get(url, 0) + int(event["encodedDataLength"])

    def reset(self):
        self.bytes.clear()
        self.cached.clear()

    @property
    def total(self) -> int:
        return sum(self.bytes.values())

    def audio(self) -> dict[str, int]:
        return {u: b for u, b in self.bytes.items() if "/files/job-audio/" in u and b > 0}


def test_a_studio_with_11_versions_loads_little_and_fetches_each_audio_once(browser, live_server, make_user,
                                                                             settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    user = make_user("listener", role=Role.ENTRANT)
    parent = None
    for _ in range(11):  # 11 versions of 8 bars, each made from the one before (a chain, as in the studio)
        kwargs = {"parent_id": parent.pk} if parent else {"notes": _eight_bars()}
        parent = job_create(owner=user, model_name="arcnn", params={"iterations": 2}, **kwargs)[0]
        job_run(job_id=parent.pk)
        parent.refresh_from_db()
        assert parent.status == "done", parent.error
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    errors = _watch(page)
    _login(page, live_server.url, "listener")
    traffic = Traffic(page)

    traffic.reset()
    page.goto(f"{live_server.url}/studio/")
    page.wait_for_function("document.querySelectorAll('#history li').length === 11", timeout=20_000)
    page.wait_for_load_state("networkidle")
    loaded = traffic.total
    print(f"\nload with 11 versions: {loaded:,} bytes ({len(traffic.bytes)} requests)")
    assert loaded <= LOAD_LIMIT, traffic.bytes

    items = page.locator("#history li")
    audio_sizes = []
    for n, i in enumerate((0, 5, 10, 5, 0)):  # a version, others, then back again
        first_play = n < 3
        traffic.reset()
        items.nth(i).locator(".make-current").click()
        page.wait_for_function("(i) => document.querySelectorAll('#history li')[i].classList.contains('current')",
                               arg=i, timeout=10_000)
        # play its audio to the end of loading: the first time it is downloaded, then never again
        items.nth(i).locator("audio").evaluate("(a) => { a.muted = true; return a.play(); }")
        # this version's own player (not the i-th player of the list: not every version has one)
        page.wait_for_function(
            "(i) => document.querySelectorAll('#history li')[i].querySelector('audio').readyState >= 3",
            arg=i, timeout=10_000)
        if first_play:  # its download finishes (CDP's loadingFinished) before we count
            deadline = time.monotonic() + 15
            while not traffic.audio() and time.monotonic() < deadline:
                page.wait_for_timeout(100)
        else:  # played again: give a request that should not come the time to come
            page.wait_for_timeout(1000)
        items.nth(i).locator("audio").evaluate("(a) => a.pause()")
        made_current = traffic.total - sum(traffic.audio().values())
        audio_sizes.append(sum(traffic.audio().values()))
        print(f"make current v{i}: {made_current:,} bytes besides audio; audio {audio_sizes[-1]:,} bytes")
        assert made_current <= MAKE_CURRENT_LIMIT, traffic.bytes
    assert min(audio_sizes[:3]) > 0, audio_sizes  # the first plays download it
    assert audio_sizes[3:] == [0, 0], audio_sizes  # played again: from the browser's cache
    assert max(audio_sizes) <= MAKE_CURRENT_LIMIT * 5  # MP3: an 8-bar version is ~0.2 MB (WAV was 3.5 MB)
    assert errors == []
    context.close()
