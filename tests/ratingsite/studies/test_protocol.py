"""The careful reader study's options: images shown twice, a practice round with feedback, timed exposure."""

import hashlib
import random
import re
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from scipy import stats

from ratingsite.analysis.data import ratings_frame, repeat_frame
from ratingsite.imagesets.importing import import_image_set
from ratingsite.jobs.models import Job
from ratingsite.studies.models import (
    Participation,
    PracticeAnswer,
    Rating,
    Showing,
    Study,
    StudyItem,
    repeats_problem,
    with_repeats,
)
from tests.factories import ParticipationFactory, RaterFactory, ResearcherFactory
from tests.images import hc18_folder, png_bytes
from tests.ratingsite.studies.creating import create_study

pytestmark = pytest.mark.django_db

# The whole of every set of `image_sets`: 12 real and 12 synthetic images.
WHOLE_POOL = {"sources-0-count": 12, "sources-1-count": 6, "sources-2-count": 6}


@pytest.fixture
def practice_set(tmp_path):
    folder = tmp_path / "practice"
    folder.mkdir()
    rng = np.random.default_rng(99)
    for number in range(4):
        (folder / f"{number:04d}.png").write_bytes(png_bytes(rng.integers(0, 256, size=(64, 64), dtype=np.uint8)))
    return import_image_set(folder, name="early epoch", kind="synthetic").image_set


def prepared(client, image_sets, run_worker, **changes):
    real, synthetic_sets = image_sets
    client.force_login(ResearcherFactory())
    response = create_study(client, real, synthetic_sets, **changes)
    assert response.status_code == 302, response.content.decode()
    run_worker()
    study = Study.objects.get()
    assert study.job.status == Job.Status.FINISHED, study.job.error
    return study


@pytest.fixture
def repeat_study(client, image_sets, run_worker):
    """24 images, 4 of them shown twice at least 10 apart."""
    return prepared(client, image_sets, run_worker, **WHOLE_POOL, repeat_count=4)


def rate_through_the_pages(client, study, rater, answer=lambda token: "real", quality=lambda token: 3):
    """Consent and rate every image the rating page offers; the tokens in the order shown."""
    Participation.objects.get_or_create(study=study, rater=rater)
    client.force_login(rater)
    client.post(reverse("studies:study-start", args=[study.pk]))
    rate_url = reverse("studies:study-rate", args=[study.pk])
    shown = []
    while match := re.search(r"/studies/images/([\w-]+)\.png", client.get(rate_url).content.decode()):
        token = match.group(1)
        shown.append(token)
        client.post(rate_url, {"token": token, "answer": answer(token), "quality": quality(token), "confidence": 3})
    return shown


def test_with_repeats_keeps_the_gap_and_puts_second_showings_late():
    order = list(range(24))
    random.Random(0).shuffle(order)
    repeats = {pk: 100 + pk for pk in (3, 7, 11, 19)}
    for seed in range(200):
        shown = with_repeats(order, repeats, 10, random.Random(seed))
        assert sorted(shown) == sorted(order + list(repeats.values()))
        for first, second in repeats.items():
            assert shown.index(second) - shown.index(first) - 1 >= 10
            assert shown.index(second) >= 12  # the second half of the pool's order
    assert "at most 2 images can each be shown again 10 images later" in repeats_problem(
        3, ordinary=12, pool=12, gap=10
    )
    with pytest.raises(ValueError):
        with_repeats(order[:12], {pk: 100 + pk for pk in order[:3]}, 10, random.Random(0))


def test_images_shown_twice_are_drawn_balanced_and_served_like_every_other(repeat_study, client):
    """Over 30 raters, through the rating pages: every rater meets the same 4 images (2 real, 2 synthetic) a
    second time, under tokens of their own and at least 10 images after the first, and where an image comes in
    the order tells nothing of its kind (Mann-Whitney AUC of position, real against synthetic, near 0.5)."""
    study = repeat_study
    repeats = list(study.items.filter(role=StudyItem.Role.REPEAT).select_related("repeat_of"))
    assert len(repeats) == 4 and sum(item.is_real for item in repeats) == 2
    assert all(item.image_id == item.repeat_of.image_id and item.token != item.repeat_of.token for item in repeats)
    assert all(item.file.read() == item.repeat_of.file.read() for item in repeats)
    assert study.items.filter(role=StudyItem.Role.POOL).count() == 24
    is_real = dict(study.items.values_list("token", "is_real"))
    image_of = dict(study.items.values_list("token", "image_id"))
    positions = {True: [], False: []}
    for _ in range(30):
        shown = rate_through_the_pages(client, study, RaterFactory())
        assert len(shown) == 28 and len(set(shown)) == 28
        images = [image_of[token] for token in shown]
        for image in {image for image in images if images.count(image) == 2}:
            first, second = (position for position, seen in enumerate(images) if seen == image)
            assert second - first - 1 >= 10
        assert len(set(images)) == 24
        for position, token in enumerate(shown):
            positions[is_real[token]].append(position)
    auc = stats.mannwhitneyu(positions[True], positions[False]).statistic / (840 / 2) ** 2
    # 420 showings of each kind: the AUC's SE under no information is about 0.016; 4 SE is 0.064.
    assert abs(auc - 0.5) < 0.064, auc
    assert Rating.objects.count() == 30 * 28
    # Only first showings enter the study's statistics; the second showings are the repeat pairs.
    assert len(ratings_frame([study])) == 30 * 24
    assert len(repeat_frame([study])) == 30 * 4


def test_in_a_pool_not_half_real_where_an_image_comes_tells_nothing_of_its_kind(client, image_sets, run_worker):
    """A pool of 4 real and 12 synthetic images, 6 of these attention checks, 4 shown twice: over 600 raters'
    orders, the kind of the image at each place is independent of the place (chi-square test of kind x place,
    scipy's `chi2_contingency`). Drawn half real, the repeated images put real images late in the order."""
    attention = {"sources-2-attention_check": "on", "sources-2-expected_answer": "synthetic"}
    changes = {"sources-0-count": 4, "sources-1-count": 6, "sources-2-count": 6, "repeat_count": 4, **attention}
    study = prepared(client, image_sets, run_worker, **changes)
    repeats = study.items.filter(role=StudyItem.Role.REPEAT)
    assert repeats.count() == 4 and repeats.filter(is_real=True).count() == 1  # 4 x 4/16 real
    is_real = dict(study.items.values_list("pk", "is_real"))
    orders = np.array([[is_real[pk] for pk in study.order_for(SimpleNamespace(pk=rater))] for rater in range(600)])
    real_at_place = orders.sum(axis=0)
    table = np.array([real_at_place, len(orders) - real_at_place])
    assert stats.chi2_contingency(table).pvalue > 0.001, real_at_place


def test_the_pages_of_a_second_showing_are_those_of_any_other_image(repeat_study, client):
    study = repeat_study
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    role = dict(study.items.values_list("token", "role"))
    kind = {
        token: role[token] if role[token] == "repeat" else str(real)
        for token, real in study.items.values_list("token", "is_real")
    }
    rate_url = reverse("studies:study-rate", args=[study.pk])
    pages, headers = {}, {}
    while match := re.search(r"/studies/images/([\w-]+)\.png", (page := client.get(rate_url).content.decode())):
        token = match.group(1)
        image = client.get(reverse("studies:studyitem-image", args=[token]))
        headers.setdefault(kind[token], set()).add(tuple(sorted(image.items())))
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.replace(token, "TOKEN"))
        pages.setdefault(kind[token], set()).add(re.sub(r'<p class="rating-progress">.*?</p>', "", page))
        client.post(rate_url, {"token": token, "answer": "real", "quality": 3, "confidence": 3})
    assert set(pages) == {"True", "False", "repeat"}
    assert pages["repeat"] == pages["True"] == pages["False"] and len(pages["repeat"]) == 1
    assert headers["repeat"] == headers["True"] == headers["False"] and len(headers["repeat"]) == 1


def test_a_rater_who_may_change_answers_revises_either_showing_on_its_own(client, image_set_rows, run_worker):
    study = prepared(client, image_set_rows, run_worker, **WHOLE_POOL, repeat_count=2, allow_changes="on")
    rater = RaterFactory()
    rate_through_the_pages(client, study, rater)
    second = study.items.filter(role=StudyItem.Role.REPEAT).first()
    rate_url = reverse("studies:study-rate", args=[study.pk])
    assert second.token in client.get(rate_url, {"token": second.token}).content.decode()
    client.post(rate_url, {"token": second.token, "answer": "synthetic", "quality": 5, "confidence": 3})
    revised = Rating.objects.get(item=second, rater=rater)
    first = Rating.objects.get(item=second.repeat_of, rater=rater)
    assert (revised.answer, revised.quality, revised.revisions) == ("synthetic", 5, 1)
    assert (first.answer, first.quality, first.revisions) == ("real", 3, 0)
    pair = repeat_frame([study]).set_index("image").loc[second.image_id]
    assert (pair.answer_first, pair.answer_second, pair.quality_first, pair.quality_second) == (
        "real",
        "synthetic",
        3,
        5,
    )


def test_the_form_refuses_repeats_the_pool_cannot_give(client, image_set_rows):
    real, synthetic_sets = image_set_rows
    client.force_login(ResearcherFactory())
    response = create_study(client, real, synthetic_sets, repeat_count=3)  # a pool of 12, gap 10: 2 at most
    assert response.status_code == 200 and not Study.objects.exists()
    assert "In a pool of 12, at most 2 images can each be shown again 10 images later" in response.content.decode()
    response = create_study(client, real, synthetic_sets, repeat_count=10, repeat_gap=0, **{"sources-1-count": 0})
    assert "10 images cannot be shown twice: the pool has 9 that are no attention check." in response.content.decode()
    assert not Study.objects.exists()


def test_a_pool_smaller_than_the_gap_is_fine_without_repeats(client, image_set_rows, run_worker):
    study = prepared(
        client, image_set_rows, run_worker, **{"sources-0-count": 2, "sources-1-count": 2, "sources-2-count": 0}
    )
    assert study.items.count() == 4 and study.is_open


@pytest.fixture
def practice_study(client, image_set_rows, run_worker, practice_set):
    changes = {
        "sources-3-image_set": practice_set.pk,
        "sources-3-count": 4,
        "sources-3-practice": "on",
        "sources-3-note": "Early-epoch images: look for the checkerboard.",
    }
    return prepared(client, image_set_rows, run_worker, **changes)


def test_the_practice_round_comes_first_tells_the_truth_and_is_kept_apart(practice_study, client):
    study = practice_study
    practice = set(study.items.filter(role=StudyItem.Role.PRACTICE).values_list("token", flat=True))
    assert len(practice) == 4 and study.items.filter(role=StudyItem.Role.POOL).count() == 12
    rater = ParticipationFactory(study=study).rater
    client.force_login(rater)
    start = client.get(reverse("studies:study-start", args=[study.pk])).content.decode()
    assert "You will first rate 4 practice images, and be told after each whether it was real" in start
    assert "Then come 12 study images." in start
    client.post(reverse("studies:study-start", args=[study.pk]))
    rate_url = reverse("studies:study-rate", args=[study.pk])
    practice_url = reverse("studies:study-practice", args=[study.pk])
    assert client.get(rate_url).url == practice_url  # no study image before the practice round is done
    seen = []
    for number in range(1, 5):
        page = client.get(practice_url).content.decode()
        assert f"Practice: {number - 1} of 4 answered" in page
        token = re.search(r"/studies/images/([\w-]+)\.png", page).group(1)
        assert token in practice and token not in seen
        seen.append(token)
        response = client.post(practice_url, {"token": token, "answer": "real", "quality": 2, "confidence": 4})
        assert response.url == f"{practice_url}?answered={token}"
        feedback = client.get(response.url).content.decode()
        assert "This image was synthetic." in feedback and "You answered real: not right." in feedback
        assert "look for the checkerboard" in feedback
        assert client.get(rate_url).url == practice_url or number == 4
    assert client.get(practice_url).url == rate_url
    assert PracticeAnswer.objects.filter(rater=rater).count() == 4 and not Rating.objects.exists()
    shown = rate_through_the_pages(client, study, rater)
    assert len(shown) == 12 and not practice & set(shown)
    assert len(ratings_frame([study])) == 12  # practice answers are never analysed
    # A practice image is not a study image: its token is refused on the rating page.
    response = client.post(rate_url, {"token": seen[0], "answer": "real", "quality": 3, "confidence": 3})
    assert response.status_code == 404


def test_practice_images_are_never_images_of_the_pool(client, image_sets, run_worker, hc18_dir, tmp_path):
    """Practice may draw from the pool's own real set (its other images); a set holding only images of the pool
    (the same files imported again) has none to give, and the preparation says so and keeps nothing."""
    real, synthetic_sets = image_sets
    client.force_login(ResearcherFactory())
    twice = create_study(client, real, synthetic_sets, **{"sources-3-image_set": real.pk, "sources-3-count": 6})
    assert twice.status_code == 200 and not Study.objects.exists()  # one set gives the pool once
    changes = {"sources-3-image_set": real.pk, "sources-3-count": 6, "sources-3-practice": "on"}
    study = prepared(client, image_sets, run_worker, **changes)
    practice = set(study.items.filter(role=StudyItem.Role.PRACTICE).values_list("image_id", flat=True))
    pool = set(study.items.filter(role=StudyItem.Role.POOL).values_list("image_id", flat=True))
    assert len(practice) == 6 and len(pool) == 12 and not practice & pool
    assert practice | pool >= set(real.images.values_list("pk", flat=True))

    copy = import_image_set(hc18_folder(hc18_dir, tmp_path / "again", 2), name="HC18 again").image_set
    changes = {"sources-0-count": 12, "sources-3-image_set": copy.pk, "sources-3-count": 2, "sources-3-practice": "on"}
    create_study(client, real, synthetic_sets, **changes)
    run_worker()
    study = Study.objects.latest("pk")
    assert study.job.status == Job.Status.FAILED
    assert "HC18 again has 0 images at 64 x 64 that are not in the study's pool; 2 cannot be drawn" in study.job.error
    assert not study.items.exists() and not study.is_open


def test_a_source_is_practice_or_an_attention_check_and_only_practice_has_a_note(client, image_set_rows):
    real, synthetic_sets = image_set_rows
    client.force_login(ResearcherFactory())
    both = {"sources-2-practice": "on", "sources-2-attention_check": "on", "sources-2-expected_answer": "synthetic"}
    response = create_study(client, real, synthetic_sets, **both)
    assert "A source is either practice or an attention check, not both." in response.content.decode()
    response = create_study(client, real, synthetic_sets, **{"sources-2-note": "a note"})
    assert "Only practice images have a note for the rater; tick practice." in response.content.decode()
    assert not Study.objects.exists()


def test_with_a_timed_exposure_the_viewing_time_stored_is_at_most_the_exposure(client, image_set_rows, run_worker):
    study = prepared(client, image_set_rows, run_worker, exposure_ms=800)
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    rate_url = reverse("studies:study-rate", args=[study.pk])
    for viewing_ms, stored in ((5000, 800), (300, 300), ("", None)):
        page = client.get(rate_url).content.decode()
        assert 'data-exposure-ms="800"' in page and 'class="study-mask"' in page
        token = re.search(r"/studies/images/([\w-]+)\.png", page).group(1)
        client.post(
            rate_url, {"token": token, "answer": "real", "quality": 3, "confidence": 3, "viewing_ms": viewing_ms}
        )
        assert Rating.objects.get(item__token=token).viewing_ms == stored
    start = client.get(reverse("studies:study-start", args=[study.pk])).content.decode()
    assert "Each image is shown for 800 ms and then hidden behind a grey square" in start


def test_a_timed_exposure_cannot_be_seen_again_by_reloading_or_opening_the_image(client, image_set_rows, run_worker):
    study = prepared(client, image_set_rows, run_worker, exposure_ms=800, allow_changes="on")
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    rate_url = reverse("studies:study-rate", args=[study.pk])
    unseen = study.items.exclude(pk=Participation.objects.get(rater=rater).item_order()[0]).first()
    assert client.get(reverse("studies:studyitem-image", args=[unseen.token])).status_code == 404  # not shown yet
    page = client.get(rate_url).content.decode()
    token = re.search(r"/studies/images/([\w-]+)\.png", page).group(1)
    image_url = reverse("studies:studyitem-image", args=[token])
    assert client.get(image_url).status_code == 200  # as the browser reads the page
    # Once the exposure and its grace are over (the showing was 11 s ago), neither the page nor the address shows it.
    Showing.objects.filter(rater=rater).update(shown=timezone.now() - timedelta(seconds=11))
    again = client.get(rate_url).content.decode()
    assert "/studies/images/" not in again and f'value="{token}"' in again
    assert 'class="study-mask" width="256" height="256">' in again and "has had its 800 ms" in again
    assert client.get(image_url).status_code == 404
    client.post(rate_url, {"token": token, "answer": "real", "quality": 3, "confidence": 3, "viewing_ms": 790})
    assert Rating.objects.get(item__token=token).viewing_ms == 790
    revisit = client.get(rate_url, {"token": token}).content.decode()
    assert "/studies/images/" not in revisit and "has had its 800 ms" in revisit


def test_the_study_page_states_the_protocol(client, image_sets, run_worker, practice_set):
    changes = {
        **WHOLE_POOL,
        "repeat_count": 4,
        "exposure_ms": 1000,
        "sources-3-image_set": practice_set.pk,
        "sources-3-count": 4,
        "sources-3-practice": "on",
    }
    study = prepared(client, image_sets, run_worker, **changes)
    assert "24 images (12 real, 12 synthetic; 4 of them shown twice; 4 practice images besides)" in study.job.message
    page = client.get(study.get_absolute_url()).content.decode()
    assert "4 images shown twice, at least 10 others apart; 4 practice images first" in page
    assert "each image shown for 1000 ms, then masked" in page
    assert re.search(r"<dt>Images</dt><dd>24: 0.50 real", page)
    sha = {hashlib.sha256(item.file.read()).hexdigest() for item in study.items.all()}
    assert len(sha) == 28  # practice images are files of their own; a second showing shares its image's bytes
