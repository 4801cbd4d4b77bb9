"""End to end in chromium: a study with all four protocol options (attention checks, images shown twice, a
practice round, timed exposure), done by one rater with the keyboard on a 1024x768 screen."""

import re
from urllib.parse import parse_qs

import numpy as np
import pytest

from ratingsite.imagesets.importing import import_image_set
from ratingsite.studies.jobs import enqueue_preparation
from ratingsite.studies.models import Participation, PracticeAnswer, Rating, Study, StudyItem
from tests.e2e.browsing import SCREENSHOTS, csp_violations, log_in
from tests.factories import PASSWORD, RaterFactory, ResearcherFactory
from tests.images import hc18_folder, png_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXPOSURE_MS = 600
IMAGE_PATH = "/studies/images/"


def noise_set(folder, name, count, seed):
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for number in range(count):
        (folder / f"{number:04d}.png").write_bytes(png_bytes(rng.integers(0, 256, size=(64, 64), dtype=np.uint8)))
    return import_image_set(folder, name=name, kind="synthetic").image_set


@pytest.fixture
def protocol_study(hc18_dir, tmp_path, run_worker):
    real = import_image_set(hc18_folder(hc18_dir, tmp_path / "real", 8), name="HC18 8").image_set
    study = Study.objects.create(
        name="Careful study",
        instructions="Real or synthetic?",
        display_size=320,
        seed=3,
        repeat_count=2,
        exposure_ms=EXPOSURE_MS,
        created_by=ResearcherFactory(),
    )
    study.sources.create(image_set=real, count=8)
    study.sources.create(image_set=noise_set(tmp_path / "model", "model", 6, 0), count=6)
    study.sources.create(
        image_set=noise_set(tmp_path / "early", "early", 3, 1),
        count=3,
        attention_check=True,
        expected_answer="synthetic",
    )
    study.sources.create(
        image_set=noise_set(tmp_path / "practice", "practice", 2, 2), count=2, practice=True, note="Noise, plainly."
    )
    enqueue_preparation(study)
    run_worker()
    study.refresh_from_db()
    assert study.is_open, study.job.error
    return study


def kind_of(study):
    attention = set(study.sources.get(attention_check=True).image_set.images.values_list("pk", flat=True))
    return {
        item.token: "repeat"
        if item.role == StudyItem.Role.REPEAT
        else "attention"
        if item.image_id in attention
        else ("real" if item.is_real else "synthetic")
        for item in study.items.exclude(role=StudyItem.Role.PRACTICE)
    }


def token_of(url):
    return re.search(r"/studies/images/([\w-]+)\.png", url).group(1)


def expect_masked(page):
    """The image is gone after the exposure, a grey square of its size in its place."""
    page.locator("img.study-image").wait_for(state="hidden", timeout=5000)
    assert page.evaluate("document.querySelector('.study-image').getAttribute('src')") is None
    mask = page.locator("canvas.study-mask")
    assert mask.is_visible() and mask.evaluate("m => [m.clientWidth, m.clientHeight]") == [320, 320]


def answer(page, keys):
    for key in keys:
        page.keyboard.press(key)
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value


def test_a_rater_practises_then_rates_repeats_and_attention_items_indistinguishably(
    browser, live_server, protocol_study
):
    study = protocol_study
    rater = RaterFactory()
    Participation.objects.create(study=study, rater=rater)
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    violations = csp_violations(page)
    log_in(page, live_server.url, rater.username, PASSWORD)
    page.goto(f"{live_server.url}/studies/{study.pk}/start/")
    assert "You will first rate 2 practice images" in page.content() and "Then come 19 study images." in page.content()

    with page.expect_navigation():
        page.click("text=I agree to take part")
    practice = dict(study.items.filter(role=StudyItem.Role.PRACTICE).values_list("token", "is_real"))
    for _ in range(2):
        assert page.url.endswith(f"/studies/{study.pk}/practice/")
        token = token_of(page.locator("img.study-image").get_attribute("src"))
        assert token in practice
        expect_masked(page)
        answer(page, ["r", "2", "Shift+3"])
        truth = "real" if practice[token] else "synthetic"
        assert f"This image was {truth}." in page.content() and "Noise, plainly." in page.content()
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert page.url.endswith(f"/studies/{study.pk}/rate/")
    assert PracticeAnswer.objects.filter(rater=rater).count() == 2 and not Rating.objects.exists()

    kind = kind_of(study)
    pages, headers = {}, {}
    html = None
    for number in range(19):
        assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight"), "the page scrolls"
        token = token_of(page.locator("img.study-image").get_attribute("src"))
        if number == 0:
            expect_masked(page)
            page.screenshot(path=str(SCREENSHOTS / "rating-page-masked-1024x768.png"))
        if html is not None:
            markup = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.replace(token, "TOKEN"))
            pages.setdefault(kind[token], set()).add(re.sub(r'<p class="rating-progress">.*?</p>', "", markup))
        if number == 18:
            answer(page, ["s", "3", "Shift+4"])
            break
        with (
            page.expect_request(lambda request: request.method == "POST") as posted,
            page.expect_response(lambda response: IMAGE_PATH in response.url) as image,
        ):
            html = answer(page, ["s", "3", "Shift+4"]).text()
        if number == 0:
            # What the page measured, before the server's bound: from the image's load to the mask.
            measured = int(parse_qs(posted.value.post_data)["viewing_ms"][0])
            assert EXPOSURE_MS <= measured < EXPOSURE_MS + 100, measured
        shown = {name: value for name, value in image.value.all_headers().items() if name != "date"}
        headers.setdefault(kind[token_of(image.value.url)], set()).add(tuple(sorted(shown.items())))
    assert "You have rated every image" in page.content()

    assert set(pages) == {"real", "synthetic", "attention", "repeat"}
    assert len({frozenset(markups) for markups in pages.values()}) == 1 and len(pages["repeat"]) == 1
    assert len({frozenset(values) for values in headers.values()}) == 1 and len(headers["repeat"]) == 1
    ratings = Rating.objects.filter(rater=rater)
    assert ratings.count() == 19 and ratings.filter(item__role=StudyItem.Role.REPEAT).count() == 2
    assert all(0 < rating.viewing_ms <= EXPOSURE_MS for rating in ratings)
    first = ratings.get(item_id=Participation.objects.get(rater=rater).order[0])
    assert first.viewing_ms == EXPOSURE_MS  # masked before the answer: the viewing time is the exposure
    assert violations == []


def test_a_rater_enlarges_every_image_to_the_screen_the_same_way(browser, live_server, hc18_dir, tmp_path, run_worker):
    real = import_image_set(hc18_folder(hc18_dir, tmp_path / "real", 2), name="HC18 2").image_set
    study = Study.objects.create(name="Viewing", rater_title="Images", instructions="Rate.", display_size=320, seed=1)
    study.sources.create(image_set=real, count=2)
    study.sources.create(image_set=noise_set(tmp_path / "model", "model", 2, 0), count=2)
    enqueue_preparation(study)
    run_worker()
    rater = RaterFactory()
    Participation.objects.create(study=study, rater=rater, consented="2026-01-01T00:00:00Z")
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    violations = csp_violations(page)
    log_in(page, live_server.url, rater.username, PASSWORD)
    page.goto(f"{live_server.url}/studies/{study.pk}/rate/")
    image = page.locator("img.study-image")
    sizes = []
    for number in range(4):
        image.evaluate("img => img.decode()")
        page.keyboard.press("f")
        page.locator(".study-view:fullscreen").wait_for(timeout=5000)
        sizes.append(image.evaluate("img => [img.clientWidth, img.clientHeight]"))
        if number == 0:
            page.screenshot(path=str(SCREENSHOTS / "rating-page-zoomed-1024x768.png"))
        page.keyboard.press("f")
        page.locator(".study-view:fullscreen").wait_for(state="detached", timeout=5000)
        assert image.evaluate("img => [img.clientWidth, img.clientHeight]") == [320, 320]
        answer(page, ["r", "3", "Shift+3"])
    # Every image fills the screen's height (the browser's window in headless chromium), at its own square shape.
    assert len({tuple(size) for size in sizes}) == 1 and sizes[0][0] == sizes[0][1] > 320
    assert Rating.objects.filter(rater=rater).count() == 4
    assert violations == []
