"""Drawing a study's pool and making the files its raters see."""

import io
import random

from django.core.files.storage import default_storage
from PIL import Image as PILImage

from ratingsite.core.storage import atomic_with_files
from ratingsite.imagesets.models import DerivedImage, ImageSet
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import Outcome, tracked
from ratingsite.studies.models import Study, StudyItem
from synthesis.preprocessing import encode_png

STUDY_JOB_KIND = "prepare study"
STUDY_FILES_JOB_KIND = "rewrite study files"


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

    Every image, real or synthetic, goes through exactly this, so files differ only in their pixels. They
    are stored without compression: a compressed file's size follows its content (noise-like synthetic
    images compress worse than real ones), so the size alone, which any browser shows, told the truth.
    """
    with PILImage.open(derived_file) as image:
        shown = image.convert("L").resize((display_size, display_size), PILImage.Resampling.BICUBIC)
    return encode_png(shown, compress_level=0)


def write_display_files(study, items, save):
    """Make each item's file (named by its token) and open the study if all files are of one size.

    Refuses, with a message for the job, a study whose files differ in size: ``Content-Length`` would
    then tell real from synthetic.
    """
    derived = DerivedImage.objects.filter(image_id__in=[item.image_id for item in items], size=study.resolution)
    files = {image.image_id: image.file for image in derived}
    sizes = set()
    for item in items:
        with files[item.image_id].open("rb") as source:
            data = display_png(io.BytesIO(source.read()), study.display_size)
        item.file = save(f"studies/{study.pk}/{item.token}.png", data)
        sizes.add(len(data))
        yield item
    if len(sizes) > 1:
        raise ValueError(
            f"The study's files are {min(sizes)} to {max(sizes)} bytes: their size would tell real from synthetic "
            "images, so the study is not opened."
        )
    study.file_bytes = sizes.pop() if sizes else None
    Study.objects.filter(pk=study.pk).update(file_bytes=study.file_bytes)


@tracked
def prepare_study(progress, *, study_pk):
    study = Study.objects.get(pk=study_pk)
    drawn = draw_pool(study)
    with atomic_with_files() as save:
        study.items.all().delete()
        items = [StudyItem(study=study, image_id=derived.image_id, is_real=is_real) for derived, is_real in drawn]
        # The pool is drawn source by source, real first; saved in that order, the items' ids would follow
        # their kind, and a rater who knows the seed and the shuffle could tell which positions are real.
        random.SystemRandom().shuffle(items)
        for index, item in enumerate(write_display_files(study, items, save), start=1):
            item.save()
            progress(index, len(items), f"Prepared {index} of {len(items)} images.")
    real = sum(1 for _, is_real in drawn if is_real)
    return Outcome(
        f"Prepared {len(drawn)} images ({real} real, {len(drawn) - real} synthetic), {study.file_bytes} bytes each.",
        {"study": study.pk},
    )


@tracked
def rewrite_study_files(progress, *, study_pk):
    """Make the files of a study prepared before they were all one size again, under the same tokens.

    The items, their tokens, orders and ratings stay as they are; only the bytes of each file change.
    """
    study = Study.objects.get(pk=study_pk)
    items = list(study.items.all())
    old_files = [item.file.name for item in items]
    with atomic_with_files() as save:
        for index, item in enumerate(write_display_files(study, items, save), start=1):
            StudyItem.objects.filter(pk=item.pk).update(file=item.file.name)
            progress(index, len(items), f"Rewrote {index} of {len(items)} files.")
    kept = {item.file.name for item in items}
    for name in set(old_files) - kept:
        default_storage.delete(name)
    return Outcome(f"Rewrote {len(items)} files, {study.file_bytes} bytes each.", {"study": study.pk})


def enqueue_preparation(study, created_by=None):
    return enqueue_study_job(study, prepare_study, STUDY_JOB_KIND, created_by)


def enqueue_rewrite(study, created_by=None):
    return enqueue_study_job(study, rewrite_study_files, STUDY_FILES_JOB_KIND, created_by)


def enqueue_study_job(study, job_function, kind, created_by):
    """Queue ``job_function`` for ``study`` and make it the study's job (the one its page follows)."""
    study.job = Job.enqueue(job_function, {"study_pk": study.pk}, kind=kind, created_by=created_by)
    Study.objects.filter(pk=study.pk).update(job=study.job)
    return study.job
