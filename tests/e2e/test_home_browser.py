"""In chromium: a new researcher's home page shows the steps of a study and leads to the next action."""

import pytest
from django.urls import reverse

from tests.e2e.browsing import SCREENSHOTS, csp_violations, log_in
from tests.factories import PASSWORD, ResearcherFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STEPS = [
    "1. Import real images",
    "2. Train a GAN or upload synthetic sets",
    "3. Score the synthetic sets",
    "4. Build a study and invite raters",
    "5. Analyse the ratings",
]


def test_a_new_researchers_home_page_shows_the_steps_and_leads_to_the_next_action(browser, live_server):
    researcher = ResearcherFactory()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    violations = csp_violations(page)
    log_in(page, live_server.url, researcher.username, PASSWORD)
    steps = page.locator("ol.steps > li")
    titles = [steps.nth(index).locator("h3").inner_text() for index in range(steps.count())]
    assert titles == [f"{STEPS[0]} NEXT", *STEPS[1:]]  # the badge is set in capitals
    assert "0 real image sets, 0 images." in steps.nth(0).inner_text()
    next_step = page.locator("li.step.next")
    assert next_step.count() == 1 and next_step.get_attribute("id") == "step-import"
    button = next_step.locator("a.button")
    assert button.inner_text() == "Import a zip of images" and button.is_visible()
    assert button.bounding_box()["y"] < 800  # on the first screen, no scrolling
    assert page.locator("section#running-jobs").is_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home-page.png"), full_page=True)
    with page.expect_navigation():
        button.click()
    assert page.url == f"{live_server.url}{reverse('imagesets:imageset-import')}"
    assert violations == []
