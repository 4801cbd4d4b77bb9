"""End to end in a real browser (Playwright + Debian's chromium): a study from grid sets, rated by keyboard."""

import re

import pytest

from ratingsite.studies.models import Participation, Rating, Study, StudyItem
from tests.e2e.browsing import SCREENSHOTS, csp_violations, log_in
from tests.factories import PASSWORD, ResearcherFactory
from tests.invitations import RATER_PASSWORD, invitation_link

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def current_token(page):
    return re.search(r"/studies/images/([\w-]+)\.png", page.locator("img.study-image").get_attribute("src")).group(1)


def rate_with_keyboard(page, answer_key, quality_key, confidence_key="4"):
    token = current_token(page)
    page.keyboard.press(answer_key)
    page.keyboard.press(quality_key)
    page.keyboard.press(f"Shift+{confidence_key}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return token


def test_researcher_sets_up_a_study_and_a_rater_completes_it(browser, live_server, grid_sets, run_worker):
    real, synthetic_sets = grid_sets
    researcher = ResearcherFactory()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    violations = csp_violations(page)
    log_in(page, live_server.url, researcher.username, PASSWORD)

    page.goto(f"{live_server.url}/studies/new/")
    page.fill("#id_name", "Browser study")
    page.fill("#id_rater_title", "Head images")
    page.fill("#id_display_size", "320")
    page.select_option("#id_sources-0-image_set", str(real.pk))
    page.fill("#id_sources-0-count", "4")
    for index, image_set in enumerate(synthetic_sets, start=1):
        page.select_option(f"#id_sources-{index}-image_set", str(image_set.pk))
        page.fill(f"#id_sources-{index}-count", "3")
    with page.expect_navigation():
        page.click("text=Create the study")
    run_worker()
    study = Study.objects.get()
    assert study.items.count() == 10

    page.goto(f"{live_server.url}{study.get_absolute_url()}")
    page.fill("#id_username", "dr_rater")
    page.select_option("#id_profession", "clinician")
    page.fill("#id_years_of_experience", "9")
    with page.expect_navigation():
        page.click("button:has-text('Invite')")
    link = invitation_link(page.content())
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "study-page.png"), full_page=True)
    # Before the first rating the study can be edited, closed or deleted; its page offers each.
    assert page.locator("text=Edit the study").is_visible() and page.locator("text=Close to raters").is_visible()
    assert "Invited dr_rater. Send them this link to set their password" in page.locator(".message").inner_text()
    with page.expect_navigation():
        page.click("text=Log out")

    page.goto(link)
    assert "Welcome, dr_rater" in page.content()
    page.fill("#id_new_password1", RATER_PASSWORD)
    page.fill("#id_new_password2", RATER_PASSWORD)
    with page.expect_navigation():
        page.click("text=Set my password and start")
    with page.expect_navigation():
        page.click("text=Head images")
    assert "decide whether it is a real ultrasound image" in page.content() and "Quality scale" in page.content()
    with page.expect_navigation():
        page.click("text=I agree to take part")
    rater = Participation.objects.get().rater
    order = [StudyItem.objects.get(pk=pk).token for pk in study.order_for(rater)]

    rated = [
        rate_with_keyboard(page, key, str(quality), str(confidence))
        for key, quality, confidence in [("r", 4, 5), ("s", 2, 1), ("r", 5, 3)]
    ]
    assert rated == order[:3]
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "rating-page-1280x800.png"))
    page.reload()
    assert current_token(page) == order[3]  # resumes at the right image
    rated += [rate_with_keyboard(page, key, "3") for key in ("s", "r")]
    assert rated == order[:5]
    assert [(r.answer, r.quality, r.confidence) for r in Rating.objects.order_by("pk")] == [
        ("real", 4, 5),
        ("synthetic", 2, 1),
        ("real", 5, 3),
        ("synthetic", 3, 4),
        ("real", 3, 4),
    ]
    assert all(r.viewing_ms is not None for r in Rating.objects.all())
    while "You have rated every image" not in page.content():
        rate_with_keyboard(page, "s", "3")
    assert Rating.objects.count() == 10
    assert violations == []


@pytest.mark.parametrize("width, height", [(1280, 800), (1024, 768)])
def test_rating_page_fits_and_never_rescales_images(browser, live_server, grid_sets, run_worker, width, height):
    real, synthetic_sets = grid_sets
    study = Study.objects.create(name="Viewport study", instructions="Rate.", display_size=320, seed=1)
    study.sources.create(image_set=real, count=2)
    study.sources.create(image_set=synthetic_sets[0], count=2)
    from ratingsite.studies.jobs import enqueue_preparation

    enqueue_preparation(study)
    run_worker()
    rater = ResearcherFactory()
    Participation.objects.create(study=study, rater=rater, consented="2026-01-01T00:00:00Z")
    page = browser.new_page(viewport={"width": width, "height": height})
    violations = csp_violations(page)
    log_in(page, live_server.url, rater.username, PASSWORD)
    for _ in range(4):
        page.goto(f"{live_server.url}/studies/{study.pk}/rate/")
        image = page.locator("img.study-image")
        image.evaluate("img => img.decode()")
        natural, shown = (
            image.evaluate("img => [img.naturalWidth, img.naturalHeight, img.clientWidth, img.clientHeight]")[:2],
            None,
        )
        shown = image.evaluate("img => [img.clientWidth, img.clientHeight]")
        assert natural == shown == [320, 320]
        assert "5: excellent" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        box = page.locator("#rating-form button[type=submit]").bounding_box()
        assert box["y"] + box["height"] <= height
        page.screenshot(path=str(SCREENSHOTS / f"rating-page-{width}x{height}.png"))
        rate_with_keyboard(page, "r", "3")
    assert violations == []
