"""Training in a real (headless) Chromium: on the Train page choose the AR-CNN, upload folk tunes, set a few
settings, start; the run's page draws the loss curve while it trains (SVG polylines with points) and shows the
progress, then offers the new model, which My models lists with its card and loss plot and the studio preselects.
Runs are executed by the real service (generation.services.training_run) on a thread of the test process, as a
training worker would. Screenshots: var/test-artifacts/browser/ (docs/screenshot-train.png with
STUDIO_DOCS_SCREENSHOTS=1)."""

from __future__ import annotations

import queue
import threading

import pytest

from chartbusters.accounts.roles import Role
from generation.models import TrainingJob
from tests.browser.test_studio_browser import DOCS_SCREENSHOTS, REPO_DOCS, TIMEOUT_MS, _login
from tests.training.conftest import FOLK

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def training_worker(monkeypatch, settings):
    """Runs queued training runs on a background thread once their transaction commits."""
    from django.db import close_old_connections, transaction

    from generation.services.training_run import training_run

    settings.TRAINING_REPORT_SECONDS = 0.3
    runs: queue.Queue = queue.Queue()

    def work():
        while (job_id := runs.get()) is not None:
            try:
                training_run(job_id=job_id)
            finally:
                close_old_connections()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    monkeypatch.setattr("generation.services.training.send_task",
                        lambda name, *, args=(), queue=None, countdown=None:
                        transaction.on_commit(lambda: runs.put(args[0])))
    yield
    runs.put(None)
    thread.join(timeout=120)


def test_train_watch_the_curve_then_use_the_model(browser, live_server, make_user, training_worker, artifacts):
    make_user("learner", role=Role.ENTRANT)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    base = live_server.url
    _login(page, base, "learner")
    page.goto(f"{base}/train/")
    page.check("input[name=model][value=arcnn]")
    assert page.is_visible("fieldset.params[data-model=arcnn]")
    assert not page.is_visible("fieldset.params[data-model=gan]")
    page.set_input_files("#files", [str(p) for p in FOLK[:6]])
    page.select_option("#param-arcnn-start", "scratch")
    page.fill("#param-arcnn-model_size", "4")
    page.fill("#param-arcnn-steps", "200")
    page.fill("#param-arcnn-batch_size", "2")
    page.fill("input[name=name]", "Reels")
    page.click("#start")
    page.wait_for_url(f"{base}/train/*/")
    run = TrainingJob.objects.get()
    # while it trains: a curve with points, a progress bar that moves
    page.wait_for_function("""() => {
        const line = document.querySelector('#loss-chart polyline[data-series="train loss"]');
        return line && line.getAttribute('points').trim().split(' ').length >= 2; }""")
    page.screenshot(path=str(artifacts / "training-live.png"), full_page=True)
    assert page.locator("#loss-legend span").first.text_content() in ("train loss", "valid loss")
    page.wait_for_function("() => document.getElementById('status').textContent === 'done'", timeout=180_000)
    assert page.evaluate("document.getElementById('progress').value") == 100
    assert page.locator('#loss-chart polyline[data-series="valid loss"]').count() == 1
    assert page.is_hidden("#cancel")
    if DOCS_SCREENSHOTS:
        page.screenshot(path=str(REPO_DOCS / "screenshot-train.png"), full_page=True)
    run.refresh_from_db()
    assert run.status == "done"
    assert run.checkpoint is not None
    page.click("#use-model")
    page.wait_for_url(f"{base}/studio/?checkpoint={run.checkpoint_id}")
    page.wait_for_function("() => document.getElementById('checkpoint').value !== ''")
    assert page.input_value("#model") == "arcnn"
    assert page.input_value("#checkpoint") == str(run.checkpoint_id)
    page.goto(f"{base}/models/")
    card = page.locator(f"#model-{run.checkpoint_id}")
    assert "Reels" in card.locator("h2").text_content()
    page.wait_for_function(f"() => document.querySelector('#model-{run.checkpoint_id} img').naturalWidth > 0")
    page.screenshot(path=str(artifacts / "my-models.png"), full_page=True)


def test_a_gan_run_shows_its_losses_and_each_measure_against_the_data(browser, live_server, make_user,
                                                                      training_worker, artifacts, tmp_path):
    from tests.engine.test_training_options import chorale_like

    files = []
    for i in range(5):
        path = tmp_path / f"four-voices-{i}.mid"
        chorale_like(i).write(str(path))
        files.append(str(path))
    make_user("ganner", role=Role.ENTRANT)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    _login(page, live_server.url, "ganner")
    page.goto(f"{live_server.url}/train/")
    page.check("input[name=model][value=gan]")
    page.set_input_files("#files", files)
    page.fill("#param-gan-steps", "12")
    page.fill("#param-gan-model_size", "16")
    page.fill("#param-gan-batch_size", "2")
    page.click("#start")
    page.wait_for_url(f"{live_server.url}/train/*/")
    page.wait_for_function("() => document.getElementById('status').textContent === 'done'", timeout=180_000)
    assert page.locator('#loss-chart polyline[data-series="discriminator loss"]').count() == 1
    assert page.locator('#loss-chart polyline[data-series="generator loss"]').count() == 1
    figures = page.locator("#measures-charts figure")
    assert figures.count() == 4  # in key rate, pitches used, polyphony, empty bar rate
    first = figures.first
    assert first.locator("polyline").count() == 6  # alto, tenor, bass and the data's value of each
    assert first.locator("polyline[stroke-dasharray='6 4']").count() == 3
    page.screenshot(path=str(artifacts / "training-gan.png"), full_page=True)
