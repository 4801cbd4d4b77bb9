"""Rows for tests where only the rows matter: accounts with a role and API tokens, jobs, image sets of stand-in
images, studies with their items, participations and ratings, training runs, grids and snapshots, evaluations and
image scores.

A stand-in image is a small PNG of random gray pixels (seeded by the factory's sequence, so every image of a set
has its own sha256) with its derived versions at every training size, as an import stores them. A study item's
file is made from its image as a study makes it (`display_files.display_png`), so it has the study's size. Tests
where the pixels matter (metric values, importing, training, a study's files and their sizes) use the HC18 images
instead (`tests.images.hc18_folder`, the ``real_set`` fixture).
"""

import hashlib
import io

import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from ratingsite.accounts.models import RATERS, RESEARCHERS, ApiToken, add_to_role
from ratingsite.imagesets.models import Annotation, DerivedImage, Image, ImageSet
from ratingsite.jobs.models import Job
from ratingsite.metrics.models import Evaluation, ImageScore
from ratingsite.studies.display_files import display_png
from ratingsite.studies.models import Participation, Rating, Study, StudyItem, StudySource, new_token
from ratingsite.training.models import ExperimentGrid, Snapshot, TrainingRun
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


class ApiTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiToken

    user = factory.SubFactory(ResearcherFactory)


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


def display_file(image, study):
    """The bytes of ``image``'s file in ``study``, made as `display_files.write_display_files` makes them."""
    with image.derived.get(size=study.resolution).file.open("rb") as derived:
        return display_png(io.BytesIO(derived.read()), study.display_size)


class StudyFactory(factory.django.DjangoModelFactory):
    """A researcher's study, empty unless ``sources=[(image set, count), ...]`` asks for a pool: a source for each,
    the set's first ``count`` images made items (not drawn), and the study open, its `Study.file_bytes` set as when
    its files are all one size."""

    class Meta:
        model = Study
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"study {n}")
    rater_title = "Fetal head images"
    instructions = "Real or synthetic?"
    seed = 7
    created_by = factory.SubFactory(ResearcherFactory)

    @factory.post_generation
    def sources(self, create, sources, **kwargs):
        if not (create and sources):
            return
        for image_set, count in sources:
            StudySourceFactory(study=self, image_set=image_set, count=count)
            for image in image_set.images.order_by("pk")[:count]:
                StudyItemFactory(study=self, image=image)
        self.file_bytes = self.items.first().file.size
        Study.objects.filter(pk=self.pk).update(file_bytes=self.file_bytes)


class StudySourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudySource

    study = factory.SubFactory(StudyFactory)
    image_set = factory.SubFactory(ImageSetFactory, images=1)
    count = 1


class StudyItemFactory(factory.django.DjangoModelFactory):
    """An item of the study's pool, with the file its raters see made from its image at the study's resolution and
    display size."""

    class Meta:
        model = StudyItem

    study = factory.SubFactory(StudyFactory)
    image = factory.SubFactory(ImageFactory)
    is_real = factory.LazyAttribute(lambda item: item.image.image_set.kind == ImageSet.Kind.REAL)
    token = factory.LazyFunction(new_token)
    file = factory.LazyAttribute(
        lambda item: ContentFile(display_file(item.image, item.study), name=f"studies/{item.study.pk}/{item.token}.png")
    )


class ParticipationFactory(factory.django.DjangoModelFactory):
    """A rater invited to a study, who has not consented yet (pass ``consented``)."""

    class Meta:
        model = Participation

    study = factory.SubFactory(StudyFactory)
    rater = factory.SubFactory(RaterFactory)


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rating

    item = factory.SubFactory(StudyItemFactory)
    rater = factory.SubFactory(RaterFactory)
    answer = "real"
    quality = 3
    shown = factory.LazyFunction(timezone.now)


class ExperimentGridFactory(factory.django.DjangoModelFactory):
    """A grid of one subset of 8 images trained for one epoch, with no runs (`TrainingRunFactory` with ``grid``)."""

    class Meta:
        model = ExperimentGrid

    name = factory.Sequence(lambda n: f"grid {n}")
    dataset = factory.SubFactory(ImageSetFactory)
    architecture = "dcgan64"
    subset_sizes = [8]
    snapshot_epochs = [1]
    learning_rates = [2e-4]
    created_by = factory.SubFactory(ResearcherFactory)


class TrainingRunFactory(factory.django.DjangoModelFactory):
    """A run of one epoch on 8 images of its dataset, never trained (no job, no files)."""

    class Meta:
        model = TrainingRun

    name = factory.Sequence(lambda n: f"run {n}")
    dataset = factory.SubFactory(ImageSetFactory)
    architecture = "dcgan64"
    train_images = 8
    epochs = 1
    snapshot_epochs = [1]
    created_by = factory.SubFactory(ResearcherFactory)


class SnapshotFactory(factory.django.DjangoModelFactory):
    """A run's snapshot at its last epoch, with a stand-in sample grid and no checkpoint file behind its name."""

    class Meta:
        model = Snapshot

    run = factory.SubFactory(TrainingRunFactory)
    epoch = factory.LazyAttribute(lambda snapshot: snapshot.run.epochs)
    checkpoint = "none.pt"
    sample_grid = factory.LazyAttribute(lambda snapshot: ContentFile(noise_png(0, 64, 64), name="grid.png"))


class EvaluationFactory(factory.django.DjangoModelFactory):
    """A synthetic set scored against a real one at 64 pixels, with no values yet (pass ``values``)."""

    class Meta:
        model = Evaluation

    synthetic_set = factory.SubFactory(ImageSetFactory, kind=ImageSet.Kind.SYNTHETIC)
    reference_set = factory.SubFactory(ImageSetFactory)
    size = 64


class ImageScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImageScore

    evaluation = factory.SubFactory(EvaluationFactory)
    image = factory.SubFactory(ImageFactory, image_set=factory.SelfAttribute("..evaluation.synthetic_set"))
    values = factory.Dict({"psnr_mean_db": 10.0})
