"""Training runs, snapshots and generated sets through a real rq worker, at tiny sizes on the CPU."""

import dataclasses
import io
import json
import os

import django_rq
import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image as PILImage
from rq import Worker

from ratingsite.imagesets.models import DerivedImage, ImageSet
from ratingsite.jobs.models import Job
from ratingsite.training import jobs
from ratingsite.training.grids import create_grid
from ratingsite.training.models import ExperimentGrid, GeneratedSet, TrainingRun
from synthesis.locking import file_lock
from synthesis.training import TRAINER_LOCK, train
from tests.factories import ImageSetFactory, JobFactory, ResearcherFactory

pytestmark = pytest.mark.django_db


def tiny_run(dataset, **changes):
    settings = dict(
        name="tiny",
        dataset=dataset,
        architecture="dcgan64",
        train_images=16,
        epochs=3,
        snapshot_epochs=[2, 3],
        batch_size=8,
        ngf=8,
        ndf=8,
        seed=1,
        images_per_snapshot=10,
    )
    settings.update(changes)
    run = TrainingRun(**settings)
    run.full_clean()
    run.save()
    return run


def test_training_job_snapshots_and_generated_sets(real_set, run_worker, client):
    run = tiny_run(real_set)
    job = jobs.enqueue_training(run)
    assert job.queue == "default"
    run_worker()  # trains, then runs the generation jobs the training queued
    job.refresh_from_db()
    assert job.status == Job.Status.FINISHED, job.error
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert [snapshot.epoch for snapshot in run.snapshots.all()] == [2, 3]

    generated = GeneratedSet.objects.filter(snapshot__run=run).select_related("image_set", "snapshot")
    assert sorted(item.snapshot.epoch for item in generated) == [2, 3]
    for item in generated:
        image_set = item.image_set
        assert image_set.kind == ImageSet.Kind.SYNTHETIC
        assert image_set.images.count() == 10
        assert image_set.provenance["training_run"] == run.pk
        assert image_set.provenance["snapshot_epoch"] == item.snapshot.epoch
        assert image_set.provenance["train_images"] == 16 and image_set.provenance["lr"] == 2e-4
        assert image_set.provenance["source"] == f"training run #{run.pk}, snapshot at epoch {item.snapshot.epoch}"
        image = image_set.images.first()
        assert (image.width, image.height) == (64, 64)
        assert set(DerivedImage.objects.filter(image=image).values_list("size", flat=True)) == {64}

    client.force_login(ResearcherFactory())
    generated_page = client.get(generated.get(snapshot__epoch=2).image_set.get_absolute_url()).content.decode()
    assert (
        f'Generated from</dt><dd><a href="{run.get_absolute_url()}#snapshot-2">the snapshot at epoch 2</a> '
        f'of <a href="{run.get_absolute_url()}">tiny</a>, seed 1</dd>'
    ) in generated_page
    assert f"source: training run #{run.pk}, snapshot at epoch 2;" in generated_page
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'id="snapshot-2"' in page
    assert "epoch 3 / 3" in page and "Trained 3 epochs" in page and "Epoch 3 of 3: D loss" in page
    curve = client.get(reverse("training:trainingrun-loss-curve", args=[run.pk]))
    assert curve["Content-Type"] == "image/png"
    assert PILImage.open(io.BytesIO(curve.content)).size == (800, 600)
    snapshot = run.snapshots.get(epoch=3)
    grid = client.get(reverse("training:snapshot-sample-grid", args=[snapshot.pk]))
    assert PILImage.open(io.BytesIO(b"".join(grid.streaming_content))).size == (3 * 66 + 2,) * 2


def test_generating_a_set_from_a_snapshot_page(real_set, run_worker, client):
    run = tiny_run(real_set, images_per_snapshot=0, epochs=2, snapshot_epochs=[2])
    jobs.enqueue_training(run)
    run_worker()
    snapshot = run.snapshots.get()
    assert not GeneratedSet.objects.exists()
    run.created_by = ResearcherFactory()
    run.save()
    client.force_login(run.created_by)
    response = client.post(reverse("training:snapshot-generate", args=[snapshot.pk]), {"count": 12, "seed": 5})
    job = Job.objects.get(kind=jobs.GENERATION_JOB_KIND)
    assert response.url == job.get_absolute_url()
    run_worker()
    generated = GeneratedSet.objects.get()
    assert generated.seed == 5 and generated.image_set.images.count() == 12
    assert generated.image_set.provenance["generation_seed"] == 5


def test_requeued_run_resumes_from_its_checkpoint(real_set, run_worker):
    run = tiny_run(real_set, images_per_snapshot=0, epochs=4, snapshot_epochs=[4])
    # An earlier attempt that stopped after two epochs, as if its worker had been killed then.
    config = run.config()
    images = jobs.training_images(run)
    partial = train(config, images, run.out_dir, should_stop=lambda epoch: epoch == 2)
    assert len(partial) == 2
    jobs.enqueue_training(run)
    run_worker()
    history = json.loads((run.out_dir / "history.json").read_text())
    assert [record["epoch"] for record in history] == [1, 2, 3, 4]
    assert history[:2] == partial
    assert Job.objects.get().message.startswith("Trained 4 epochs")


def train_until_killed(run, *, after_epoch, resume_every):
    """Train ``run`` in the foreground until its trainer dies right after ``after_epoch``, as a cancel kills it."""

    def killed(epoch, epochs, record):
        if epoch == after_epoch:
            raise RuntimeError("killed")

    config = dataclasses.replace(run.config(), resume_every=resume_every)
    with pytest.raises(RuntimeError, match="killed"):
        train(config, jobs.training_images(run), run.out_dir, progress=killed)


def test_run_page_shows_the_loss_curve_and_latest_epoch_while_training(real_set, rq_queues, client):
    researcher = ResearcherFactory()
    run = tiny_run(real_set, images_per_snapshot=0, epochs=6, snapshot_epochs=[6], created_by=researcher)
    job = jobs.enqueue_training(run, created_by=researcher)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)  # its worker is in epoch 4
    train_until_killed(run, after_epoch=3, resume_every=10)
    latest = run.history()[-1]
    client.force_login(researcher)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'http-equiv="refresh"' in page
    assert (
        f"Epoch 3 of 6: D loss {latest['d_loss']:.3f}, G loss {latest['g_loss']:.3f}, "
        f"D(x) {latest['d_real']:.2f}, D(G(z)) {latest['d_fake']:.2f}."
    ) in page
    assert f'src="{reverse("training:trainingrun-loss-curve", args=[run.pk])}?epochs=3"' in page
    assert ">Cancel</button>" in page and "Resume" not in page
    curve = client.get(reverse("training:trainingrun-loss-curve", args=[run.pk]))
    assert PILImage.open(io.BytesIO(curve.content)).size == (800, 600)


def test_cancelled_run_shows_what_it_trained_and_resumes_from_its_checkpoint(real_set, run_worker, client):
    researcher = ResearcherFactory()
    run = tiny_run(real_set, images_per_snapshot=0, epochs=5, snapshot_epochs=[5], created_by=researcher)
    job = jobs.enqueue_training(run, created_by=researcher)
    assert job.cancel()
    train_until_killed(run, after_epoch=3, resume_every=2)
    client.force_login(researcher)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert "Epoch 3 of 5: D loss" in page and "?epochs=3" in page
    assert ">Resume from epoch 2</button>" in page
    assert "The last checkpoint holds epoch 2: epoch 3 is trained again." in page

    response = client.post(reverse("training:trainingrun-resume", args=[run.pk]), follow=True)
    assert "training goes on from epoch 2" in response.content.decode()
    run_worker()
    run.refresh_from_db()
    assert run.job.status == Job.Status.FINISHED, run.job.error
    assert [record["epoch"] for record in run.history()] == [1, 2, 3, 4, 5]
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Epoch 5 of 5" in page and "Resume" not in page


def test_training_goes_to_the_gpu_queue_when_a_worker_listens_there(rq_queues):
    assert jobs.training_queue() == "default"
    gpu = django_rq.get_queue("gpu")
    worker = Worker([gpu], connection=gpu.connection)
    worker.register_birth()
    try:
        assert jobs.training_queue() == "gpu"
    finally:
        worker.register_death()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"train_images": 25}, "has 24 images of at least 64 x 64 pixels; a training subset of 25 cannot be drawn"),
        ({"architecture": "dcgan32"}, "dcgan32"),
        ({"epochs": 2, "snapshot_epochs": [2, 3]}, "never reach snapshot epoch 3"),
        ({"lr": -1.0}, "need lr > 0"),
    ],
)
def test_bad_settings_are_clear_errors(real_set_rows, changes, message):
    with pytest.raises(ValidationError) as error:
        tiny_run(real_set_rows, **changes)
    assert message in " ".join(error.value.messages)
    assert not TrainingRun.objects.exists()


def test_empty_or_synthetic_dataset_is_refused():
    with pytest.raises(ValidationError, match="has 0 images"):
        tiny_run(ImageSetFactory(name="empty"))
    with pytest.raises(ValidationError, match="real image set"):
        tiny_run(ImageSetFactory(kind=ImageSet.Kind.SYNTHETIC))


def test_grid_creates_one_run_per_subset_size_and_learning_rate(real_set_rows, rq_queues):
    grid = create_grid(
        name="grid",
        dataset=real_set_rows,
        architecture="dcgan64",
        subset_sizes=[16, 8],
        snapshot_epochs=[3, 2],
        learning_rates=[2e-4, 1e-4],
        images_per_set=10,
        seed=0,
        batch_size=8,
    )
    runs = grid.runs.order_by("lr", "train_images")
    assert [(run.lr, run.train_images) for run in runs] == [(1e-4, 8), (1e-4, 16), (2e-4, 8), (2e-4, 16)]
    assert all(run.epochs == 3 and run.snapshot_epochs == [2, 3] and run.images_per_snapshot == 10 for run in runs)
    assert Job.objects.filter(kind=jobs.TRAINING_JOB_KIND).count() == 4


def test_grid_with_a_subset_larger_than_the_dataset_creates_nothing(real_set_rows, rq_queues):
    with pytest.raises(ValidationError, match="a training subset of 999 cannot be drawn"):
        create_grid(
            name="grid",
            dataset=real_set_rows,
            architecture="dcgan64",
            subset_sizes=[8, 999],
            snapshot_epochs=[2],
            learning_rates=[2e-4],
            images_per_set=10,
            seed=0,
        )
    assert not ExperimentGrid.objects.exists() and not TrainingRun.objects.exists() and not Job.objects.exists()


def test_grid_form_shows_the_refusal(real_set_rows, client, rq_queues):
    client.force_login(ResearcherFactory())
    response = client.post(
        reverse("training:experimentgrid-create"),
        {
            "name": "grid",
            "dataset": real_set_rows.pk,
            "architecture": "dcgan64",
            "subset_sizes": "100, 300",
            "snapshot_epochs": "300",
            "learning_rates": "0.0002",
            "images_per_set": 800,
            "batch_size": 128,
            "seed": 0,
        },
    )
    assert response.status_code == 200
    assert "a training subset of 100 cannot be drawn" in response.content.decode()


def test_train_command_in_the_foreground(real_set, capsys):
    call_command(
        "train",
        "--dataset",
        "HC18 24",
        "--train-images",
        "8",
        "--epochs",
        "2",
        "--checkpoints",
        "2",
        "--batch-size",
        "8",
        "--seed",
        "3",
    )
    run = TrainingRun.objects.get()
    assert "Trained 2 epochs" in capsys.readouterr().out
    assert run.snapshots.get().epoch == 2


def test_train_command_errors(real_set_rows):
    with pytest.raises(CommandError, match="cannot be drawn"):
        call_command(
            "train", "--dataset", str(real_set_rows.pk), "--train-images", "500", "--epochs", "2", "--checkpoints", "2"
        )
    with pytest.raises(CommandError, match="No image set is called 'missing'"):
        call_command("train", "--dataset", "missing", "--train-images", "5")


def test_run_grid_command_queues_runs(real_set_rows, rq_queues, capsys):
    call_command(
        "run_grid",
        "--dataset",
        str(real_set_rows.pk),
        "--subset-sizes",
        "8,16",
        "--snapshots",
        "2,3",
        "--images-per-set",
        "10",
    )
    assert "2 training runs queued; 4 sets of 10 images" in capsys.readouterr().out


def test_training_pages_are_for_researchers(client, real_set_rows):
    run = tiny_run(real_set_rows)
    for url in (
        reverse("training:trainingrun-list"),
        run.get_absolute_url(),
        reverse("training:experimentgrid-create"),
    ):
        client.force_login(ResearcherFactory())
        assert client.get(url).status_code == 200
    client.logout()
    assert client.get(run.get_absolute_url()).status_code == 302


def test_sample_grid_pixels_come_from_the_generator(real_set, run_worker):
    run = tiny_run(real_set, images_per_snapshot=0, epochs=2, snapshot_epochs=[2])
    jobs.enqueue_training(run)
    run_worker()
    grid = np.asarray(PILImage.open(run.snapshots.get().sample_grid.open("rb")))
    assert grid[2:66, 2:66].std() > 0


def test_failed_job_of_a_run_complete_on_disk_reads_finished(real_set, rq_queues):
    """The worker was declared dead while its work horse went on to the end (or died right after the last epoch)."""
    run = tiny_run(real_set, images_per_snapshot=0)
    job = JobFactory(
        kind=jobs.TRAINING_JOB_KIND,
        status=Job.Status.FAILED,
        error="AbandonedJobError",
        progress_done=2,
        progress_total=3,
    )
    TrainingRun.objects.filter(pk=run.pk).update(job=job)
    train(run.config(), jobs.training_images(run), run.out_dir, should_stop=lambda epoch: epoch == 2)
    job.sync_with_queue()
    assert job.status == Job.Status.FAILED  # two of three epochs: the job did fail

    train(run.config(), jobs.training_images(run), run.out_dir)
    job.sync_with_queue()
    assert job.status == Job.Status.FINISHED and job.error == ""
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.message.startswith("Trained 3 epochs; snapshots at epochs 2, 3")
    assert [snapshot.epoch for snapshot in run.snapshots.all()] == [2, 3]


def test_a_second_trainer_on_a_run_fails_with_a_clear_error(real_set, run_worker):
    run = tiny_run(real_set, images_per_snapshot=0)
    run.out_dir.mkdir(parents=True)
    with file_lock(run.out_dir / TRAINER_LOCK):  # as a live trainer holds it
        job = jobs.enqueue_training(run)
        run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == (
        f"{run.out_dir} is being trained by another process (pid {os.getpid()}); "
        "wait for it to finish or stop it, then resume"
    )
    assert not (run.out_dir / "history.json").exists()
