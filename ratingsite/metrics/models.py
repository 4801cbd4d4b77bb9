"""Quality metrics of synthetic image sets.

* An `Evaluation` scores one synthetic image set against one real reference set at one matched
  resolution (64 or 128 pixels: both sets' derived images, made by the same resize) with every metric of
  `evaluation.registry`. It keeps each metric's set values and version, and tables such as the LBP vector
  and the memorisation pairs. Reference features are cached by the `evaluation` library, so scoring many
  synthetic sets against one real set computes the real set's features once.
* An `ImageScore` keeps one synthetic image's per-image values (PSNR mean and nearest, MI, LBP
  chi-square, nearest-real distances, ...) for image-level analysis against ratings.

Values that are not finite (the +inf PSNR of an exact copy of a real image) are stored as the strings
"inf", "-inf" and "nan", because JSON has no such numbers; `decode_number` turns them back.
"""

import math

from django.db import models
from django.urls import reverse

from ratingsite.core.models import Authored
from ratingsite.imagesets.models import Image, ImageSet
from ratingsite.jobs.models import Job


def encode_number(value):
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def decode_number(value):
    return float(value) if value is not None else math.nan


class Evaluation(Authored):
    synthetic_set = models.ForeignKey(ImageSet, on_delete=models.CASCADE, related_name="evaluations")
    reference_set = models.ForeignKey(ImageSet, on_delete=models.CASCADE, related_name="+")
    size = models.PositiveSmallIntegerField(help_text="The matched resolution, in pixels.")
    values = models.JSONField(default=dict, blank=True, help_text="{metric: {value name: number}}")
    versions = models.JSONField(default=dict, blank=True, help_text="{metric: version}")
    tables = models.JSONField(default=dict, blank=True, help_text="{table name: list of row dicts}")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(Authored.Meta):
        constraints = [
            models.UniqueConstraint(fields=("synthetic_set", "reference_set", "size"), name="unique_evaluation")
        ]

    def __str__(self):
        return f"{self.synthetic_set.name} against {self.reference_set.name} at {self.size} px"

    def get_absolute_url(self):
        return reverse("metrics:evaluation-detail", kwargs={"pk": self.pk})

    def value(self, metric, name):
        return decode_number(self.values.get(metric, {}).get(name))


class ImageScore(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="image_scores")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="scores")
    values = models.JSONField(help_text="{per-image column: number}")

    class Meta:
        ordering = ("evaluation", "image")
        constraints = [models.UniqueConstraint(fields=("evaluation", "image"), name="unique_image_score")]
