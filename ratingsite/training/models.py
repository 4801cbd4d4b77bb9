"""Training DCGANs and generating synthetic image sets from them.

* A `TrainingRun` trains one DCGAN (64 or 128 pixels) on a subset of a real image set with the settings
  that define it (subset size, epochs, learning rate, batch size, seed, ...). Its files (snapshots,
  resume checkpoint, history, plots) live in the media storage under ``training/run-<id>/``, so that a
  worker on any machine can resume it.
* A `Snapshot` is the generator as it was at one chosen epoch (by default 300, 500, 800 and 1000, as in
  the reference study), with a 3x3 grid of sample images.
* A `GeneratedSet` links a synthetic `ImageSet` to the snapshot and seed that made it.
* An `ExperimentGrid` is the reference study's experiment in one action: one training run per training
  subset size (and, optionally, learning rate), snapshots along the way, and a synthetic set of N images
  generated from every snapshot, each labelled with its settings.

The training itself is `synthesis.training.train`; this app only stores its inputs and results. The
run's files are the truth about how far it got: a run whose last epoch and every snapshot are on disk has
finished, and its job row says so even if an earlier account of it said failed (see
`ratingsite.training.jobs.finish_training_job_from_files`).
"""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from ratingsite.core.models import Owned
from ratingsite.imagesets.models import DerivedImage, ImageSet
from ratingsite.jobs.models import Job
from synthesis.config import (
    ARCHITECTURES,
    TrainingConfig,
    image_size_of,
    read_history,
    resume_epoch,
    sample_grid_path,
    snapshot_path,
)

PAPER_SUBSET_SIZES = (100, 300, 500, 800, 999)
PAPER_SNAPSHOT_EPOCHS = (300, 500, 800, 1000)
DEFAULT_IMAGES_PER_SET = 800


class ExperimentGrid(Owned):
    name = models.CharField(max_length=200)
    dataset = models.ForeignKey(ImageSet, on_delete=models.PROTECT, related_name="+")
    architecture = models.CharField(max_length=16, choices=[(name, name) for name in ARCHITECTURES])
    subset_sizes = models.JSONField(help_text="Training-subset sizes, one training run each.")
    snapshot_epochs = models.JSONField()
    learning_rates = models.JSONField(help_text="One or more learning rates; more than one adds an axis.")
    batch_size = models.PositiveIntegerField(default=128)
    images_per_set = models.PositiveIntegerField(default=DEFAULT_IMAGES_PER_SET)
    seed = models.IntegerField(default=0)

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("training:experimentgrid-detail", kwargs={"pk": self.pk})


class TrainingRun(Owned):
    name = models.CharField(max_length=200)
    dataset = models.ForeignKey(ImageSet, on_delete=models.PROTECT, related_name="training_runs")
    grid = models.ForeignKey(ExperimentGrid, null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    architecture = models.CharField(max_length=16, choices=[(name, name) for name in ARCHITECTURES])
    train_images = models.PositiveIntegerField(help_text="Size of the training subset drawn from the dataset.")
    epochs = models.PositiveIntegerField()
    snapshot_epochs = models.JSONField()
    lr = models.FloatField(default=2e-4)
    batch_size = models.PositiveIntegerField(default=128)
    real_label = models.FloatField(default=1.0, help_text="D's target for real images; below 1 smooths labels.")
    rotation_degrees = models.FloatField(default=10.0)
    nz = models.PositiveIntegerField(default=100)
    ngf = models.PositiveIntegerField(default=64)
    ndf = models.PositiveIntegerField(default=64)
    seed = models.IntegerField(default=0)
    images_per_snapshot = models.PositiveIntegerField(
        default=0, help_text="Generate a synthetic set of this many images from each snapshot when done (0: none)."
    )
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    @classmethod
    def shared_with(cls, user):
        """A grid's runs are shared with the grid's collaborators too."""
        return super().shared_with(user) | Q(grid__created_by=user) | Q(grid__collaborators=user)

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("training:trainingrun-detail", kwargs={"pk": self.pk})

    @property
    def image_size(self):
        """The side in pixels of the images the run trains on and generates."""
        return image_size_of(self.architecture)

    @property
    def folder(self):
        """The run's files, relative to the media storage."""
        return f"training/run-{self.pk}"

    @property
    def out_dir(self):
        return Path(settings.MEDIA_ROOT, self.folder)

    def register_snapshots(self):
        """Record the snapshots that training has written so far; returns them."""
        for epoch in self.snapshot_epochs:
            if snapshot_path(self.out_dir, epoch).is_file():
                Snapshot.objects.get_or_create(
                    run=self,
                    epoch=epoch,
                    defaults={
                        "checkpoint": snapshot_path(self.folder, epoch).as_posix(),
                        "sample_grid": sample_grid_path(self.folder, epoch).as_posix(),
                    },
                )
        return list(self.snapshots.all())

    def history(self):
        """Every epoch trained so far, up to the one that ended last, while the run trains too ([] before the first).

        After a run was stopped this may go past `resume_epoch`: the epochs after it are trained again.
        """
        return read_history(self.out_dir)

    def resume_epoch(self):
        """The epoch that the run goes on from when it is queued again: its resume checkpoint's (0: the start)."""
        return resume_epoch(self.out_dir)

    def is_complete_on_disk(self):
        """Whether the resume checkpoint holds the last epoch, and every snapshot is there."""
        return self.resume_epoch() >= self.epochs and all(
            snapshot_path(self.out_dir, epoch).is_file() for epoch in self.snapshot_epochs
        )

    def clean(self):
        if self.dataset_id is None:
            return
        if self.dataset.kind != ImageSet.Kind.REAL:
            raise ValidationError({"dataset": "Train on a real image set, not a synthetic one."})
        try:
            self.config(device="cpu")  # the library's checks of the settings
        except (TypeError, ValueError) as error:
            raise ValidationError(str(error)) from error
        size = self.image_size
        available = DerivedImage.objects.filter(image__image_set=self.dataset, size=size).count()
        if self.train_images > available:
            duplicates = self.dataset.provenance.get("duplicates_skipped")
            raise ValidationError(
                {
                    "train_images": f"{self.dataset.name} has {available} images of at least {size} x {size} pixels; "
                    f"a training subset of {self.train_images} cannot be drawn from it."
                    + (f" ({duplicates} duplicate files were skipped when it was imported.)" if duplicates else "")
                }
            )

    def config(self, device="auto"):
        return TrainingConfig(
            architecture=self.architecture,
            nz=self.nz,
            ngf=self.ngf,
            ndf=self.ndf,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            real_label=self.real_label,
            rotation_degrees=self.rotation_degrees,
            resize_mode=self.dataset.resize_mode,
            train_images=self.train_images,
            seed=self.seed,
            snapshot_epochs=tuple(self.snapshot_epochs),
            device=device,
        )


class Snapshot(models.Model):
    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="snapshots")
    epoch = models.PositiveIntegerField()
    checkpoint = models.FileField(max_length=300)
    sample_grid = models.FileField(max_length=300)

    class Meta:
        ordering = ("run", "epoch")
        constraints = [models.UniqueConstraint(fields=("run", "epoch"), name="unique_snapshot_epoch")]

    def __str__(self):
        return f"{self.run.name}, epoch {self.epoch}"


class GeneratedSet(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="generated_sets")
    image_set = models.OneToOneField(ImageSet, on_delete=models.CASCADE, related_name="generated_from")
    seed = models.IntegerField()

    class Meta:
        ordering = ("snapshot", "pk")
