"""Rating studies: clinicians tell real from synthetic images and rate their quality, blinded.

* A `Study` is set up by a researcher: instructions, the questions (real or synthetic and quality 1-5
  always; confidence and a comment optionally), the resolution its images are taken at and the size
  they are shown at, and a seed.
* Its pool is drawn from `StudySource` rows (an image set and how many of its images), with the seed;
  each drawn image becomes a `StudyItem`. An item is known to raters only by an opaque random token, and
  the file they see is made for the study: the image's derived version at the study's resolution, scaled
  to the display size by one method and written by the one PNG encoder, so real and synthetic files
  differ only in their pixels.
* A `Participation` makes a user a rater of a study (consent time included); each rater sees the items
  in an order shuffled with (study seed, rater), avoiding two images of the same set in a row.
* A `Rating` is one rater's answer for one item, at most one per (rater, item), with the server time from
  showing the image to the answer and the viewing time the browser measured. Where a study lets raters
  change answers, a change overwrites the answer, counts a revision and moves the submission time. A
  `Showing` records when an item was first shown to a rater.
"""

import random
import secrets
from collections import Counter

from django.conf import settings
from django.db import models
from django.urls import reverse

from ratingsite.core.models import Authored
from ratingsite.imagesets.models import Image, ImageSet
from ratingsite.jobs.models import Job
from synthesis.preprocessing import TRAINING_SIZES

DEFAULT_QUALITY_ANCHORS = [
    "1: very poor, not recognisable as a fetal head ultrasound image",
    "2: poor, major artefacts or missing anatomy",
    "3: acceptable, recognisable with noticeable flaws",
    "4: good, minor flaws only",
    "5: excellent, indistinguishable in quality from a clinical image",
]


def default_quality_anchors():
    return list(DEFAULT_QUALITY_ANCHORS)


def new_token():
    return secrets.token_urlsafe(16)


class Study(Authored):
    name = models.CharField(max_length=200)
    instructions = models.TextField(help_text="Shown to raters before they start (Markdown).")
    resolution = models.PositiveSmallIntegerField(
        choices=[(size, f"{size} x {size}") for size in TRAINING_SIZES],
        default=TRAINING_SIZES[0],
        help_text="Which derived version of every image is shown (the training resolution).",
    )
    display_size = models.PositiveSmallIntegerField(default=320, help_text="Shown at this many pixels square.")
    target_real_share = models.FloatField(
        default=0.5, help_text="The intended share of real images, checked against the pool drawn."
    )
    seed = models.IntegerField(default=0)
    ask_confidence = models.BooleanField(default=False)
    ask_comment = models.BooleanField(default=False)
    allow_changes = models.BooleanField(default=False, help_text="Raters may go back and change an answer.")
    quality_anchors = models.JSONField(default=default_quality_anchors, help_text="What each quality score means.")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    raters = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Participation", related_name="studies")

    class Meta(Authored.Meta):
        verbose_name_plural = "studies"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("studies:study-detail", kwargs={"pk": self.pk})

    @property
    def is_ready(self):
        return self.items.exists()

    def order_for(self, rater):
        """The items in this rater's order: seeded by (study seed, rater), no two of one set in a row where possible."""
        items = list(self.items.order_by("pk").values_list("pk", "image__image_set_id"))
        random.Random(f"{self.seed}:{rater.pk}").shuffle(items)
        return [pk for pk, _ in spread_sets(items)]


def spread_sets(items):
    """Reorder ``(pk, set id)`` pairs as little as needed so that no two neighbours share a set, if possible.

    Walks the shuffled list and takes the first item that keeps the rest arrangeable: of the ``r`` items
    left after it, no set may hold more than ``ceil(r / 2)``, and its own set (which then comes next to
    them) no more than ``floor(r / 2)``. When no arrangement exists, it takes an item of the largest set
    left, which spreads that set as thinly as possible.
    """
    remaining = Counter(set_id for _, set_id in items)
    ordered, previous = [], None
    while items:
        left = len(items) - 1

        def arrangeable(set_id):
            counts = remaining.copy()
            counts[set_id] -= 1
            return max(counts.values()) <= (left + 1) // 2 and counts[set_id] <= left // 2

        candidates = [index for index, (_, set_id) in enumerate(items) if set_id != previous]
        fallback = max(candidates, key=lambda i: (remaining[items[i][1]], -i)) if candidates else 0
        index = next((i for i in candidates if arrangeable(items[i][1])), fallback)
        pk, previous = items.pop(index)
        remaining[previous] -= 1
        ordered.append((pk, previous))
    return ordered


class StudySource(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="sources")
    image_set = models.ForeignKey(ImageSet, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ("pk",)
        constraints = [models.UniqueConstraint(fields=("study", "image_set"), name="unique_study_source")]


class StudyItem(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=32, unique=True, default=new_token)
    is_real = models.BooleanField()
    file = models.FileField(max_length=300, help_text="The file raters are shown, named by the token.")

    class Meta:
        ordering = ("pk",)
        constraints = [models.UniqueConstraint(fields=("study", "image"), name="unique_study_image")]


class Participation(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participations")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations")
    consented = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    order = models.JSONField(default=list, blank=True, help_text="The rater's item order, kept once made.")

    def item_order(self):
        """`Study.order_for` this rater, computed on first use and kept (the rating page needs it every time)."""
        if not self.order:
            self.order = self.study.order_for(self.rater)
            Participation.objects.filter(pk=self.pk).update(order=self.order)
        return self.order

    class Meta:
        constraints = [models.UniqueConstraint(fields=("study", "rater"), name="unique_participation")]


class Showing(models.Model):
    item = models.ForeignKey(StudyItem, on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shown = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("item", "rater"), name="unique_showing")]


class Rating(models.Model):
    class Answer(models.TextChoices):
        REAL = "real", "real"
        SYNTHETIC = "synthetic", "synthetic"

    item = models.ForeignKey(StudyItem, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ratings")
    answer = models.CharField(max_length=16, choices=Answer)
    quality = models.PositiveSmallIntegerField(choices=[(score, str(score)) for score in range(1, 6)])
    confidence = models.PositiveSmallIntegerField(null=True, blank=True, choices=[(s, str(s)) for s in range(1, 6)])
    comment = models.TextField(blank=True)
    shown = models.DateTimeField(help_text="When the image was first shown to the rater (server time).")
    submitted = models.DateTimeField(auto_now=True)
    viewing_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Viewing time the browser measured.")
    revisions = models.PositiveSmallIntegerField(
        default=0, help_text="How often the rater changed this answer (studies that allow changes)."
    )

    class Meta:
        ordering = ("pk",)
        constraints = [models.UniqueConstraint(fields=("item", "rater"), name="one_rating_per_rater_and_item")]

    @property
    def server_seconds(self):
        return (self.submitted - self.shown).total_seconds()
