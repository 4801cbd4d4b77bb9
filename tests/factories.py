"""Rows for tests where only the rows matter: accounts with a role, jobs, and image sets of stand-in images.

A stand-in image is a small PNG of random gray pixels (seeded by the factory's sequence, so every image of a set
has its own sha256) with its derived versions at every training size, as an import stores them. Tests where
the pixels matter (metric values, importing, training, a study's files) use the HC18 images instead
(`tests.images.hc18_folder`, the ``real_set`` fixture).
"""

import hashlib

import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from ratingsite.accounts.models import RATERS, RESEARCHERS, add_to_role
from ratingsite.imagesets.models import Annotation, DerivedImage, Image, ImageSet
from ratingsite.jobs.models import Job
from synthesis.preprocessing import TRAINING_SIZES
from tests.images import png_bytes

PASSWORD = "a-long-test-password"


def noise_png(seed, width, height):
    """A PNG of ``width`` x ``height`` random gray pixels drawn with ``seed``."""
    return png_bytes(np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(self, create, extracted, **kwargs):
        if create:
            self.save()


class ResearcherFactory(UserFactory):
    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            add_to_role(self, RESEARCHERS)


class RaterFactory(UserFactory):
    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            add_to_role(self, RATERS)


class ImageSetFactory(factory.django.DjangoModelFactory):
    """An image set, empty unless ``images=N`` asks for N stand-in images."""

    class Meta:
        model = ImageSet
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"set {n}")
    kind = ImageSet.Kind.REAL

    @factory.post_generation
    def images(self, create, count, **kwargs):
        if create and count:
            ImageFactory.create_batch(count, image_set=self, **kwargs)


class ImageFactory(factory.django.DjangoModelFactory):
    """A stand-in image with its derived versions at every training size."""

    class Meta:
        model = Image
        skip_postgeneration_save = True

    class Params:
        seed = factory.Sequence(lambda n: n)
        png = factory.LazyAttribute(lambda image: noise_png(image.seed, image.width, image.height))

    image_set = factory.SubFactory(ImageSetFactory)
    width = 64
    height = 64
    original_name = factory.Sequence(lambda n: f"{n:03d}_HC.png")
    file = factory.LazyAttribute(lambda image: ContentFile(image.png, name=f"imagesets/{image.original_name}"))
    sha256 = factory.LazyAttribute(lambda image: hashlib.sha256(image.png).hexdigest())

    @factory.post_generation
    def derived(self, create, extracted, **kwargs):
        if create:
            for size in TRAINING_SIZES:
                DerivedImage.objects.create(
                    image=self,
                    size=size,
                    file=ContentFile(noise_png(self.pk, size, size), name=f"derived/{size}/{self.pk}.png"),
                )


class AnnotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Annotation

    class Params:
        png = factory.LazyAttribute(lambda annotation: noise_png(annotation.image.pk, 8, 8))

    image = factory.SubFactory(ImageFactory)
    original_name = factory.LazyAttribute(
        lambda annotation: annotation.image.original_name.replace(".", "_Annotation.")
    )
    file = factory.LazyAttribute(
        lambda annotation: ContentFile(annotation.png, name=f"imagesets/{annotation.original_name}")
    )
    sha256 = factory.LazyAttribute(lambda annotation: hashlib.sha256(annotation.png).hexdigest())


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = "test job"
