"""rq job functions of the image-set app, and the helper that queues them."""

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage

from ratingsite.imagesets.importing import import_image_set
from ratingsite.imagesets.models import DerivedImage, ImageSet
from ratingsite.imagesets.scoring import request_scoring
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import Outcome, tracked

IMPORT_JOB_KIND = "import images"


@tracked
def import_images(
    progress,
    *,
    source,
    name,
    kind,
    resize_mode,
    metadata_csv=None,
    created_by_pk=None,
    uploaded=False,
    score_against_pk=None,
    provenance=None,
):
    """Import the folder or zip at ``source``; an ``uploaded`` source is a name in the media storage.

    With ``score_against_pk``, the new set is then scored against that real set at its largest derived
    resolution (the one it was made at, for generated images).
    """
    created_by = get_user_model().objects.filter(pk=created_by_pk).first()
    report = import_image_set(
        default_storage.path(source) if uploaded else source,
        name=name,
        kind=kind,
        resize_mode=resize_mode,
        metadata_csv=metadata_csv,
        provenance=provenance,
        created_by=created_by,
        progress=progress,
    )
    message, result = report.message, report.as_dict()
    sizes = DerivedImage.objects.filter(image__image_set=report.image_set).values_list("size", flat=True)
    if score_against_pk is not None and sizes:
        reference = ImageSet.objects.get(pk=score_against_pk)
        scoring = request_scoring(report.image_set, reference, max(sizes), created_by=created_by)
        message += f" Scoring against {reference.name} queued as job #{scoring.pk}."
        result["scoring_job"] = scoring.pk
    return Outcome(message, result)


def enqueue_import(
    *,
    source,
    name,
    kind,
    resize_mode="stretch",
    metadata_csv=None,
    created_by=None,
    uploaded=False,
    score_against=None,
    provenance=None,
):
    """Queue `import_images` with a `Job` row that the Jobs page shows."""
    return Job.enqueue(
        import_images,
        {
            "source": str(source),
            "uploaded": uploaded,
            "name": name,
            "kind": kind,
            "resize_mode": resize_mode,
            "metadata_csv": str(metadata_csv) if metadata_csv else None,
            "created_by_pk": created_by.pk if created_by else None,
            "score_against_pk": score_against.pk if score_against else None,
            "provenance": provenance,
        },
        kind=IMPORT_JOB_KIND,
        created_by=created_by,
        owned_files=[source] if uploaded else [],
    )
