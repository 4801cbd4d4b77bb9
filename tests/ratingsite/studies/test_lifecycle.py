"""A study's life: edited until its first rating, closed and reopened, deleted while unrated, archived once rated;
and a pool with a row for every set, filled from an experiment grid in one step."""

import re

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from ratingsite.imagesets.models import ImageSet
from ratingsite.studies.models import Participation, Rating, Study
from ratingsite.training.models import GeneratedSet
from tests.factories import (
    ExperimentGridFactory,
    ParticipationFactory,
    RatingFactory,
    ResearcherFactory,
    SnapshotFactory,
    StudyFactory,
    StudyItemFactory,
    TrainingRunFactory,
)
from tests.ratingsite.studies.creating import create_study

pytestmark = pytest.mark.django_db


def edit_fields(study, **changes):
    """The edit form's fields as a browser posts them back, with ``changes``."""
    sources = list(study.sources.all())
    fields = {
        **{name: getattr(study, name) for name in ("name", "rater_title", "instructions", "resolution")},
        **{name: getattr(study, name) for name in ("display_size", "seed", "repeat_count", "repeat_gap")},
        "target_real_share": study.target_real_share,
        "sources-TOTAL_FORMS": len(sources) + 1,
        "sources-INITIAL_FORMS": len(sources),
        "sources-MIN_NUM_FORMS": 0,
        "sources-MAX_NUM_FORMS": 1000,
    }
    for index, source in enumerate(sources):
        fields |= {
            f"sources-{index}-id": source.pk,
            f"sources-{index}-study": study.pk,
            f"sources-{index}-image_set": source.image_set_id,
            f"sources-{index}-count": source.count,
        }
    return fields | changes


def test_a_study_is_edited_until_its_first_rating_and_its_pool_drawn_again(study_rows, client, run_worker):
    study = study_rows
    participation = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z")
    rater = participation.rater
    participation.item_order()
    old_files = list(study.items.values_list("file", flat=True))
    edit_url = reverse("studies:study-update", args=[study.pk])
    assert "Save and draw the pool again" in client.get(edit_url).content.decode()
    response = client.post(edit_url, edit_fields(study, **{"rater_title": "Renamed", "sources-0-count": 4}))
    assert response.url == study.get_absolute_url()
    study.refresh_from_db()
    assert study.rater_title == "Renamed" and not study.is_open  # closed until drawn again
    assert Participation.objects.get(pk=participation.pk).order == []
    run_worker()
    study.refresh_from_db()
    assert study.is_open and study.items.count() == 10 and study.items.filter(is_real=True).count() == 4
    assert not any(default_storage.exists(name) for name in old_files)  # the first draw's files are gone
    assert len(Participation.objects.get(pk=participation.pk).item_order()) == 10

    client.force_login(rater)
    rate_url = reverse("studies:study-rate", args=[study.pk])
    token = re.search(r"/studies/images/([\w-]+)\.png", client.get(rate_url).content.decode()).group(1)
    client.post(rate_url, {"token": token, "answer": "real", "quality": 3, "confidence": 3})
    client.force_login(study.created_by)
    refused = client.post(edit_url, edit_fields(study, rater_title="Again"), follow=True)
    assert "The study has ratings (or is archived)" in refused.content.decode()
    assert Study.objects.get(pk=study.pk).rater_title == "Renamed" and "Edit the study" not in refused.content.decode()


def test_a_closed_study_is_closed_to_its_raters_until_reopened(study_rows, client):
    study = study_rows
    rater = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z").rater
    client.post(reverse("studies:study-close", args=[study.pk]))
    item = study.items.first()
    client.force_login(rater)
    assert client.get(reverse("studies:study-rate", args=[study.pk])).status_code == 409
    assert client.get(reverse("studies:studyitem-image", args=[item.token])).status_code == 404
    client.force_login(study.created_by)
    client.post(reverse("studies:study-reopen", args=[study.pk]))
    client.force_login(rater)
    assert client.get(reverse("studies:study-rate", args=[study.pk])).status_code == 200


def test_an_unrated_study_is_deleted_with_its_files_and_a_rated_one_archived(study_rows, client):
    study = study_rows
    files = list(study.items.values_list("file", flat=True))
    rated = StudyFactory(name="rated", rater_title="r", instructions="", created_by=study.created_by)
    RatingFactory(item=StudyItemFactory(study=rated, image=study.items.first().image, is_real=True))

    response = client.post(reverse("studies:study-delete", args=[study.pk]))
    assert response.url == reverse("studies:study-list")
    assert not Study.objects.filter(pk=study.pk).exists() and not any(default_storage.exists(f) for f in files)
    refused = client.post(reverse("studies:study-delete", args=[rated.pk]), follow=True)
    assert "The study has ratings, so it is not deleted: archive it instead." in refused.content.decode()
    assert "Archive the study" in refused.content.decode() and "Delete the study" not in refused.content.decode()
    client.post(reverse("studies:study-archive", args=[rated.pk]))
    rated.refresh_from_db()
    assert rated.archived and rated.closed and not rated.is_open and Rating.objects.count() == 1
    listed = client.get(reverse("studies:study-list")).content.decode()
    assert rated.get_absolute_url() not in listed
    assert rated.get_absolute_url() in client.get(reverse("studies:study-list"), {"archived": 1}).content.decode()
    client.post(reverse("studies:study-reopen", args=[rated.pk]))
    assert not Study.objects.get(pk=rated.pk).is_open  # an archived study stays closed


def test_the_pool_has_a_row_for_every_set_and_fills_from_a_grid(client, image_set_rows, rq_queues):
    real, synthetic_sets = image_set_rows
    owner = ResearcherFactory()
    client.force_login(owner)
    grid = ExperimentGridFactory(name="reference grid", dataset=real, created_by=owner)
    for image_set in synthetic_sets:
        snapshot = SnapshotFactory(run=TrainingRunFactory(dataset=real, grid=grid, created_by=owner))
        GeneratedSet.objects.create(snapshot=snapshot, image_set=image_set, seed=0)
    page = client.get(reverse("studies:study-create"), {"grid": grid.pk}).content.decode()
    filled = re.findall(r'name="sources-(\d+)-image_set".*?<option value="(\d+)" selected', page, re.S)
    assert [int(pk) for _, pk in filled] == [real.pk, *(image_set.pk for image_set in synthetic_sets)]
    counts = re.findall(r'name="sources-\d+-count" value="(\d+)"', page)
    assert counts == ["8", "3", "3"]
    total = int(re.search(r'name="sources-TOTAL_FORMS" value="(\d+)"', page).group(1))
    assert total == max(8, ImageSet.objects.count() + 1)  # a row for every set there is, and some to spare
    response = create_study(
        client, real, synthetic_sets, **{"sources-TOTAL_FORMS": total, "sources-0-count": 8, "sources-1-count": 3}
    )
    assert response.status_code == 302
