"""Image sets: the real and synthetic images everything else works on.

* An `ImageSet` is one collection of images of one kind, real (acquired ultrasound) or synthetic (made
  by a generative model), with its provenance (where it came from and how it was made) and the
  attribution its licence asks for wherever its images are shown.
* An `Image` is one stored file, kept byte for byte as it arrived, identified by its sha256. Its
  original file name is kept for researchers only: nothing shown to raters may reveal it.
* A `DerivedImage` is the 8-bit grayscale version of an image at a training resolution (64 or 128
  pixels square), made at import by `synthesis.preprocessing` and used by training, metrics and studies.
* An `Annotation` is an expert's drawing that belongs to an image, such as HC18's head outline; it is
  stored with its image and never counted as an image.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse

from ratingsite.core.models import Owned
from synthesis.preprocessing import RESIZE_MODES, TRAINING_SIZES


class ImageSet(Owned):
    class Kind(models.TextChoices):
        REAL = "real", "real"
        SYNTHETIC = "synthetic", "synthetic"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind)
    provenance = models.JSONField(
        default=dict, blank=True, help_text="Where the images came from and how they were made."
    )
    attribution = models.TextField(blank=True, help_text="Shown wherever images of this set are shown.")
    resize_mode = models.CharField(
        max_length=16,
        choices=[(mode, mode) for mode in RESIZE_MODES],
        default=RESIZE_MODES[0],
        help_text="How the derived square versions were made (see synthesis.preprocessing).",
    )

    @classmethod
    def shared_with(cls, user):
        """A generated set is shared with those who share the run it came from (and the run's grid)."""
        run = "generated_from__snapshot__run__"
        return (
            super().shared_with(user)
            | Q(**{f"{run}created_by": user})
            | Q(**{f"{run}collaborators": user})
            | Q(**{f"{run}grid__created_by": user})
            | Q(**{f"{run}grid__collaborators": user})
        )

    def __str__(self):
        return f"{self.name} ({self.kind})"

    def get_absolute_url(self):
        return reverse("imagesets:imageset-detail", kwargs={"pk": self.pk})


class Image(models.Model):
    image_set = models.ForeignKey(ImageSet, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(max_length=300)
    sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original_name = models.CharField(max_length=500, help_text="For researchers only; never shown to raters.")
    conversion_note = models.CharField(
        max_length=200, blank=True, help_text="How the pixels were turned into 8-bit gray, if they were not."
    )
    metadata = models.JSONField(default=dict, blank=True, help_text="Per-image values from an accompanying table.")

    class Meta:
        ordering = ("pk",)
        constraints = [models.UniqueConstraint(fields=("image_set", "sha256"), name="unique_image_per_set")]

    def __str__(self):
        return f"{self.original_name} in {self.image_set.name}"


class DerivedImage(models.Model):
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="derived")
    size = models.PositiveSmallIntegerField(choices=[(size, f"{size} x {size}") for size in TRAINING_SIZES])
    file = models.FileField(max_length=300)

    class Meta:
        ordering = ("image", "size")
        constraints = [models.UniqueConstraint(fields=("image", "size"), name="unique_derived_size")]


class Annotation(models.Model):
    class Kind(models.TextChoices):
        HEAD_OUTLINE = "head outline", "head outline"

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="annotations")
    kind = models.CharField(max_length=32, choices=Kind, default=Kind.HEAD_OUTLINE)
    file = models.FileField(max_length=300)
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=500)

    class Meta:
        ordering = ("pk",)
