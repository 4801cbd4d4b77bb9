"""A grid's metrics page: every scored set of the grid over its training settings, with their significance."""

import pytest
from django.urls import reverse

from ratingsite.jobs.models import Job
from ratingsite.metrics.models import Evaluation
from ratingsite.training.grids import create_grid
from tests.factories import ResearcherFactory

pytestmark = pytest.mark.django_db


def test_grid_metrics_page_shows_heat_maps_and_significance(real_set, run_worker, client):
    owner = ResearcherFactory()
    grid = create_grid(
        created_by=owner,
        name="grid",
        dataset=real_set,
        architecture="dcgan64",
        subset_sizes=[8, 16],
        snapshot_epochs=[1, 2],
        learning_rates=[2e-4],
        images_per_set=12,
        seed=0,
        batch_size=8,
    )
    run_worker()
    assert Evaluation.objects.filter(job__status=Job.Status.FINISHED).count() == 4
    client.force_login(owner)
    page = client.get(reverse("analysis:experimentgrid-metrics", args=[grid.pk])).content.decode()
    assert "4 of 4 synthetic sets scored" in page
    assert "fid: fid" in page and "psnr: psnr_mean_db" in page
    assert page.count("kruskal-wallis") >= 2 and "training subset size" in page and ">epoch<" in page
