"""Creating an experiment grid: its training runs, validated together, then queued."""

from django.db import transaction

from ratingsite.training.jobs import enqueue_training
from ratingsite.training.models import ExperimentGrid, TrainingRun


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
