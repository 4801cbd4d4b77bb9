"""Twenty raters submitting at once against a live server on PostgreSQL: no rating lost or duplicated."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from ratingsite.core.storage import atomic_with_files
from ratingsite.studies.display_files import write_display_files
from ratingsite.studies.models import Participation, Rating, Study, StudyItem
from tests.factories import PASSWORD, ImageSetFactory, RaterFactory
from tests.http import Browser

RATERS = 20

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def rate_everything(base_url, username, study_pk):
    """Rate every image, posting each answer twice (a double click); returns the (token) answers accepted."""
    browser = Browser(base_url)
    browser.log_in(username, PASSWORD)
    accepted = set()
    rate_path = f"/studies/{study_pk}/rate/"
    status, page = browser.get(rate_path)
    while "You have rated every image" not in page:
        token = re.search(r"/studies/images/([\w-]+)\.png", page).group(1)
        fields = {
            "csrfmiddlewaretoken": Browser.csrf_token(page),
            "token": token,
            "answer": "real",
            "quality": 3,
            "confidence": 4,
        }
        for _ in range(2):
            status, page = browser.post(rate_path, fields)
            assert status == 200
        accepted.add(token)
    return accepted


def test_parallel_raters_lose_and_duplicate_nothing(live_server, six_image_study):
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency test runs against PostgreSQL (DATABASE_URL=postgres://...); CI runs it there")
    study = six_image_study
    raters = [RaterFactory() for _ in range(RATERS)]
    for rater in raters:
        Participation.objects.create(study=study, rater=rater, consented=timezone.now())
    with ThreadPoolExecutor(max_workers=RATERS) as pool:
        accepted = list(pool.map(lambda rater: rate_everything(live_server.url, rater.username, study.pk), raters))
    assert sum(len(tokens) for tokens in accepted) == RATERS * study.items.count()
    assert Rating.objects.count() == RATERS * study.items.count()
    for rater, tokens in zip(raters, accepted, strict=True):
        assert set(Rating.objects.filter(rater=rater).values_list("item__token", flat=True)) == tokens


@pytest.fixture
def six_image_study():
    image_set = ImageSetFactory(name="six", images=6)
    study = Study.objects.create(name="concurrent", instructions="", display_size=128)
    items = [StudyItem(study=study, image=image, is_real=True) for image in image_set.images.all()]
    with atomic_with_files() as save:
        for item in write_display_files(study, items, save):
            item.save()
    return study
