"""Rating studies: pool drawing, per-rater order, the rating flow, integrity and blinding."""

import io
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from PIL import Image as PILImage
from statsmodels.sandbox.stats.runs import runstest_1samp

from ratingsite.accounts.models import is_rater
from ratingsite.analysis.data import ratings_frame
from ratingsite.jobs.models import Job
from ratingsite.studies import display_files
from ratingsite.studies.blinding import file_size_auc, file_sizes, order_check
from ratingsite.studies.forms import MAX_VIEWING_MS
from ratingsite.studies.models import (
    Participation,
    Rating,
    Showing,
    Study,
    StudyItem,
    StudySource,
)
from synthesis.preprocessing import encode_png
from tests.factories import (
    ParticipationFactory,
    RaterFactory,
    RatingFactory,
    ResearcherFactory,
    StudyFactory,
    StudySourceFactory,
    UserFactory,
)
from tests.images import png_chunk_types
from tests.invitations import accept, invitation_link
from tests.ratingsite.studies.creating import create_study

pytestmark = pytest.mark.django_db


def invite(client, study, username="clinician1"):
    response = client.post(
        reverse("studies:rater-invite", args=[study.pk]),
        {"username": username, "profession": "clinician", "years_of_experience": 12},
        follow=True,
    )
    return accept(client, invitation_link(response.content.decode()))


def test_pool_is_drawn_with_the_seed_and_files_are_made_for_the_study(study, image_sets):
    real, _ = image_sets
    items = list(study.items.all())
    assert len(items) == 12 and sum(item.is_real for item in items) == 6
    assert all(item.is_real == (item.image.image_set_id == real.pk) for item in items)
    assert len({item.token for item in items}) == 12
    for item in items:
        data = item.file.open("rb").read()
        assert set(png_chunk_types(data)) == {"IHDR", "IDAT", "IEND"}  # no metadata chunks
        assert PILImage.open(io.BytesIO(data)).size == (256, 256)
        assert item.file.name == f"studies/{study.pk}/{item.token}.png"
    again = StudyFactory(name="again", instructions="", seed=7)
    for source in study.sources.all():
        StudySourceFactory(study=again, image_set=source.image_set, count=source.count)
    from ratingsite.studies.drawing import draw_pool

    assert sorted(d.image_id for d, _ in draw_pool(again)) == sorted(item.image_id for item in items)


def test_rater_order_is_a_reproducible_shuffle_of_the_items(study_rows):
    study = study_rows
    first, second = RaterFactory(), RaterFactory()
    order = study.order_for(first)
    assert order == study.order_for(first)
    assert order != study.order_for(second)
    assert sorted(order) == sorted(study.items.values_list("pk", flat=True))
    expected = sorted(study.items.values_list("pk", flat=True))
    random.Random(f"{study.seed}:{first.pk}").shuffle(expected)
    assert order == expected  # nothing but the ids decides the order


def rate_everything_through_the_pages(client, study, rater):
    """Join, consent and rate every image as the pages offer them; the truth of each image in the order shown."""
    ParticipationFactory(study=study, rater=rater)
    client.force_login(rater)
    client.post(reverse("studies:study-start", args=[study.pk]))
    rate_url = reverse("studies:study-rate", args=[study.pk])
    is_real = dict(study.items.values_list("token", "is_real"))
    shown = []
    while match := re.search(r"/studies/images/([\w-]+)\.png", client.get(rate_url).content.decode()):
        shown.append(is_real[match.group(1)])
        client.post(rate_url, {"token": match.group(1), "answer": "real", "quality": 3})
    return shown


def test_over_a_whole_study_the_order_a_rater_sees_does_not_tell_real_from_synthetic(study, client):
    """Balanced study, 40 raters, through the rating pages. Under a uniform shuffle of N items with R real,
    P(next real | this real) = (R - 1) / (N - 1); the old rule (no two of one set in a row) gave 0.000 when
    all real images came from one set. Each rater's truth sequence also passes a Wald-Wolfowitz runs test
    (statsmodels' `runstest_1samp`) about as often as chance allows."""
    truths = np.array([rate_everything_through_the_pages(client, study, RaterFactory()) for _ in range(40)])
    assert truths.shape == (40, 12)
    real, total = int(truths[0].sum()), truths.shape[1]
    after_real = truths[:, :-1] == 1
    pairs = int(after_real.sum())
    share = (after_real & (truths[:, 1:] == 1)).sum() / pairs
    expected = (real - 1) / (total - 1)
    standard_error = np.sqrt(expected * (1 - expected) / pairs)
    assert abs(share - expected) < 3 * standard_error, (share, expected, standard_error)
    p_values = [runstest_1samp(sequence, cutoff=0.5, correction=True)[1] for sequence in truths]
    significant = sum(p < 0.05 for p in p_values)
    # Binomial(40, 0.05) exceeds 7 with probability < 0.001.
    assert significant <= 7, significant
    check = order_check(study)
    assert check.raters == 40 and not check.leaks
    assert check.shuffled == pytest.approx(expected)
    assert check.observed == pytest.approx(share)


def test_the_blinding_panel_shows_an_order_that_leaks(study, client):
    is_real = dict(study.items.values_list("pk", "is_real"))
    alternating = sorted(is_real, key=lambda pk: is_real[pk])
    real, synthetic = alternating[len(alternating) // 2 :], alternating[: len(alternating) // 2]
    leaky = [pk for pair in zip(real, synthetic, strict=True) for pk in pair]
    for _ in range(5):
        ParticipationFactory(study=study, order=leaky)
    check = order_check(study)
    assert check.observed == 0 and check.leaks
    page = client.get(study.get_absolute_url()).content.decode()
    assert "real after real 0.000 over 5 raters" in page and "the order leaks the answer" in page


def test_a_rater_rates_resumes_and_finishes(study_rows, client):
    study = study_rows
    password = invite(client, study)
    client.logout()
    assert client.login(username="clinician1", password=password)
    assert "Fetal head images" in client.get(reverse("home")).content.decode()
    assert client.get(reverse("studies:study-rate", args=[study.pk])).url == reverse(
        "studies:study-start", args=[study.pk]
    )
    client.post(reverse("studies:study-start", args=[study.pk]))
    rater = Participation.objects.get().rater
    order = study.order_for(rater)
    assert Participation.objects.get().order == order  # drawn at consent, kept
    rate_url = reverse("studies:study-rate", args=[study.pk])
    for position, item_pk in enumerate(order):
        page = client.get(rate_url).content.decode()
        item = StudyItem.objects.get(pk=item_pk)
        assert item.token in page, f"expected item {position} of the rater's order"
        assert 'width="256" height="256"' in page
        if position == 5:
            assert item.token in client.get(rate_url).content.decode()  # a reload shows the same image
        response = client.post(
            rate_url,
            {"token": item.token, "answer": "real" if position % 2 else "synthetic", "quality": 3, "viewing_ms": 1500},
        )
        assert response.status_code == 302
    assert "You have rated every image" in client.get(rate_url).content.decode()
    ratings = Rating.objects.filter(rater=rater)
    assert ratings.count() == 12
    assert all(rating.viewing_ms == 1500 and rating.server_seconds >= 0 for rating in ratings)
    assert Participation.objects.get().finished is not None


def test_a_repeated_post_is_idempotent_and_answers_are_final(study_rows, client):
    study = study_rows
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    item = StudyItem.objects.get(pk=study.order_for(rater)[0])
    rate_url = reverse("studies:study-rate", args=[study.pk])
    for answer in ("real", "real", "synthetic"):
        client.post(rate_url, {"token": item.token, "answer": answer, "quality": 4})
    rating = Rating.objects.get()
    assert rating.answer == "real" and rating.quality == 4


def test_invalid_answers_are_refused(study_rows, client):
    study = study_rows
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    item = study.items.first()
    response = client.post(
        reverse("studies:study-rate", args=[study.pk]), {"token": item.token, "answer": "real", "quality": 9}
    )
    assert response.status_code == 400 and not Rating.objects.exists()
    page = response.content.decode()
    assert 'name="answer" value="real" required checked' in page
    assert 'name="quality" value="5" required>' in page
    for viewing_ms in ("100000000000000000000", "1e20", str(MAX_VIEWING_MS + 1), "-1"):
        answer = {"token": item.token, "answer": "real", "quality": 3, "viewing_ms": viewing_ms}
        assert client.post(reverse("studies:study-rate", args=[study.pk]), answer).status_code == 400, viewing_ms
    assert not Rating.objects.exists()


def test_the_rating_page_keeps_the_first_showing_and_stays_cheap(study_rows, client, django_assert_max_num_queries):
    study = study_rows
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    rate_url = reverse("studies:study-rate", args=[study.pk])
    client.get(rate_url)
    first = Showing.objects.get(rater=rater)
    # Session, user, participation, ratings, item, the showing (3 with its transaction), roles.
    with django_assert_max_num_queries(9):
        client.get(rate_url)
    assert Showing.objects.get(rater=rater).shown == first.shown


def test_blinding_files_headers_and_page_do_not_tell_real_from_synthetic(study, client):
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    headers = {}
    for item in study.items.all():
        response = client.get(reverse("studies:studyitem-image", args=[item.token]))
        data = response.content
        image = PILImage.open(io.BytesIO(data))
        assert (image.format, image.mode, image.size) == ("PNG", "L", (256, 256))
        assert set(png_chunk_types(data)) == {"IHDR", "IDAT", "IEND"}  # no metadata chunks
        assert "ETag" not in response and "Last-Modified" not in response
        headers.setdefault(item.is_real, set()).add(tuple(sorted(response.items())))
    assert headers[True] == headers[False] and len(headers[True]) == 1

    def page_for(item):
        Rating.objects.filter(rater=rater).delete()
        for other in study.items.exclude(pk=item.pk):
            RatingFactory(item=other, rater=rater, answer="real", quality=3)
        page = client.get(reverse("studies:study-rate", args=[study.pk])).content.decode()
        page = page.replace(item.token, "TOKEN")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)

    real_item = study.items.filter(is_real=True).first()
    synthetic_item = study.items.filter(is_real=False).first()
    assert page_for(real_item) == page_for(synthetic_item)


def test_item_ids_do_not_follow_the_kind_and_a_new_study_draws_its_own_seed(study):
    """The pool is drawn real source first; the items are saved shuffled, so their ids (which the rater's order
    shuffles) say nothing of their kind. Saved in draw order, all 6 real items had the 6 lowest ids."""
    kinds = [is_real for _, is_real in sorted(study.items.values_list("pk", "is_real"))]
    assert kinds != sorted(kinds, reverse=True)  # a shuffle puts the 6 real first once in 924 studies
    assert len({Study(name="new", instructions="").seed for _ in range(5)}) > 1


def test_every_study_file_has_the_same_number_of_bytes(study, client):
    """Noise images compress far worse than ultrasound: compressed, file size alone separated them with an
    AUC far from 0.5. Uncompressed, a 256 x 256 gray PNG is 65,882 bytes whatever its pixels."""
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    lengths = {
        int(client.get(reverse("studies:studyitem-image", args=[item.token]))["Content-Length"])
        for item in study.items.all()
    }
    assert lengths == {study.file_bytes} == {65882}
    assert file_size_auc(file_sizes(study)) == 0.5
    client.force_login(study.created_by)
    page = client.get(study.get_absolute_url()).content.decode()
    assert "every file is 65882 bytes" in page and "0.50 (0.5: file size tells nothing)" in page


def test_a_study_whose_files_differ_in_size_is_not_opened(client, image_sets, run_worker, monkeypatch):
    real, synthetic_sets = image_sets
    client.force_login(ResearcherFactory())
    monkeypatch.setattr(
        display_files,
        "display_png",
        lambda file, size: encode_png(PILImage.open(file).convert("L").resize((size, size))),
    )
    create_study(client, real, synthetic_sets)
    run_worker()
    study = Study.objects.get()
    job = Job.objects.get(pk=study.job_id)
    assert job.status == Job.Status.FAILED
    assert re.fullmatch(
        r"The study's files are \d+ to \d+ bytes: their size would tell real from synthetic images, so the study "
        r"is not opened\.",
        job.error,
    )
    assert not StudyItem.objects.exists() and study.file_bytes is None


def test_an_old_study_with_files_of_many_sizes_is_closed_until_its_files_are_rewritten(study, client, run_worker):
    rater = RaterFactory()
    # An order stored before (here the reverse of today's shuffle) stays the rater's order.
    stored = study.order_for(rater)[::-1]
    ParticipationFactory(study=study, rater=rater, consented="2026-01-01T00:00:00Z", order=stored)
    first = StudyItem.objects.get(pk=stored[0])
    RatingFactory(item=first, rater=rater, answer="real", quality=4)
    for item in study.items.all():  # as studies were prepared before: compressed files
        path = Path(item.file.path)
        path.write_bytes(encode_png(PILImage.open(io.BytesIO(path.read_bytes()))))
    Study.objects.filter(pk=study.pk).update(file_bytes=None)
    tokens = dict(study.items.values_list("pk", "token"))
    researcher = study.created_by
    client.force_login(rater)
    for url in (reverse("studies:study-start", args=[study.pk]), reverse("studies:study-rate", args=[study.pk])):
        response = client.get(url)
        assert response.status_code == 409 and "not open yet" in response.content.decode()
    assert client.get(reverse("studies:studyitem-image", args=[first.token])).status_code == 404
    client.force_login(researcher)
    page = client.get(study.get_absolute_url()).content.decode()
    assert "so their size would tell real from synthetic" in page and "Rewrite the files at one size" in page
    client.post(reverse("studies:study-files-rewrite", args=[study.pk]))
    run_worker()
    study.refresh_from_db()
    assert study.file_bytes == 65882 and study.job.status == Job.Status.FINISHED
    assert dict(study.items.values_list("pk", "token")) == tokens
    assert Rating.objects.get().item == first and Participation.objects.get().order == stored
    assert {item.file.size for item in study.items.all()} == {65882}
    client.force_login(rater)
    page = client.get(reverse("studies:study-rate", args=[study.pk])).content.decode()
    assert tokens[stored[1]] in page


def test_outsiders_see_nothing_of_a_study(study_rows, client):
    study = study_rows
    client.force_login(RaterFactory())
    item = study.items.first()
    assert client.get(reverse("studies:studyitem-image", args=[item.token])).status_code == 404
    assert client.get(reverse("studies:study-rate", args=[study.pk])).status_code == 404
    assert client.get(study.get_absolute_url()).status_code == 403


def invite_as(client, study, username, profession, years):
    return client.post(
        reverse("studies:rater-invite", args=[study.pk]),
        {"username": username, "profession": profession, "years_of_experience": years},
        follow=True,
    )


def test_a_second_invitation_with_another_profession_leaves_the_first_studys_ratings_as_they_were(study_rows, client):
    study = study_rows
    invite_as(client, study, "reader", "clinician", 12)
    reader = Participation.objects.get(study=study).rater
    for item in study.items.all():
        RatingFactory(item=item, rater=reader, answer="real", quality=3)
    second = StudyFactory(name="second", instructions="", created_by=study.created_by)
    invite_as(client, second, "reader", "engineer", 0)
    again = invite_as(client, study, "reader", "other", 1)
    assert "already a rater of this study, as clinician with 12 years" in again.content.decode()

    first_study = Study.objects.filter(pk=study.pk)
    exported = ratings_frame(first_study)
    assert len(exported) == 12
    assert set(exported["profession"]) == {"clinician"} and set(exported["years_of_experience"]) == {12}
    assert len(ratings_frame(first_study, "clinicians")) == 12 and ratings_frame(first_study, "engineers").empty
    assert Participation.objects.get(study=second).profession == "engineer"
    assert reader.rater_profile.profession == "engineer"  # the profile: the default for the next invitation
    page = client.get(study.get_absolute_url()).content.decode()
    assert f"<td>reader</td><td>rater-{reader.pk}</td><td>clinician</td><td>12</td>" in page


def test_staff_and_researchers_cannot_be_invited_as_raters(study_rows, client):
    study = study_rows
    staff = UserFactory(is_staff=True)
    researcher = ResearcherFactory()
    for account in (staff, researcher):
        page = invite_as(client, study, account.username, "clinician", 3).content.decode()
        assert f"{account.username} is a researcher or staff account, which cannot be a rater." in page
        assert not is_rater(account) and not account.participations.exists()


def test_invitation_usernames_go_through_the_user_models_validators(study_rows, client):
    study = study_rows
    page = invite_as(client, study, "drop table;", "clinician", 3).content.decode()
    assert "Enter a valid username" in page
    assert not Participation.objects.exists() and not get_user_model().objects.filter(username="drop table;").exists()


def test_the_form_refuses_a_pool_larger_than_a_set_before_anything_is_queued(client, image_set_rows, rq_queues):
    real, synthetic_sets = image_set_rows
    client.force_login(ResearcherFactory())
    response = create_study(client, real, synthetic_sets, **{"sources-1-count": 7})
    assert response.status_code == 200
    assert "model 0 has 6 images at 64 x 64; 7 cannot be drawn from it." in response.content.decode()
    assert not Study.objects.exists() and not Job.objects.exists()


def test_where_the_study_allows_it_a_rater_goes_back_and_changes_an_answer(study_rows, client):
    study = study_rows
    Study.objects.filter(pk=study.pk).update(allow_changes=True)
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    rate_url = reverse("studies:study-rate", args=[study.pk])
    order = [StudyItem.objects.get(pk=pk).token for pk in study.order_for(rater)]
    assert "Previous image" not in client.get(rate_url).content.decode()
    for token in order[:2]:
        client.post(rate_url, {"token": token, "answer": "real", "quality": 2})
    page = client.get(rate_url).content.decode()
    assert order[2] in page and f'href="?token={order[1]}"' in page
    page = client.get(rate_url, {"token": order[0]}).content.decode()
    assert 'name="answer" value="real" required checked' in page and 'name="quality" value="2" required checked' in page
    assert "Previous image" not in page  # nothing before the first image
    client.post(rate_url, {"token": order[0], "answer": "synthetic", "quality": 5})
    changed = Rating.objects.get(item__token=order[0])
    assert (changed.answer, changed.quality, changed.revisions) == ("synthetic", 5, 1)
    assert order[2] in client.get(rate_url).content.decode()  # back to the next unrated image
    assert client.get(rate_url, {"token": order[3]}).status_code == 404  # not rated yet: nothing to change


def test_without_permission_to_change_there_is_no_way_back(study_rows, client):
    study = study_rows
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    rate_url = reverse("studies:study-rate", args=[study.pk])
    order = [StudyItem.objects.get(pk=pk).token for pk in study.order_for(rater)]
    client.post(rate_url, {"token": order[0], "answer": "real", "quality": 2})
    page = client.get(rate_url, {"token": order[0]}).content.decode()
    assert order[1] in page and "Previous image" not in page
    assert Rating.objects.get().revisions == 0


def test_new_studies_ask_confidence_and_every_answer_must_give_it(study_rows, client):
    study = study_rows
    assert Study(name="new", instructions="").ask_confidence
    Study.objects.filter(pk=study.pk).update(ask_confidence=True)
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    rate_url = reverse("studies:study-rate", args=[study.pk])
    item = StudyItem.objects.get(pk=study.order_for(rater)[0])
    assert 'name="confidence" value="5" required>' in client.get(rate_url).content.decode()
    response = client.post(rate_url, {"token": item.token, "answer": "real", "quality": 4})
    assert response.status_code == 400 and not Rating.objects.exists()
    client.post(rate_url, {"token": item.token, "answer": "real", "quality": 4, "confidence": 2})
    assert Rating.objects.get().confidence == 2


ATTENTION_SOURCE = {"sources-2-attention_check": "on", "sources-2-expected_answer": "synthetic"}


@pytest.fixture
def attention_study(client, image_sets, run_worker):
    """The study of `study`, whose second synthetic set (3 images) is an attention check expecting "synthetic"."""
    real, synthetic_sets = image_sets
    client.force_login(ResearcherFactory())
    create_study(client, real, synthetic_sets, **ATTENTION_SOURCE)
    run_worker()
    study = Study.objects.get()
    assert study.job.status == Job.Status.FINISHED, study.job.error
    return study


def test_attention_items_are_drawn_and_served_exactly_like_every_other_image(attention_study, client):
    """Over the whole study, through the rater's pages: the files, their headers and the rating page of an
    attention item are the same in kind as those of any real or synthetic item."""
    study = attention_study
    attention_set = study.sources.get(attention_check=True).image_set
    kind = {
        item.pk: "attention" if item.image.image_set_id == attention_set.pk else ("real" if item.is_real else "other")
        for item in study.items.select_related("image")
    }
    assert list(kind.values()).count("attention") == 3 and len(kind) == 12
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.force_login(rater)
    headers, lengths = {}, set()
    for item in study.items.all():
        response = client.get(reverse("studies:studyitem-image", args=[item.token]))
        image = PILImage.open(io.BytesIO(response.content))
        assert (image.format, image.mode, image.size) == ("PNG", "L", (256, 256))
        assert set(png_chunk_types(response.content)) == {"IHDR", "IDAT", "IEND"}
        assert item.file.name == f"studies/{study.pk}/{item.token}.png"
        headers.setdefault(kind[item.pk], set()).add(tuple(sorted(response.items())))
        lengths.add(len(response.content))
    assert headers["attention"] == headers["real"] == headers["other"] and len(headers["attention"]) == 1
    assert lengths == {study.file_bytes}

    rate_url = reverse("studies:study-rate", args=[study.pk])
    pages = {}
    for item_pk in study.order_for(rater):
        item = StudyItem.objects.get(pk=item_pk)
        page = client.get(rate_url).content.decode()
        assert item.token in page
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.replace(item.token, "TOKEN"))
        # The progress line is the only thing that changes from one image to the next.
        page = re.sub(r'<p class="rating-progress">.*?</p>', "", page)
        pages.setdefault(kind[item_pk], set()).add(page)
        client.post(rate_url, {"token": item.token, "answer": "real", "quality": 3})
    assert pages["attention"] == pages["real"] == pages["other"] and len(pages["attention"]) == 1


def test_an_attention_check_needs_an_expected_answer_and_only_an_attention_check_has_one(client, image_set_rows):
    real, synthetic_sets = image_set_rows
    client.force_login(ResearcherFactory())
    response = create_study(client, real, synthetic_sets, **{"sources-2-attention_check": "on"})
    assert response.status_code == 200 and not Study.objects.exists()
    assert "An attention check needs the answer a rater who pays attention gives." in response.content.decode()
    response = create_study(client, real, synthetic_sets, **{"sources-2-expected_answer": "real"})
    assert response.status_code == 200 and not Study.objects.exists()
    assert "Only an attention check has an expected answer; tick it, or leave this empty." in response.content.decode()
    assert not StudySource().attention_check  # off by default


def test_the_study_page_shows_each_raters_attention_pass_rate_beside_their_progress(attention_study, client):
    attentive, careless = RaterFactory(), RaterFactory()
    is_real = dict(attention_study.items.values_list("token", "is_real"))
    attention_tokens = set(
        attention_study.items.filter(
            image__image_set__in=attention_study.sources.filter(attention_check=True).values("image_set")
        ).values_list("token", flat=True)
    )
    for rater, answer_right in ((attentive, True), (careless, False)):
        ParticipationFactory(study=attention_study, rater=rater, consented="2026-01-01T00:00:00Z")
        client.force_login(rater)
        rate_url = reverse("studies:study-rate", args=[attention_study.pk])
        while match := re.search(r"/studies/images/([\w-]+)\.png", client.get(rate_url).content.decode()):
            token = match.group(1)
            # The attentive rater calls the attention images synthetic, as expected; the careless one, real.
            right = "real" if is_real[token] else "synthetic"
            answer = right if answer_right or token not in attention_tokens else "real"
            client.post(rate_url, {"token": token, "answer": answer, "quality": 3})
    client.force_login(attention_study.created_by)
    page = client.get(attention_study.get_absolute_url()).content.decode()
    rows = {
        rater: re.search(rf"<td>{rater.username}</td>.*?</tr>", page, re.S).group(0) for rater in (attentive, careless)
    }
    assert "12 / 12</td>" in rows[attentive] and "3 / 3 passed (100%)" in rows[attentive]
    assert "12 / 12</td>" in rows[careless] and "0 / 3 passed (0%)" in rows[careless]


def test_the_admin_sets_an_attention_check_and_refuses_one_without_an_expected_answer(study_rows, admin_client):
    study = study_rows
    url = reverse("admin:studies_study_change", args=[study.pk])
    sources = list(study.sources.all())
    fields = {
        **{
            name: getattr(study, name)
            for name in (
                *("name", "rater_title", "instructions", "resolution", "display_size"),
                *("seed", "repeat_count", "repeat_gap"),
            )
        },
        "target_real_share": study.target_real_share,
        "quality_anchors": json.dumps(study.quality_anchors),
        "created_by": study.created_by_id,
        "sources-TOTAL_FORMS": len(sources),
        "sources-INITIAL_FORMS": len(sources),
        "sources-MIN_NUM_FORMS": 0,
        "sources-MAX_NUM_FORMS": 1000,
    }
    for index, source in enumerate(sources):
        fields.update(
            {
                f"sources-{index}-id": source.pk,
                f"sources-{index}-study": study.pk,
                f"sources-{index}-image_set": source.image_set_id,
                f"sources-{index}-count": source.count,
            }
        )
    refused = admin_client.post(url, {**fields, "sources-2-attention_check": "on"})
    assert refused.status_code == 200
    assert "An attention check needs the answer a rater who pays attention gives." in refused.content.decode()
    assert not StudySource.objects.filter(attention_check=True).exists()
    saved = admin_client.post(url, {**fields, "sources-2-attention_check": "on", "sources-2-expected_answer": "real"})
    assert saved.status_code == 302
    assert list(StudySource.objects.filter(attention_check=True).values_list("pk", "expected_answer")) == [
        (sources[2].pk, "real")
    ]


def test_raters_see_the_title_and_the_information_never_the_internal_name(client, image_set_rows, run_worker):
    real, synthetic_sets = image_set_rows
    client.force_login(ResearcherFactory())
    information = "Run by **the fetal imaging group**.\n\n- You may stop at any time.\n\n<script>alert(1)</script>"
    create_study(client, real, synthetic_sets, name="DCGAN64 epoch 50 vs HC18", information=information)
    run_worker()
    study = Study.objects.get()
    rater = ParticipationFactory(study=study).rater
    client.force_login(rater)
    pages = [client.get(reverse("home")), client.get(reverse("studies:study-start", args=[study.pk]))]
    start = pages[1].content.decode()
    assert "<strong>the fetal imaging group</strong>" in start and "<li>You may stop at any time.</li>" in start
    assert "alert(1)" not in start  # the researcher's HTML is cleaned, not run
    assert start.index("the fetal imaging group") < start.index("I agree to take part")
    client.post(reverse("studies:study-start", args=[study.pk]))
    rate_url = reverse("studies:study-rate", args=[study.pk])
    while match := re.search(r"/studies/images/([\w-]+)\.png", (page := client.get(rate_url)).content.decode()):
        pages.append(page)
        client.post(rate_url, {"token": match.group(1), "answer": "real", "quality": 3, "confidence": 3})
    pages.append(client.get(rate_url))
    assert "You have rated every image of Fetal head images" in pages[-1].content.decode()
    for page in pages:
        assert page.status_code == 200 and "Fetal head images" in page.content.decode()
        assert "DCGAN64" not in page.content.decode() and "epoch 50" not in page.content.decode()
