import pytest
from playwright.sync_api import sync_playwright

from ratingsite.imagesets.importing import import_image_set
from ratingsite.training.grids import create_grid
from tests.e2e.browsing import CHROMIUM, CHROMIUM_FLAGS, require_chromium
from tests.images import hc18_folder


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API keeps an event loop running in this thread, and Django refuses database calls
    # from a thread with a running loop unless told that this one is safe: the test's own calls are.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def grid_sets(hc18_dir, tmp_path, run_worker):
    """A tiny experiment grid (two subset sizes, one epoch) trained, generated and scored by the rq worker."""
    folder = hc18_folder(hc18_dir, tmp_path / "real", 20)
    real = import_image_set(folder, name="HC18 20").image_set
    grid = create_grid(
        name="tiny grid",
        dataset=real,
        architecture="dcgan64",
        subset_sizes=[8, 16],
        snapshot_epochs=[1],
        learning_rates=[2e-4],
        images_per_set=12,
        seed=0,
        batch_size=8,
    )
    run_worker()
    return real, [run.snapshots.get().generated_sets.get().image_set for run in grid.runs.all()]
