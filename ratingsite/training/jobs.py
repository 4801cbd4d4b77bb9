"""rq job functions of the training app, and the helpers that queue them.

Training goes to the ``gpu`` queue when a worker listens on it (the embedded default's single worker
listens on both queues), else to ``default``; generation and everything else go to ``default``.
"""

import tempfile
import time

import django_rq
from django.contrib.auth import get_user_model
from django.db import transaction
from rq import Worker

from ratingsite.core.templatetags.durations import duration
from ratingsite.imagesets.importing import import_image_set
from ratingsite.imagesets.models import DerivedImage, ImageSet
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import Outcome, tracked
from ratingsite.metrics.jobs import enqueue_evaluation
from ratingsite.training.models import (
    TRAINING_JOB_KIND,
    ExperimentGrid,
    GeneratedSet,
    Snapshot,
    TrainingRun,
)
from synthesis.config import resolve_device

GENERATION_JOB_KIND = "generate images"


def training_queue():
    """``gpu`` when a live worker listens on it, else ``default``."""
    gpu = django_rq.get_queue("gpu")
    return "gpu" if Worker.all(queue=gpu) else "default"


def training_images(run):
    """The run's training subset: derived images of its dataset at its resolution, drawn with its seed."""
    # torch is imported by the jobs that train and generate, not by the pages that import this module.
    from synthesis.data import choose_subset, load_images

    size = run.config(device="cpu").image_size
    paths = [
        derived.file.path
        for derived in DerivedImage.objects.filter(image__image_set=run.dataset, size=size).order_by("image__sha256")
    ]
    return load_images(choose_subset(paths, run.train_images, run.seed), size, run.dataset.resize_mode)


@tracked
def train_run(progress, *, run_pk):
    return run_training(TrainingRun.objects.select_related("dataset").get(pk=run_pk), progress)


def run_training(run, progress):
    """Train ``run`` (resuming from its checkpoint if it has one), record its snapshots, queue generation."""
    from synthesis.training import train

    images = training_images(run)
    clock = {"started": time.monotonic(), "first_epoch": None}
    pending = set(run.snapshot_epochs)

    def report(epoch, epochs, record):
        if clock["first_epoch"] is None:
            clock["first_epoch"] = epoch
        done_here = epoch - clock["first_epoch"] + 1
        seconds_left = (time.monotonic() - clock["started"]) / done_here * (epochs - epoch)
        progress(
            epoch,
            epochs,
            f"Epoch {epoch} of {epochs}: D loss {record['d_loss']:.3f}, G loss {record['g_loss']:.3f}, "
            f"D(x) {record['d_real']:.2f}, D(G(z)) {record['d_fake']:.2f}; about {duration(seconds_left)} left.",
        )
        # train() writes a snapshot right after reporting its epoch, so earlier epochs' files are complete.
        if any(snapshot_epoch < epoch for snapshot_epoch in pending):
            pending.difference_update(snapshot.epoch for snapshot in run.register_snapshots())

    history = train(run.config(), images, run.out_dir, progress=report)
    snapshots = run.register_snapshots()
    if run.images_per_snapshot:
        for snapshot in snapshots:
            if not snapshot.generated_sets.exists():
                enqueue_generation(snapshot, count=run.images_per_snapshot, seed=run.seed, created_by=run.created_by)
    return Outcome(
        f"Trained {len(history)} epochs; snapshots at epochs {', '.join(str(s.epoch) for s in snapshots)}.",
        {"run": run.pk},
    )


def enqueue_training(run, created_by=None):
    job = Job.enqueue(
        train_run,
        {"run_pk": run.pk},
        kind=TRAINING_JOB_KIND,
        created_by=created_by,
        queue=training_queue(),
        result={"run": run.pk},
    )
    TrainingRun.objects.filter(pk=run.pk).update(job=job)
    run.job = job
    return job


def generated_set_name(snapshot):
    return f"{snapshot.run.name}, epoch {snapshot.epoch}"


@tracked
def generate_set(progress, *, snapshot_pk, count, seed, created_by_pk=None):
    """Generate a synthetic set from a snapshot, then queue its scoring against the run's training dataset."""
    snapshot = Snapshot.objects.select_related("run__dataset").get(pk=snapshot_pk)
    created_by = get_user_model().objects.filter(pk=created_by_pk).first()
    report = generate_from_snapshot(snapshot, count=count, seed=seed, created_by=created_by, progress=progress)
    evaluation = enqueue_evaluation(
        report.image_set, snapshot.run.dataset, snapshot.run.config(device="cpu").image_size, created_by=created_by
    )
    return Outcome(
        f"{report.message} Scoring queued as job #{evaluation.job.pk}.",
        {**report.as_dict(), "scoring_job": evaluation.job.pk},
    )


def generate_from_snapshot(snapshot, *, count, seed, created_by=None, progress=None):
    """Generate ``count`` images from ``snapshot`` and store them as a synthetic set; returns the import report."""
    from synthesis.generation import generate_images

    run = snapshot.run
    if progress is not None:
        progress(0, count, f"Generating {count} images.")
    with tempfile.TemporaryDirectory() as folder:
        generate_images(snapshot.checkpoint.path, folder, count=count, seed=seed, device=resolve_device("auto"))
        report = import_image_set(
            folder,
            name=generated_set_name(snapshot),
            kind=ImageSet.Kind.SYNTHETIC,
            resize_mode=run.dataset.resize_mode,
            provenance={
                # Not the temporary folder the images were written to.
                "source": f"training run #{run.pk}, snapshot at epoch {snapshot.epoch}",
                "model": run.architecture,
                "training_run": run.pk,
                "snapshot_epoch": snapshot.epoch,
                "train_images": run.train_images,
                "lr": run.lr,
                "batch_size": run.batch_size,
                "training_seed": run.seed,
                "generation_seed": seed,
                **({"grid": run.grid_id} if run.grid_id else {}),
            },
            created_by=created_by,
            progress=progress,
            on_created=lambda image_set: GeneratedSet.objects.create(snapshot=snapshot, image_set=image_set, seed=seed),
        )
    return report


def enqueue_generation(snapshot, *, count, seed, created_by=None):
    return Job.enqueue(
        generate_set,
        {
            "snapshot_pk": snapshot.pk,
            "count": count,
            "seed": seed,
            "created_by_pk": created_by.pk if created_by else None,
        },
        kind=GENERATION_JOB_KIND,
        created_by=created_by,
    )


def create_grid(
    *,
    name,
    dataset,
    architecture,
    subset_sizes,
    snapshot_epochs,
    learning_rates,
    images_per_set,
    seed,
    batch_size=128,
    created_by=None,
):
    """Create the grid and its training runs (validated), then queue the runs; returns the grid.

    Each run generates ``images_per_set`` images from each of its snapshots when it finishes.
    """
    with transaction.atomic():
        grid = ExperimentGrid.objects.create(
            name=name,
            dataset=dataset,
            architecture=architecture,
            subset_sizes=sorted(subset_sizes),
            snapshot_epochs=sorted(snapshot_epochs),
            learning_rates=list(learning_rates),
            images_per_set=images_per_set,
            seed=seed,
            batch_size=batch_size,
            created_by=created_by,
        )
        runs = []
        for lr in grid.learning_rates:
            for size in grid.subset_sizes:
                run = TrainingRun(
                    name=f"{name}: {architecture}, {size} images, lr {lr:g}",
                    dataset=dataset,
                    grid=grid,
                    architecture=architecture,
                    train_images=size,
                    epochs=max(grid.snapshot_epochs),
                    snapshot_epochs=grid.snapshot_epochs,
                    lr=lr,
                    batch_size=batch_size,
                    seed=seed,
                    images_per_snapshot=images_per_set,
                    created_by=created_by,
                )
                run.full_clean()
                run.save()
                runs.append(run)
    for run in runs:
        enqueue_training(run, created_by=created_by)
    return grid
