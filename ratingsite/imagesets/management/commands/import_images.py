import os

from django.core.management.base import BaseCommand, CommandError

from ratingsite.imagesets.importing import import_image_set
from ratingsite.imagesets.jobs import enqueue_import
from ratingsite.imagesets.models import ImageSet
from ratingsite.imagesets.sources import ImportRefused
from ratingsite.jobs.tracking import progress_bar
from synthesis.preprocessing import RESIZE_MODES


class Command(BaseCommand):
    help = "Import a folder or zip archive of images as a new image set (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A folder (searched recursively) or a .zip archive.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", choices=ImageSet.Kind.values, default=ImageSet.Kind.REAL)
        parser.add_argument("--resize-mode", choices=RESIZE_MODES, default=RESIZE_MODES[0])
        parser.add_argument("--metadata", help="A CSV table with a 'filename' column, attached per image.")
        parser.add_argument("--background", action="store_true", help="Queue the import as an rq job instead.")

    def handle(self, *args, path, name, kind, resize_mode, metadata, background, **options):
        if background:
            job = enqueue_import(
                source=os.path.abspath(path),
                name=name,
                kind=kind,
                resize_mode=resize_mode,
                metadata_csv=os.path.abspath(metadata) if metadata else None,
            )
            self.stdout.write(f"Queued as job #{job.pk}; follow it on the Jobs page.")
            return
        with progress_bar() as report_progress:
            try:
                report = import_image_set(
                    path,
                    name=name,
                    kind=kind,
                    resize_mode=resize_mode,
                    metadata_csv=metadata,
                    progress=report_progress,
                )
            except ImportRefused as error:
                raise CommandError(f"Nothing was imported: {error}") from error
        self.stdout.write(self.style.SUCCESS(report.message) + f" (image set #{report.image_set.pk})")
