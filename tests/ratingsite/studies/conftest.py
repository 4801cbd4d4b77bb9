import numpy as np
import pytest

from ratingsite.imagesets.importing import import_image_set
from ratingsite.jobs.models import Job
from ratingsite.studies.models import Study
from tests.factories import ImageSetFactory, ResearcherFactory, StudyFactory
from tests.images import hc18_folder, png_bytes
from tests.ratingsite.studies.creating import create_study


@pytest.fixture
def image_sets(hc18_dir, tmp_path):
    real_folder = hc18_folder(hc18_dir, tmp_path / "real", 12)
    real = import_image_set(real_folder, name="HC18 12").image_set
    synthetic_sets = []
    for index in range(2):
        folder = tmp_path / f"synthetic{index}"
        folder.mkdir()
        rng = np.random.default_rng(index)
        for number in range(6):
            pixels = rng.integers(0, 256, size=(64, 64), dtype=np.uint8)
            (folder / f"{number:04d}.png").write_bytes(png_bytes(pixels))
        synthetic_sets.append(import_image_set(folder, name=f"model {index}", kind="synthetic").image_set)
    return real, synthetic_sets


@pytest.fixture
def image_set_rows():
    """Sets of stand-in images named and sized as `image_sets`, for tests where only their rows count."""
    real = ImageSetFactory(name="HC18 12", images=12)
    synthetic_sets = [ImageSetFactory(name=f"model {index}", kind="synthetic", images=6) for index in range(2)]
    return real, synthetic_sets


@pytest.fixture
def study(client, image_sets, run_worker):
    real, synthetic_sets = image_sets
    client.force_login(ResearcherFactory())
    response = create_study(client, real, synthetic_sets)
    study = Study.objects.get()
    assert response.url == study.get_absolute_url()
    run_worker()
    study.refresh_from_db()
    assert study.job.status == Job.Status.FINISHED, study.job.error
    return study


@pytest.fixture
def study_rows(client, image_set_rows):
    """The study `study` makes, its owner logged in, made of factory rows from `image_set_rows`: for tests where
    only its rows count (its items are each set's first images, not a draw; `study` where its files count)."""
    real, synthetic_sets = image_set_rows
    study = StudyFactory(
        name="Turing test",
        rater_title="Fetal head images",
        instructions="Real or synthetic?",
        resolution=64,
        display_size=256,
        ask_confidence=False,
        sources=[(real, 6), (synthetic_sets[0], 3), (synthetic_sets[1], 3)],
    )
    client.force_login(study.created_by)
    return study
