"""rq job functions of the studies app, and the helpers that queue them: preparing a study (drawing its pool and
making the files its raters see) and rewriting its files."""

import random

from django.core.files.storage import default_storage

from ratingsite.core.storage import atomic_with_files
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import Outcome, tracked
from ratingsite.studies.display_files import write_display_files
from ratingsite.studies.drawing import draw_pool, draw_repeats
from ratingsite.studies.models import Study, StudyItem

STUDY_JOB_KIND = "prepare study"
STUDY_FILES_JOB_KIND = "rewrite study files"


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
