"""Scoring synthetic sets through real rq workers: every metric stored and shown."""

import io

import numpy as np
import pytest
from django.urls import reverse

from ratingsite.imagesets.importing import import_image_set
from ratingsite.jobs.models import Job
from ratingsite.metrics import jobs as metric_jobs
from ratingsite.metrics.models import Evaluation, ImageScore
from ratingsite.training import jobs as training_jobs
from ratingsite.training.models import TrainingRun
from tests.factories import ResearcherFactory
from tests.images import png_bytes

pytestmark = pytest.mark.django_db


def test_generated_set_is_scored_automatically(real_set, run_worker, client):
    run = TrainingRun(
        name="tiny",
        dataset=real_set,
        architecture="dcgan64",
        train_images=16,
        epochs=2,
        snapshot_epochs=[2],
        batch_size=8,
        ngf=8,
        ndf=8,
        seed=0,
        images_per_snapshot=12,
    )
    run.full_clean()
    run.save()
    training_jobs.enqueue_training(run)
    run_worker()  # training, then generation, then scoring

    evaluation = Evaluation.objects.get()
    assert evaluation.job.status == Job.Status.FINISHED, evaluation.job.error
    assert evaluation.reference_set == real_set and evaluation.size == 64
    assert set(evaluation.values) == {
        "fid",
        "fid_infinity",
        "kid",
        "precision_recall",
        "density_coverage",
        "psnr",
        "mutual_information",
        "lbp",
        "diversity",
        "memorisation",
    }
    assert evaluation.value("fid", "fid") > 0
    assert 0 <= evaluation.value("precision_recall", "precision") <= 1
    assert ImageScore.objects.filter(evaluation=evaluation).count() == 12
    score = ImageScore.objects.filter(evaluation=evaluation).first()
    assert {"psnr_mean_db", "psnr_nearest_db", "lbp_chi_square"} <= set(score.values)
    assert len(evaluation.tables["lbp_vector"]) == 256

    client.force_login(ResearcherFactory())
    page = client.get(evaluation.get_absolute_url()).content.decode()
    assert "Frechet Inception Distance" in page and "V143" in page and "Memorisation" in page
    assert "biased upwards" in page
    set_page = client.get(evaluation.synthetic_set.get_absolute_url()).content.decode()
    assert evaluation.get_absolute_url() in set_page


def test_exact_copies_of_real_images_are_flagged_and_infinite_psnr_is_stored(real_set, run_worker, client, tmp_path):
    folder = tmp_path / "synthetic"
    folder.mkdir()
    real_derived = [image.derived.get(size=64).file.open("rb").read() for image in real_set.images.all()[:3]]
    for index, data in enumerate(real_derived):
        (folder / f"copy{index}.png").write_bytes(data)
    noise = np.random.default_rng(0).integers(0, 256, size=(10, 64, 64), dtype=np.uint8)
    for index, pixels in enumerate(noise):
        (folder / f"noise{index}.png").write_bytes(png_bytes(pixels))
    synthetic = import_image_set(folder, name="planted", kind="synthetic").image_set
    evaluation = metric_jobs.enqueue_evaluation(synthetic, real_set, 64)
    run_worker()
    evaluation.refresh_from_db()
    assert evaluation.job.status == Job.Status.FINISHED, evaluation.job.error
    copies = {image.pk for image in synthetic.images.filter(original_name__startswith="copy")}
    flagged = {int(row["synthetic_name"]) for row in evaluation.tables["memorisation_pairs"] if row["pixel_flag"]}
    assert flagged == copies
    nearest = {score.image_id: score.values["psnr_nearest_db"] for score in evaluation.image_scores.all()}
    assert all(nearest[pk] == "inf" for pk in copies)
    assert evaluation.value("psnr", "psnr_nearest_db") == float("inf")

    client.force_login(ResearcherFactory())
    page = client.get(evaluation.get_absolute_url()).content.decode()
    assert "3 synthetic images are closer to a real image" in page
    assert page.count("<strong>flagged</strong>") == 3


def test_scoring_at_a_resolution_the_set_lacks_is_a_clear_failure(real_set, run_worker, tmp_path):
    folder = tmp_path / "synthetic"
    folder.mkdir()
    for index in range(5):
        (folder / f"{index}.png").write_bytes(png_bytes(np.full((64, 64), index * 40, np.uint8)))
    synthetic = import_image_set(folder, name="64 only", kind="synthetic").image_set
    evaluation = metric_jobs.enqueue_evaluation(synthetic, real_set, 128)
    run_worker()
    evaluation.job.refresh_from_db()
    assert evaluation.job.status == Job.Status.FAILED
    assert evaluation.job.error == "64 only has no 128 x 128 images to measure."


def test_score_form_on_the_set_page_queues_a_job(real_set_rows, client, rq_queues):
    owner = ResearcherFactory()
    real_set_rows.created_by = owner
    real_set_rows.save()
    client.force_login(owner)
    response = client.post(
        reverse("metrics:evaluation-create", args=[real_set_rows.pk]), {"reference_set": real_set_rows.pk, "size": 64}
    )
    evaluation = Evaluation.objects.get()
    assert response.url == evaluation.job.get_absolute_url()
    assert evaluation.job.kind == metric_jobs.EVALUATION_JOB_KIND


def test_metrics_help_states_the_protocol(client):
    client.force_login(ResearcherFactory())
    page = " ".join(client.get(reverse("metrics:metrics-help")).content.decode().split())
    assert "TF-1.x bilinear" in page and "fewer than about 2,048 images" in page and "Matched resolution" in page


def test_uploaded_synthetic_set_is_scored_against_the_chosen_real_set(real_set, run_worker, client):
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    noise = np.random.default_rng(1).integers(0, 256, size=(12, 64, 64), dtype=np.uint8)
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, pixels in enumerate(noise):
            archive.writestr(f"{index:04d}.png", png_bytes(pixels))
    client.force_login(ResearcherFactory())
    client.post(
        reverse("imagesets:imageset-import"),
        {
            "name": "other model",
            "kind": "synthetic",
            "resize_mode": "stretch",
            "score_against": real_set.pk,
            "archive": SimpleUploadedFile("other.zip", buffer.getvalue(), content_type="application/zip"),
        },
    )
    run_worker()
    evaluation = Evaluation.objects.get()
    assert evaluation.synthetic_set.name == "other model" and evaluation.reference_set == real_set
    assert evaluation.size == 64 and evaluation.job.status == Job.Status.FINISHED, evaluation.job.error
    imported = Job.objects.get(kind="import images")
    assert "Scoring against HC18 24 queued" in imported.message
    assert imported.result["scoring_job"] == evaluation.job.pk
