"""The studio in a real (headless) Chromium: play a melody on the keyboard, generate with every registered model,
hear it (an audio element with a duration above zero), chain two models, go back a version, save, submit, and see
the entry under "My submissions". Then every page at 390 px: nothing wider than the screen, header links on the
header, score charts inside their cards. Screenshots: var/test-artifacts/browser/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chartbusters.accounts.roles import Role
from chartbusters.challenges.models import Challenge
from generation.engine.registry import generator_names
from tests.conftest import TEST_PASSWORD
from tests.factories import ChallengeFactory, entry_create, entry_score, rendering_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
TIMEOUT_MS = 60_000
DOCS_SCREENSHOTS = os.environ.get("STUDIO_DOCS_SCREENSHOTS") == "1"  # also write docs/screenshot-studio*.png
REPO_DOCS = Path(__file__).resolve().parents[2] / "docs"


# Counts every Web Audio source that starts (oscillators of the page's synthesizer, buffer sources), and every
# AnalyserNode: "sound starts" is a started source, whatever the headless browser's output device does.
SOUND_SPY = """
window.__sources = 0;
const start = AudioScheduledSourceNode.prototype.start;
AudioScheduledSourceNode.prototype.start = function (...args) { window.__sources++; return start.apply(this, args); };
"""


def _watch(page) -> list[str]:
    """Page errors and console errors (a failed resource, an uncaught exception) of ``page``, collected."""
    problems: list[str] = []
    page.add_init_script(SOUND_SPY)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    return problems


def _sources(page) -> int:
    return page.evaluate("window.__sources")


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _wait_job_done(page, count: int) -> None:
    """Wait until ``count`` versions are listed and the newest variation's audio has loaded (duration > 0)."""
    page.wait_for_function(
        "(n) => document.querySelectorAll('#history li').length >= n", arg=count, timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => { const a = document.querySelector('.variation-audio'); return a && a.duration > 0; }",
        timeout=TIMEOUT_MS)


def _generate(page, model: str, versions_after: int) -> float:
    page.select_option("#model", model)
    iterations = page.locator("#param-iterations")
    if iterations.count():
        iterations.fill("20")
    page.click("#generate")
    _wait_job_done(page, versions_after)
    return page.evaluate("document.querySelector('.variation-audio').duration")


def test_compose_generate_listen_chain_go_back_save_submit(browser, live_server, make_user, studio_worker, artifacts):
    make_user("newcomer", role=Role.ENTRANT)
    challenge = ChallengeFactory(slug="melody-go-round", kind=Challenge.Kind.MELODY_GO_ROUND,
                                 title="Melody-Go-Round")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    errors = _watch(page)
    _login(page, base, "newcomer")
    page.goto(f"{base}/studio/")
    page.wait_for_selector("#studio:not([hidden])")

    # play a melody on the computer keyboard: fast tempo, one bar of count-in, then eight notes
    page.fill("#tempo", "200")
    page.click("#record")
    page.wait_for_function("document.getElementById('rec-status').textContent.startsWith('Recording')",
                           timeout=10_000)
    for key in "asdfgfds":
        page.keyboard.down(key)
        page.wait_for_timeout(120)
        page.keyboard.up(key)
        page.wait_for_timeout(40)
    page.click("#record")
    notes = page.evaluate("window.studio.song.tracks[0].notes")
    assert len(notes) >= 6, notes
    assert all(isinstance(n[1], int) and n[2] >= 1 for n in notes)  # on the sixteenth grid
    page.screenshot(path=str(artifacts / "studio-1-played.png"), full_page=True)
    assert errors == []

    # hear it: ▶ Play starts one source per note at once, and becomes ■ Stop until it ends
    before = _sources(page)
    page.click("#play-roll")
    assert _sources(page) - before >= len(notes)
    assert page.locator("#play-roll").inner_text() == "■ Stop"
    page.click("#play-roll")
    assert page.locator("#play-roll").inner_text() == "▶ Play"
    assert errors == []

    # generate with every registered model (each hears its audio)
    models = generator_names()
    for index, model in enumerate(models, start=1):
        if index > 1:
            page.click("#history li:first-child .make-current")  # back to the melody for the next model
        duration = _generate(page, model, versions_after=index + 1)
        assert duration > 0, model
        assert errors == [], model
    page.screenshot(path=str(artifacts / "studio-2-generated.png"), full_page=True)

    # every version has a player: the melody you played (v0) by the page's synthesizer, the others their audio
    items = page.locator("#history li")
    assert "v0 · your melody" in items.first.inner_text()
    before = _sources(page)
    items.first.locator(".play-version").click()
    page.wait_for_function("(n) => window.__sources > n", arg=before, timeout=5_000)
    items.first.locator(".play-version").click()  # stop
    for i in range(1, items.count()):
        assert items.nth(i).locator("audio").count() == 1
    assert errors == []

    # chain: apply a model to the current result; every version stays listed
    before = page.locator("#history li").count()
    _generate(page, models[-1], versions_after=before + 1)
    assert page.locator("#history li").count() == before + 1
    chained = page.locator("#history li").last.locator("strong").inner_text()
    assert " on v" in chained

    # go back a version, compare two side by side
    page.locator("#history li").nth(1).locator(".make-current").click()
    assert "(current)" in page.locator("#history li").nth(1).inner_text()
    page.locator("#history li").nth(1).locator(".compare-box").check()
    page.locator("#history li").nth(before).locator(".compare-box").check()
    assert page.locator("#compare canvas").count() == 2
    page.screenshot(path=str(artifacts / "studio-3-versions.png"), full_page=True)

    # save, then submit from My compositions in one click
    page.fill("#save-title", "My first studio piece")
    page.click("#save-form button[type=submit]")
    page.wait_for_function("document.getElementById('save-status').textContent.startsWith('Saved')",
                           timeout=10_000)
    page.goto(f"{base}/compositions/")
    row = page.locator("tr", has_text="My first studio piece")
    row.locator("input[name=accept_licence]").check()
    row.locator("button", has_text="Submit to").click()
    page.wait_for_load_state()
    page.goto(f"{base}/submissions/mine/")
    assert "My first studio piece" in page.content()
    page.screenshot(path=str(artifacts / "studio-4-submitted.png"), full_page=True)
    assert challenge.submissions.count() == 1

    # the versions outlive the page: a reload lists them (loaded on demand), and one can become current again
    page.goto(f"{base}/studio/")
    page.wait_for_function("document.querySelectorAll('#history li').length >= 2", timeout=10_000)  # the 2 jobs
    assert "earlier" in page.locator("#history li").first.inner_text()
    page.locator("#history li").first.locator(".make-current").click()
    page.wait_for_function("window.studio.song.tracks.some((t) => t.notes.length > 0)", timeout=10_000)
    labels = [items.nth(i).locator("strong").inner_text() for i in range(items.count())]
    assert all(label.startswith(f"v{i} · ") for i, label in enumerate(labels)), labels  # one naming, no "#N"
    assert errors == []
    context.close()


def test_piano_roll_edits_with_mouse_and_keyboard(browser, live_server, make_user, artifacts):
    make_user("editor", role=Role.ENTRANT)
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    errors = _watch(page)
    _login(page, live_server.url, "editor")
    page.goto(f"{live_server.url}/studio/")
    page.click("#generate")  # nothing to work on yet: an error in the status line...
    assert "no notes yet" in page.locator("#generate-status").inner_text()
    page.select_option("#sample", "twinkle")
    page.wait_for_function("window.studio.song.tracks[0].notes.length > 10", timeout=10_000)
    assert page.locator("#generate-status").inner_text() == ""  # ...gone once something worked
    count = page.evaluate("window.studio.song.tracks[0].notes.length")
    assert page.locator("#track").input_value() == "0"  # new notes go to the tune's track
    roll = page.locator("#roll")
    page.locator("#roll-wrap").evaluate("(e) => e.scrollIntoView({block: 'start'})")  # its top row on screen
    box = page.locator("#roll-wrap").bounding_box()
    # add a note by clicking an empty cell (the top visible row is above the tune): added, drawn and heard at
    # once (one click), then undo it (button), redo it (Ctrl+Shift+Z), undo again (Ctrl+Z)
    x, y = box["x"] + 36 + 14 * 2 + 3, box["y"] + 4
    blank = page.evaluate("""([x, y]) => { const r = document.getElementById('roll').getBoundingClientRect();
        return Array.from(document.getElementById('roll').getContext('2d')
          .getImageData((x - r.left + 4) * devicePixelRatio, (y - r.top) * devicePixelRatio, 1, 1).data); }""",
                          [x, y])
    before = _sources(page)
    page.mouse.click(x, y)
    assert page.evaluate("window.studio.song.tracks[0].notes.length") == count + 1
    assert _sources(page) == before + 1
    drawn = page.evaluate("""([x, y]) => { const r = document.getElementById('roll').getBoundingClientRect();
        return Array.from(document.getElementById('roll').getContext('2d')
          .getImageData((x - r.left + 4) * devicePixelRatio, (y - r.top) * devicePixelRatio, 1, 1).data); }""",
                          [x, y])
    assert drawn != blank  # the note is on the roll
    page.click("#undo")
    assert page.evaluate("window.studio.song.tracks[0].notes.length") == count
    page.keyboard.press("Control+Shift+Z")
    assert page.evaluate("window.studio.song.tracks[0].notes.length") == count + 1
    page.keyboard.press("Control+Z")
    assert page.evaluate("window.studio.song.tracks[0].notes.length") == count
    # keyboard: focus the roll, Enter adds a note at the cursor, Shift+Right lengthens it, Delete removes it
    roll.focus()
    page.keyboard.press("Enter")
    added = page.evaluate("window.studio.song.tracks[0].notes.at(-1)")
    page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate("window.studio.song.tracks[0].notes.at(-1)")[2] == added[2] + 1
    page.keyboard.press("ArrowRight")  # move it one step later
    assert page.evaluate("window.studio.song.tracks[0].notes.at(-1)")[1] == added[1] + 1
    page.keyboard.press("Delete")
    assert page.evaluate("window.studio.song.tracks[0].notes.length") == count
    page.click("#clear")
    assert page.evaluate("window.studio.song.tracks[0].notes.length") == 0
    assert errors == []
    context.close()


PHONE_PAGES = ["/challenges/", "/challenges/melody-go-round/", "/challenges/melody-go-round/leaderboard/",
               "/submissions/mine/", "/compositions/", "/studio/", "/challenges/melody-go-round/submit/", "/train/",
               "/models/", "/learn/", "/learn/arcnn/", "/learn/gan/", "/learn/transformer/", "/learn/training/"]
MIN_LABEL_PX = 11  # the smallest text a table or chart may show on a phone

# Tables and score charts at the phone's width: the tables that overflow their box (sideways scrolling), the text of
# tables and charts drawn under MIN_LABEL_PX (an SVG's text counts at its scaled size), the visible header cells
READABILITY = """(minPx) => {
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const wide = Array.from(document.querySelectorAll('table')).filter((t) => {
    const box = t.parentElement;
    return t.getBoundingClientRect().right > document.documentElement.clientWidth + 1
      || box.scrollWidth > box.clientWidth + 1;
  }).map((t) => t.id || t.className || 'table');
  const texts = Array.from(document.querySelectorAll(
      'th, td, .score-chart .bar-label, .score-chart .bar-text, svg text')).filter(shown);
  const small = texts.map((e) => {
    const scale = e instanceof SVGElement && e.ownerSVGElement ? e.ownerSVGElement.getScreenCTM().a : 1;
    return [e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize) * scale];
  }).filter(([text, px]) => text && px < minPx);
  const headers = Array.from(document.querySelectorAll('#leaderboard th')).filter(shown)
    .map((e) => e.textContent.trim());
  // a cell with a sentence in it squeezed into a column a few words wide is not readable either
  const narrow = Array.from(document.querySelectorAll('td')).filter(shown).filter((e) =>
    e.textContent.trim().length > 40 && e.getBoundingClientRect().width < 120)
    .map((e) => e.textContent.trim().slice(0, 30));
  return {wide, small, headers, narrow};
}"""


def test_every_page_fits_a_phone(browser, live_server, make_user, artifacts):
    entrant = make_user("phone", role=Role.ENTRANT)
    other = make_user("rival", role=Role.ENTRANT)
    challenge = ChallengeFactory(slug="melody-go-round", kind=Challenge.Kind.MELODY_GO_ROUND,
                                 title="A rather long challenge title that has to wrap on a phone screen")
    entry = entry_create(challenge=challenge, entrant=entrant, title="An entry with a long title to wrap")
    entry_score(entry, automatic=72.5)
    rendering_create(entry)  # its Listen player
    entry_score(entry_create(challenge=challenge, entrant=other, title="Rival"), automatic=60.0)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = _watch(page)
    _login(page, live_server.url, "phone")
    for path in [*PHONE_PAGES, f"/submissions/{entry.pk}/", "/accounts/login/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state()
        width = page.evaluate("document.documentElement.scrollWidth")
        name = path.strip("/").replace("/", "-") or "home"
        if path == "/studio/":  # every key of the on-screen keyboard is reachable without a swipe
            assert page.evaluate("(k => k.scrollWidth <= k.clientWidth + 1)(document.getElementById('keyboard'))")
        if DOCS_SCREENSHOTS and path == "/studio/":
            page.select_option("#sample", "ode-to-joy")
            page.wait_for_function("window.studio.song.tracks[0].notes.length > 10", timeout=10_000)
            page.screenshot(path=str(REPO_DOCS / "screenshot-studio-phone.png"), full_page=False)
        page.screenshot(path=str(artifacts / f"phone-{name}.png"), full_page=True)
        assert width <= 390, f"{path} lays out {width} px wide at 390 px"
        outside = page.evaluate("""() => {
            const header = document.querySelector('header').getBoundingClientRect();
            return Array.from(document.querySelectorAll('header a, header button')).filter((a) => {
              const r = a.getBoundingClientRect();
              return r.width && (r.top < header.top || r.bottom > header.bottom || r.right > header.right + 1);
            }).map((a) => a.textContent.trim());
        }""")
        assert outside == [], f"{path}: header links outside the header: {outside}"
        spilled = page.evaluate("""() => Array.from(document.querySelectorAll('.score-chart')).filter((chart) => {
              const card = chart.closest('.card, section, main, td').getBoundingClientRect();
              const r = chart.getBoundingClientRect();
              return r.width && r.right > card.right + 1;
            }).length""")
        assert spilled == 0, f"{path}: a score chart spills out of its card"
        if path.endswith("/leaderboard/"):  # open the first row's score chart
            page.evaluate("document.querySelector('#leaderboard details').open = true")
            page.wait_for_selector("#leaderboard .score-chart .bar-label")
        seen = page.evaluate(READABILITY, MIN_LABEL_PX)
        assert seen["wide"] == [], f"{path}: tables need sideways scrolling at 390 px: {seen['wide']}"
        assert seen["small"] == [], f"{path}: text under {MIN_LABEL_PX} px: {seen['small'][:5]}"
        assert seen["narrow"] == [], f"{path}: sentences squeezed into narrow columns: {seen['narrow'][:5]}"
        if path.endswith("/leaderboard/"):
            assert seen["headers"] == ["Rank", "Entrant", "Entry and score", "Listen"], seen["headers"]
            chart_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                                     "'#leaderboard .score-chart .bar-label')).fontSize)")
            assert chart_px >= MIN_LABEL_PX
            page.screenshot(path=str(artifacts / "phone-leaderboard-chart-open.png"), full_page=True)
    assert errors == []
    context.close()


def _outside(song: dict, start: int, end: int) -> dict:
    """Each track's notes that start outside steps [start, end), by track name."""
    return {t["name"]: sorted(n for n in t["notes"] if not start <= n[1] < end) for t in song["tracks"]}


def _studio_with_twinkle(browser, live_server, make_user, username: str):
    """A new entrant's studio (1200 x 1000) with the Twinkle sample loaded: (context, page, errors seen)."""
    make_user(username, role=Role.ENTRANT)
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    errors = _watch(page)
    _login(page, live_server.url, username)
    page.goto(f"{live_server.url}/studio/")
    page.select_option("#sample", "twinkle")
    page.wait_for_function("window.studio.song.tracks[0].notes.length > 10", timeout=10_000)
    return context, page, errors


def test_regenerate_bars_3_and_4_with_the_gan_hear_it_undo_it(browser, live_server, make_user, studio_worker,
                                                             artifacts):
    """The Done-when flow: a melody, heard; bars 3-4 regenerated by the GAN, the rest kept note for note; undone."""
    context, page, errors = _studio_with_twinkle(browser, live_server, make_user, "bars")
    page.fill("#tempo", "132")  # a tempo of your own: the models keep it
    page.dispatch_event("#tempo", "change")
    before = _sources(page)
    page.click("#play-roll")  # hear it
    assert _sources(page) > before
    page.click("#play-roll")
    original = page.evaluate("window.studio.song")
    page.select_option("#model", "gan")
    # choose bars 3-4 on the roll: Shift+drag from a step of bar 3 to a step of bar 4 (14 px a sixteenth)
    box = page.locator("#roll").bounding_box()
    y = page.locator("#roll-wrap").bounding_box()["y"] + 20
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + 36 + 14 * 34, y)
    page.mouse.down()
    page.mouse.move(box["x"] + 36 + 14 * 60, y, steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    assert page.is_checked("#scope-bars")
    assert (page.input_value("#bar-from"), page.input_value("#bar-to")) == ("3", "4")
    assert page.evaluate("window.studio.song") == original  # choosing bars changes no note
    page.click("#generate")
    page.wait_for_function("window.studio.versions.some((v) => v.key.startsWith('bars-'))", timeout=TIMEOUT_MS)
    page.wait_for_function("window.studio.song.tracks.length === 4", timeout=10_000)
    result = page.evaluate("window.studio.song")
    assert original["tempo"] == 132
    job = page.evaluate("window.studio.versions.find((v) => v.key.startsWith('bars-')).key.slice(5)")
    written = page.evaluate("(id) => fetch(`/api/jobs/${id}/notes/`).then((r) => r.json())", job)["output"]
    assert round(written["tempo"]) == 132  # what the model wrote keeps your tempo
    assert result["tempo"] == 132
    start, end = 2 * 16, 4 * 16  # bars 3-4 of 4/4 in sixteenths
    kept = _outside(result, start, end)
    assert kept["melody"] == _outside(original, start, end)["melody"]  # the rest, note for note
    for part in ("Alto", "Tenor", "Bass"):  # the new parts: only in bars 3-4
        notes = next(t["notes"] for t in result["tracks"] if t["name"] == part)
        assert notes, part
        assert all(start <= n[1] and n[1] + n[2] <= end for n in notes), part
    label = page.locator("#history li.current strong").inner_text()
    assert "gan (bars 3–4)" in label, label
    page.screenshot(path=str(artifacts / "studio-bars-regenerated.png"), full_page=True)
    if DOCS_SCREENSHOTS:  # README's picture: the Tempo and Key controls, the roll with the GAN's bars 3-4, the model
        page.set_viewport_size({"width": 1200, "height": 1300})
        page.evaluate("document.getElementById('tempo').closest('.row').scrollIntoView()")
        page.screenshot(path=str(REPO_DOCS / "screenshot-studio.png"), full_page=False)
        page.set_viewport_size({"width": 1200, "height": 1000})
    before = _sources(page)
    page.locator("#history li.current .play-version").click()  # hear the new version
    page.wait_for_function("(n) => window.__sources > n", arg=before, timeout=5_000)
    page.locator("#history li.current .play-version").click()
    with page.expect_download() as download:  # its MIDI file, though no job wrote it
        page.locator("#history li.current .midi").click()
    assert download.value.suggested_filename == "v1.mid"
    with open(download.value.path(), "rb") as fh:
        assert fh.read(4) == b"MThd"
    page.keyboard.press("Control+Z")  # undo the generation: back to the melody as it was
    assert page.evaluate("window.studio.song") == original
    page.keyboard.press("Control+Shift+Z")  # and redo it
    assert page.evaluate("window.studio.song") == result
    assert errors == []
    context.close()


def test_the_key_control_runs_the_job_in_that_key(browser, live_server, make_user, studio_worker, artifacts):
    """Issue 25: the Key control beside Tempo reaches the job (its input's key signature) and the model's new notes
    are in that key, though the tune's notes alone read another (Twinkle: C major)."""
    context, page, errors = _studio_with_twinkle(browser, live_server, make_user, "keys")
    assert page.input_value("#key") == ""  # from the melody
    assert page.locator("#key option").count() == 25
    page.select_option("#model", "gan")
    assert page.locator("#param-key").count() == 0  # the GAN's own key parameter is the studio's Key control
    page.select_option("#model", "arcnn")
    page.fill("#param-iterations", "40")
    page.select_option("#key", "D major")
    assert page.evaluate("window.studio.song.key") == "D major"
    page.click("#generate")
    page.wait_for_function("window.studio.versions.some((v) => v.key.startsWith('job-'))", timeout=TIMEOUT_MS)
    job = page.evaluate("window.studio.versions.find((v) => v.key.startsWith('job-')).jobId")
    notes = page.evaluate("(id) => fetch(`/api/jobs/${id}/notes/`).then((r) => r.json())", job)
    assert notes["input"]["key"] == notes["output"]["key"] == "D major"  # the job ran in D major
    before = {tuple(n[:2]) for t in notes["input"]["tracks"] for n in t["notes"]}
    added = [n[0] for t in notes["output"]["tracks"] for n in t["notes"] if tuple(n[:2]) not in before]
    assert len(added) >= 5
    assert sum(p % 12 in {2, 4, 6, 7, 9, 11, 1} for p in added) / len(added) >= 0.85, added
    assert page.input_value("#key") == "D major"  # the version's stated key, shown
    page.keyboard.press("Control+Z")  # undo the generation, then the key: back to "from the melody"
    page.keyboard.press("Control+Z")
    assert page.input_value("#key") == ""
    assert page.evaluate("window.studio.song.key") is None
    assert errors == []
    context.close()
