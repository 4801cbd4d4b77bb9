"""rq job functions of the image-set app."""

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage

from ratingsite.imagesets.importing import import_image_set
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import Outcome, tracked


@tracked
def import_images(progress, *, source, name, kind, resize_mode, metadata_csv=None, created_by_pk=None, uploaded=False):
    """Import the folder or zip at ``source``; an ``uploaded`` source is a name in the media storage."""
    report = import_image_set(
        default_storage.path(source) if uploaded else source,
        name=name,
        kind=kind,
        resize_mode=resize_mode,
        metadata_csv=metadata_csv,
        created_by=get_user_model().objects.filter(pk=created_by_pk).first(),
        progress=progress,
    )
    return Outcome(report.message, report.as_dict())


IMPORT_JOB_KIND = "import images"


def enqueue_import(*, source, name, kind, resize_mode="stretch", metadata_csv=None, created_by=None, uploaded=False):
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
        },
        kind=IMPORT_JOB_KIND,
        created_by=created_by,
        owned_files=[source] if uploaded else [],
    )
