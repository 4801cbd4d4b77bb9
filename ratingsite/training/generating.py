"""Generating a synthetic image set from a snapshot of a training run, stored with what made it."""

import tempfile

from ratingsite.imagesets.importing import import_image_set
from ratingsite.imagesets.models import ImageSet
from ratingsite.training.models import GeneratedSet
from synthesis.config import resolve_device


def generated_set_name(snapshot):
    return f"{snapshot.run.name}, epoch {snapshot.epoch}"


def generate_from_snapshot(snapshot, *, count, seed, created_by=None, progress=None):
    """Generate ``count`` images from ``snapshot`` and store them as a synthetic set; returns the import report."""
    # torch is imported by the jobs that generate, not by the pages that import this module.
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
