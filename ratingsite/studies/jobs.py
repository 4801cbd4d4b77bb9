"""Drawing a study's pool and making the files its raters see."""

import io
import random

from PIL import Image as PILImage

from ratingsite.core.storage import atomic_with_files
from ratingsite.imagesets.models import DerivedImage, ImageSet
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import Outcome, tracked
from ratingsite.studies.models import Study, StudyItem
from synthesis.preprocessing import encode_png

STUDY_JOB_KIND = "prepare study"


def draw_pool(study):
    """``[(derived image, is_real)]``: each source's ``count`` images, drawn with (study seed, set)."""
    drawn = []
    for source in study.sources.select_related("image_set"):
        derived = list(
            DerivedImage.objects.filter(image__image_set=source.image_set, size=study.resolution).order_by("image_id")
        )
        if source.count > len(derived):
            raise ValueError(
                f"{source.image_set.name} has {len(derived)} images at {study.resolution} x {study.resolution}; "
                f"{source.count} cannot be drawn from it."
            )
        chosen = random.Random(f"{study.seed}:{source.image_set_id}").sample(derived, source.count)
        drawn.extend((item, source.image_set.kind == ImageSet.Kind.REAL) for item in chosen)
    if not drawn:
        raise ValueError("The study has no images: add at least one image set with a count.")
    return drawn


def display_png(derived_file, display_size):
    """The file raters see: the derived image scaled to ``display_size`` by bicubic resampling, one encoder.

    Every image, real or synthetic, goes through exactly this, so files differ only in their pixels.
    """
    with PILImage.open(derived_file) as image:
        shown = image.convert("L").resize((display_size, display_size), PILImage.Resampling.BICUBIC)
    return encode_png(shown)


@tracked
def prepare_study(progress, *, study_pk):
    study = Study.objects.get(pk=study_pk)
    drawn = draw_pool(study)
    with atomic_with_files() as save:
        study.items.all().delete()
        for index, (derived, is_real) in enumerate(drawn, start=1):
            item = StudyItem(study=study, image_id=derived.image_id, is_real=is_real)
            with derived.file.open("rb") as source:
                item.file = save(
                    f"studies/{study.pk}/{item.token}.png", display_png(io.BytesIO(source.read()), study.display_size)
                )
            item.save()
            progress(index, len(drawn), f"Prepared {index} of {len(drawn)} images.")
    real = sum(1 for _, is_real in drawn if is_real)
    return Outcome(f"Prepared {len(drawn)} images ({real} real, {len(drawn) - real} synthetic).", {"study": study.pk})


def enqueue_preparation(study, created_by=None):
    study.job = Job.enqueue(prepare_study, {"study_pk": study.pk}, kind=STUDY_JOB_KIND, created_by=created_by)
    Study.objects.filter(pk=study.pk).update(job=study.job)
    return study.job
