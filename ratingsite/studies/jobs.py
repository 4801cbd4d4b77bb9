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
    """``[(derived image, source)]``: each source's ``count`` images, drawn with (study seed, set); practice
    images may be none of the pool's."""
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
        drawn.extend((item, source) for item in chosen)
    if not any(not source.practice for _, source in drawn):
        raise ValueError("The study has no images: add at least one image set with a count.")
    pool = {derived.image.sha256 for derived, source in drawn if not source.practice}
    shared = {derived.image.sha256 for derived, source in drawn if source.practice} & pool
    if shared:
        raise ValueError(
            f"{len(shared)} practice images are also in the study's pool (the same file in another set); practice "
            "images must be new to the rater."
        )
    return drawn


def draw_repeats(study, items):
    """Second showings (unsaved `StudyItem`s) of ``study.repeat_count`` of ``items`` (the pool's first showings
    that are no attention check), half real and half synthetic as far as they allow, drawn with the study seed.

    Fails when the pool cannot give them, or they cannot all be shown ``repeat_gap`` images after their first
    showing in an order of the pool's length (`models.with_repeats`).
    """
    wanted, pool_size = study.repeat_count, study.items.filter(role=StudyItem.Role.POOL).count()
    if wanted > len(items):
        raise ValueError(
            f"{wanted} images cannot be shown twice: the pool has {len(items)} that are no attention check."
        )
    if wanted and wanted > pool_size - study.repeat_gap:
        raise ValueError(
            f"{wanted} images cannot each be shown again {study.repeat_gap} images after the first time in a pool of "
            f"{pool_size}: show fewer twice, or ask for a smaller gap."
        )
    rng = random.Random(f"{study.seed}:repeats")
    real, synthetic = (
        [item for item in sorted(items, key=lambda item: item.image_id) if item.is_real == kind]
        for kind in (True, False)
    )
    # An odd count's extra image is real or synthetic by the seed, so the count tells nothing either.
    half = wanted // 2 + (wanted % 2 and rng.random() < 0.5)
    n_real = min(len(real), max(half, wanted - len(synthetic)))
    chosen = rng.sample(real, n_real) + rng.sample(synthetic, wanted - n_real)
    return [
        StudyItem(
            study=study, image_id=first.image_id, is_real=first.is_real, role=StudyItem.Role.REPEAT, repeat_of=first
        )
        for first in chosen
    ]


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
        items = [
            StudyItem(
                study=study,
                image_id=derived.image_id,
                is_real=source.image_set.kind == ImageSet.Kind.REAL,
                role=StudyItem.Role.PRACTICE if source.practice else StudyItem.Role.POOL,
            )
            for derived, source in drawn
        ]
        # The pool is drawn source by source, real first; saved in that order, the items' ids would follow
        # their kind, and a rater who knows the seed and the shuffle could tell which positions are real.
        random.SystemRandom().shuffle(items)
        StudyItem.objects.bulk_create(items)
        attention_images = {derived.image_id for derived, source in drawn if source.attention_check}
        ordinary = [
            item for item in items if item.role == StudyItem.Role.POOL and item.image_id not in attention_images
        ]
        repeats = draw_repeats(study, ordinary)
        random.SystemRandom().shuffle(repeats)
        StudyItem.objects.bulk_create(repeats)
        everything = items + repeats
        for index, item in enumerate(write_display_files(study, everything, save), start=1):
            StudyItem.objects.filter(pk=item.pk).update(file=item.file.name)
            progress(index, len(everything), f"Prepared {index} of {len(everything)} images.")
    pool = [item for item in items if item.role == StudyItem.Role.POOL]
    real = sum(item.is_real for item in pool)
    extras = "".join(
        f", {count} {what}"
        for count, what in ((len(repeats), "shown twice"), (len(items) - len(pool), "for practice"))
        if count
    )
    return Outcome(
        f"Prepared {len(pool)} images ({real} real, {len(pool) - real} synthetic{extras}), "
        f"{study.file_bytes} bytes each.",
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
