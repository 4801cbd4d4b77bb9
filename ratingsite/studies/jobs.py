"""Drawing a study's pool and making the files its raters see."""

import io
import random

from django.core.files.storage import default_storage
from PIL import Image as PILImage

from ratingsite.core.storage import atomic_with_files
from ratingsite.imagesets.models import DerivedImage, ImageSet
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import Outcome, tracked
from ratingsite.studies.models import Study, StudyItem, count_problem, repeats_problem
from synthesis.preprocessing import encode_png

STUDY_JOB_KIND = "prepare study"
STUDY_FILES_JOB_KIND = "rewrite study files"


def draw_pool(study):
    """``[(derived image, source)]``: each source's ``count`` images, drawn with (study seed, set), the pool's
    first; a practice source draws from its set's images that are not in the pool (by content, so an image
    imported twice is one image), so a practice round may take real images of the pool's own set."""
    drawn, pool = [], set()
    for source in study.sources.select_related("image_set").order_by("practice", "pk"):
        derived = [
            image
            for image in DerivedImage.objects.filter(image__image_set=source.image_set, size=study.resolution)
            .select_related("image")
            .order_by("image_id")
            if not source.practice or image.image.sha256 not in pool
        ]
        problem = count_problem(source.image_set, len(derived), source.count, study.resolution, source.practice)
        if problem:
            raise ValueError(problem)
        seed = f"{study.seed}:{source.image_set_id}" + (":practice" if source.practice else "")
        chosen = random.Random(seed).sample(derived, source.count)
        drawn.extend((item, source) for item in chosen)
        if not source.practice:
            pool.update(item.image.sha256 for item in chosen)
    if not pool:
        raise ValueError("The study has no images: add at least one image set with a count.")
    return drawn


def draw_repeats(study, items):
    """Second showings (unsaved `StudyItem`s) of ``study.repeat_count`` of ``items`` (the pool's first showings
    that are no attention check), drawn with the study seed; fails as `repeats_problem` says.

    Real and synthetic images are shown twice in the pool's own proportion, not half and half: the first
    showings of repeated images keep to the order's first ``len - gap`` places and the second showings to its
    second half, so where the repeated images' share of real images differs from the pool's, so does the share
    of real images at those places, and a place would tell something of the kind. With a fraction, the count is
    rounded up or down by the seed (with the fraction as the chance of up).
    """
    pool = study.items.filter(role=StudyItem.Role.POOL)
    wanted, pool_size = study.repeat_count, pool.count()
    problem = repeats_problem(wanted, ordinary=len(items), pool=pool_size, gap=study.repeat_gap)
    if problem:
        raise ValueError(problem)
    rng = random.Random(f"{study.seed}:repeats")
    real, synthetic = (
        [item for item in sorted(items, key=lambda item: item.image_id) if item.is_real == kind]
        for kind in (True, False)
    )
    share = wanted * pool.filter(is_real=True).count() / pool_size if wanted else 0
    n_real = int(share) + (rng.random() < share - int(share))
    n_real = min(len(real), max(n_real, wanted - len(synthetic)))
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
    old_files = list(study.items.values_list("file", flat=True))
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
    # A study drawn again after an edit: its earlier files are no one's now.
    for name in old_files:
        default_storage.delete(name)
    pool = [item for item in items if item.role == StudyItem.Role.POOL]
    real = sum(item.is_real for item in pool)
    extras = "".join(
        f"; {text}"
        for count, text in (
            (len(repeats), f"{len(repeats)} of them shown twice"),
            (len(items) - len(pool), f"{len(items) - len(pool)} practice images besides"),
        )
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
    study.job = Job.enqueue(
        job_function, {"study_pk": study.pk}, kind=kind, created_by=created_by, result={"study": study.pk}
    )
    Study.objects.filter(pk=study.pk).update(job=study.job)
    return study.job
