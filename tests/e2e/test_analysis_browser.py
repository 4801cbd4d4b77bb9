"""End to end: a tiny grid's sets, scored, in a study rated by three scripted raters, analysed in the browser."""

import io
import random
import re
import zipfile

import pandas as pd
import pytest

from ratingsite.accounts.models import RaterProfile
from ratingsite.metrics.models import Evaluation
from ratingsite.studies.jobs import enqueue_preparation
from ratingsite.studies.models import Participation, Rating, Study, StudyItem
from tests.e2e.browsing import SCREENSHOTS, csp_violations, log_in
from tests.factories import PASSWORD, RaterFactory, ResearcherFactory
from tests.http import Browser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RATERS = (("clinician", 15), ("sonographer", 6), ("engineer", 3))


def rate_everything(base_url, study, username, answer_for, seed):
    """Rate every image of ``study`` over HTTP as ``username``, answering ``answer_for(truth)``."""
    client = Browser(base_url)
    client.log_in(username, PASSWORD)
    rng = random.Random(seed)
    rate_path = f"/studies/{study.pk}/rate/"
    while True:
        _, page = client.get(rate_path)
        token = re.search(r"/studies/images/([\w-]+)\.png", page)
        if token is None:
            assert "You have rated every image" in page
            return
        truth = "real" if StudyItem.objects.get(token=token.group(1)).is_real else "synthetic"
        client.post(
            rate_path,
            {
                "csrfmiddlewaretoken": Browser.csrf_token(page),
                "token": token.group(1),
                "answer": answer_for(truth, rng),
                "quality": rng.randint(3, 5) if truth == "real" else rng.randint(1, 4),
                "confidence": rng.randint(1, 5),
                "viewing_ms": rng.randint(500, 4000),
            },
        )


def test_grid_sets_rated_by_three_raters_are_analysed_and_the_report_downloads(
    browser, live_server, grid_sets, run_worker
):
    real, synthetic_sets = grid_sets
    assert Evaluation.objects.filter(synthetic_set__in=synthetic_sets).count() == len(synthetic_sets)
    researcher = ResearcherFactory()
    study = Study.objects.create(
        name="Grid study", instructions="Real or synthetic?", seed=5, display_size=256, created_by=researcher
    )
    study.sources.create(image_set=real, count=4)
    for image_set in synthetic_sets:
        study.sources.create(image_set=image_set, count=4)
    enqueue_preparation(study)
    run_worker()
    assert study.items.count() == 12

    answer_rules = (
        lambda truth, rng: truth,
        lambda truth, rng: truth if rng.random() < 0.7 else rng.choice(["real", "synthetic"]),
        lambda truth, rng: "real",
    )
    for seed, ((profession, years), answer_for) in enumerate(zip(RATERS, answer_rules, strict=True)):
        rater = RaterFactory()
        RaterProfile.objects.create(user=rater, profession=profession, years_of_experience=years)
        Participation.objects.create(study=study, rater=rater, consented="2026-01-01T00:00:00Z")
        rate_everything(live_server.url, study, rater.username, answer_for, seed)
    assert Rating.objects.count() == 3 * 12

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    violations = csp_violations(page)
    log_in(page, live_server.url, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}{study.get_absolute_url()}")
    with page.expect_navigation():
        page.click("text=Turing test, agreement, quality and metric regression")
    for section in ("settings", "turing", "roc", "agreement", "quality", "set-level", "image-level"):
        assert page.locator(f"section#{section}").is_visible()
    content = page.content()
    assert "Reader-averaged AUC (OR-Hillis, jackknife)" in content and "answer x confidence, 10 levels" in content
    assert page.locator("section#roc svg").count() >= 2  # the ROC curves and the per-set forest plot
    assert page.locator("section#roc table").nth(2).locator("tbody tr").count() == 2  # one row per grid set
    assert "3 raters (1 clinician, 1 engineer, 1 sonographer) gave 36 ratings of 12 images" in content
    # Two grid sets support no set-level test: one sentence says so for every metric, with no row for each.
    untested = page.locator("section#set-level p.untested")
    assert "could not be tested" in untested.inner_text() and "too few sets (n=2)" in untested.inner_text()
    assert page.locator("section#set-level tbody tr").count() == 0
    assert page.locator("section#turing svg").count() == 2
    assert page.locator("section#image-level tbody tr").count() > 5
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "analysis-page.png"), full_page=True)

    # The summary comes first, on the first screen, with the headline numbers.
    assert page.locator("main section").first.get_attribute("id") == "summary"
    summary = page.locator("section#summary")
    assert summary.bounding_box()["y"] + summary.bounding_box()["height"] < 800
    headline = summary.inner_text()
    for heading in ("Turing test accuracy", "Reader-averaged AUC", "HYPE-infinity", "Best-agreeing set-level metric"):
        assert heading in headline
    assert "36 ratings by 3 raters" in headline and "3 readers x 12 images" in headline
    page.screenshot(path=str(SCREENSHOTS / "analysis-summary.png"))
    # The long tables fold: closed until their heading is clicked, no script needed.
    per_rater = page.locator("section#turing details table")
    assert not per_rater.is_visible()
    page.click("section#turing details summary")
    assert per_rater.is_visible() and per_rater.locator("tbody tr").count() == 1 + 3 + 3  # pooled, professions, raters
    assert page.locator("section#image-level details").get_attribute("open") is None

    # A metric's scatter opens on a page of the site: navigation, the metric, the plot and its points.
    analysis_url = page.url
    page.select_option("section#set-level select[name=metric]", "fid")
    with page.expect_navigation():
        page.click("section#set-level button:has-text('Show')")
    assert page.locator("header.site-header nav").is_visible()
    assert page.locator("h1").inner_text() == "fid against the mean quality score"
    assert page.locator("figure.scatter svg").is_visible()
    assert page.locator("table.points tbody tr").count() == 2  # one point per grid set
    with page.expect_download() as download:
        page.click("text=the points (CSV)")
    points = pd.read_csv(download.value.path())
    assert len(points) == 2 and {"fid", "mean_quality", "train_images", "epoch"} <= set(points.columns)
    with page.expect_navigation():
        page.click("text=Analysis of Grid study")
    assert page.url.startswith(analysis_url.split("?")[0])

    # The HTML report opens in the browser, with the site around it and its download beside it.
    with page.expect_navigation():
        page.click("text=view in the browser")
    assert page.locator("header.site-header nav").is_visible()
    assert page.locator("article.report section").first.get_attribute("id") == "summary"
    assert page.locator("a:has-text('Download this report (HTML)')").is_visible()
    folded = page.locator("section#image-level details table")
    assert not folded.is_visible()
    page.emulate_media(media="print")
    assert folded.is_visible() and not page.locator("header.site-header").is_visible()  # a PDF has every row
    page.emulate_media(media="screen")
    page.goto(analysis_url)

    page.select_option("#id_raters", "clinical")
    with page.expect_navigation():
        page.click("button:has-text('Analyse')")
    assert "2 raters (1 clinician, 1 sonographer) gave 24 ratings" in page.content()

    with page.expect_download() as download:
        page.click("text=everything with plots (zip)")
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    ratings = pd.read_csv(io.BytesIO(archive.read("report/ratings.csv")))
    assert len(ratings) == 24 and set(ratings["profession"]) == {"clinician", "sonographer"}
    synthetic = ratings[ratings["truth"] == "synthetic"]
    assert set(synthetic["train_images"]) == {8, 16} and set(synthetic["epoch"]) == {1}
    report = archive.read("report/report.html").decode()
    assert "Analysis report: Grid study" in report and report.count("<svg") >= 6
    assert "Reader-averaged AUC (OR-Hillis, jackknife)" in report
    assert {"report/plots/roc.svg", "report/plots/auc-by-set.png"} <= set(archive.namelist())
    page.set_content(report)  # the report stands alone: no stylesheet or image to fetch
    assert page.locator("body > section").first.get_attribute("id") == "summary"
    assert not page.locator("section#image-level table").is_visible()
    page.emulate_media(media="print")
    assert page.locator("section#image-level table").is_visible()  # folded on screen, open on paper
    page.emulate_media(media="screen")
    page.screenshot(path=str(SCREENSHOTS / "analysis-report.png"), full_page=True)
    assert violations == []
