"""End to end in a real browser: a researcher watches a training run's page while the rq worker trains it.

The worker runs in this thread, as the suite's `run_worker` runs it; the browser runs in a thread of its own
and talks to the live server only. So that "while it trains" does not depend on how fast this machine is,
the trainer waits after epoch 3 (of 6) until the browser has seen that epoch on the page.
"""

import threading
import time

import pytest
from playwright.sync_api import expect, sync_playwright

import synthesis.training
from ratingsite.imagesets.importing import import_image_set
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import PROGRESS_INTERVAL
from ratingsite.training import jobs as training_jobs
from ratingsite.training.models import TrainingRun
from tests.e2e.browsing import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS, csp_violations, log_in, require_chromium
from tests.factories import PASSWORD, ResearcherFactory
from tests.images import hc18_folder

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EPOCHS = 6
LOOKED_AT_EPOCH = 3
WAIT_SECONDS = 120


class BrowserThread(threading.Thread):
    """Runs ``look(page)`` in a chromium of its own; ``error`` holds what went wrong, if anything."""

    def __init__(self, look):
        super().__init__(daemon=True)
        self.look = look
        self.error = None

    def run(self):
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                try:
                    self.look(browser.new_page(viewport={"width": 1280, "height": 900}))
                finally:
                    browser.close()
        except BaseException as error:  # handed to the test's thread
            self.error = error


def pause_after(epoch, until):
    """`synthesis.training.train` as it is, but waiting after ``epoch`` until the event ``until``."""
    train = synthesis.training.train

    def train_with_a_pause(config, images, out_dir, progress=None, should_stop=None):
        def report(done, epochs, record):
            if done == epoch:
                time.sleep(PROGRESS_INTERVAL)  # so that the job's row is not spared this epoch's report
            progress(done, epochs, record)
            if done == epoch:
                assert until.wait(WAIT_SECONDS), f"nobody looked at epoch {epoch}"

        return train(config, images, out_dir, progress=report, should_stop=should_stop)

    return train_with_a_pause


def test_the_run_page_shows_the_loss_curve_and_latest_epoch_while_the_run_trains(
    live_server, hc18_dir, tmp_path, run_worker, monkeypatch
):
    require_chromium()
    researcher = ResearcherFactory()
    real = import_image_set(hc18_folder(hc18_dir, tmp_path / "real", 16), name="HC18 16").image_set
    run = TrainingRun(
        name="watched run", dataset=real, architecture="dcgan64", train_images=16, epochs=EPOCHS,
        snapshot_epochs=[EPOCHS], batch_size=8, ngf=8, ndf=8, created_by=researcher,
    )  # fmt: skip
    run.full_clean()
    run.save()
    run_url = f"{live_server.url}{run.get_absolute_url()}"
    logged_in, looked = threading.Event(), threading.Event()
    seen = {}

    def look(page):
        try:
            violations = csp_violations(page)
            log_in(page, live_server.url, researcher.username, PASSWORD)
            logged_in.set()
            page.goto(run_url)
            # Opened while queued or early on, the page reloads itself until the paused trainer's epoch shows in
            # the job's row, which the trainer reports after appending the epoch to the run's history.
            status = page.locator("dt:text-is('Status') + dd")
            expect(status).to_contain_text(f"epoch {LOOKED_AT_EPOCH} / {EPOCHS}", timeout=WAIT_SECONDS * 1000)
            seen["status"] = status.inner_text()
            seen["latest"] = page.locator("p.latest-epoch").inner_text()
            seen["refreshes"] = page.locator("meta[http-equiv=refresh]").count()
            seen["cancel"] = page.get_by_role("button", name="Cancel").count()
            curve = page.locator("img.loss-curve")
            curve.evaluate("img => img.decode()")
            seen["curve"] = curve.evaluate("img => [img.naturalWidth, img.naturalHeight]")
            seen["curve_src"] = curve.get_attribute("src")
            page.screenshot(path=str(SCREENSHOTS / "run-page-mid-training.png"), full_page=True)
        finally:
            logged_in.set()
            looked.set()
        expect(status).to_contain_text("finished", timeout=WAIT_SECONDS * 1000)
        seen["finished"] = page.locator("p.latest-epoch").inner_text()
        seen["refreshes_when_finished"] = page.locator("meta[http-equiv=refresh]").count()
        seen["violations"] = violations

    # The training job imports the trainer when it runs (so that the site starts without torch): it finds this.
    monkeypatch.setattr(synthesis.training, "train", pause_after(LOOKED_AT_EPOCH, until=looked))
    job = training_jobs.enqueue_training(run, created_by=researcher)
    browsing = BrowserThread(look)
    browsing.start()
    assert logged_in.wait(WAIT_SECONDS)  # the login's writes are done before the worker's begin
    run_worker()
    browsing.join(WAIT_SECONDS)
    if browsing.error is not None:
        raise browsing.error
    assert not browsing.is_alive()

    job.refresh_from_db()
    assert job.status == Job.Status.FINISHED, job.error
    assert seen["latest"].startswith(f"Epoch {LOOKED_AT_EPOCH} of {EPOCHS}: D loss")
    assert seen["status"].startswith("running")
    assert seen["refreshes"] == 1 and seen["cancel"] == 1
    assert seen["curve"] == [800, 600] and seen["curve_src"].endswith(f"?epochs={LOOKED_AT_EPOCH}")
    assert seen["finished"].startswith(f"Epoch {EPOCHS} of {EPOCHS}: D loss")
    assert seen["refreshes_when_finished"] == 0
    assert seen["violations"] == []
    assert [record["epoch"] for record in run.history()] == list(range(1, EPOCHS + 1))
