"""rq job functions of the training app, the helpers that queue them, and the check that finds a failed
training job done from its run's files (`finish_training_job_from_files`, registered by the app's config).

Training goes to the ``gpu`` queue when a worker listens on it (the embedded default's single worker
listens on both queues), else to ``default``; generation and everything else go to ``default``.
"""

import time

import django_rq
from django.contrib.auth import get_user_model
from rq import Worker

from ratingsite.core.templatetags.durations import duration
from ratingsite.imagesets.models import DerivedImage
from ratingsite.imagesets.scoring import request_scoring
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import Outcome, tracked
from ratingsite.training.generating import generate_from_snapshot
from ratingsite.training.models import Snapshot, TrainingRun

TRAINING_JOB_KIND = "train DCGAN"
GENERATION_JOB_KIND = "generate images"


def training_queue():
    """``gpu`` when a live worker listens on it, else ``default``."""
    gpu = django_rq.get_queue("gpu")
    return "gpu" if Worker.all(queue=gpu) else "default"


def training_images(run):
    """The run's training subset: derived images of its dataset at its resolution, drawn with its seed."""
    # torch is imported by the jobs that train and generate, not by the pages that import this module.
    from synthesis.data import choose_subset, load_images

    size = run.image_size
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


@tracked
def generate_set(progress, *, snapshot_pk, count, seed, created_by_pk=None):
    """Generate a synthetic set from a snapshot, then queue its scoring against the run's training dataset."""
    snapshot = Snapshot.objects.select_related("run__dataset").get(pk=snapshot_pk)
    created_by = get_user_model().objects.filter(pk=created_by_pk).first()
    report = generate_from_snapshot(snapshot, count=count, seed=seed, created_by=created_by, progress=progress)
    scoring = request_scoring(report.image_set, snapshot.run.dataset, snapshot.run.image_size, created_by=created_by)
    return Outcome(
        f"{report.message} Scoring queued as job #{scoring.pk}.", {**report.as_dict(), "scoring_job": scoring.pk}
    )


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


def finish_training_job_from_files(job):
    """A failed training job whose run is complete on disk finished: a worker killed right after the last
    epoch, or a trainer that went on after its job had been given up for dead, still did the work."""
    run = TrainingRun.objects.filter(job=job).first()
    if run is not None and run.is_complete_on_disk():
        snapshots = run.register_snapshots()
        job.mark_finished_from_files(
            f"Trained {run.epochs} epochs; snapshots at epochs {', '.join(str(s.epoch) for s in snapshots)} "
            "(read from the run's files).",
            progress_done=run.epochs,
            progress_total=run.epochs,
            result={"run": run.pk},
        )
