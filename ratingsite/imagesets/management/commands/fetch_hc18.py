from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ratingsite.imagesets import hc18
from ratingsite.imagesets.importing import import_image_set
from ratingsite.imagesets.models import ImageSet
from ratingsite.imagesets.sources import ImportRefused
from ratingsite.jobs.tracking import progress_bar
from synthesis.preprocessing import RESIZE_MODES


class Command(BaseCommand):
    help = (
        "Download the official HC18 training set (Zenodo 10.5281/zenodo.1327317), verify its checksums and "
        "import it as a real image set. With --zip, verify and import a copy downloaded before."
    )

    def add_arguments(self, parser):
        parser.add_argument("--zip", help="A training_set.zip downloaded before, instead of downloading.")
        parser.add_argument("--md5", help="The zip's expected md5 (default: the checksum the Zenodo record publishes).")
        parser.add_argument(
            "--csv", help=f"A {hc18.PIXEL_SIZE_CSV} downloaded before, verified against its pinned md5."
        )
        parser.add_argument("--name", default="HC18 training set")
        parser.add_argument("--resize-mode", choices=RESIZE_MODES, default=RESIZE_MODES[0])

    def handle(self, *args, zip, md5, csv, name, resize_mode, **options):
        downloads = Path(settings.DATA_DIR, "downloads")
        downloads.mkdir(exist_ok=True)
        published = None
        if zip is None or (md5 is None) or csv is None:
            try:
                published = hc18.published_files()
            except OSError as error:
                raise CommandError(
                    f"Cannot reach the Zenodo record ({error}). Without internet, download {hc18.TRAINING_ZIP} "
                    "elsewhere and pass --zip PATH --md5 CHECKSUM."
                ) from error
        archive = Path(zip) if zip else self._download(published, hc18.TRAINING_ZIP, downloads)
        table = Path(csv) if csv else (self._download(published, hc18.PIXEL_SIZE_CSV, downloads) if published else None)
        try:
            hc18.verify_md5(archive, md5 or published[hc18.TRAINING_ZIP][1])
            if table is not None:
                hc18.verify_md5(table, hc18.PIXEL_SIZE_CSV_MD5)
        except (OSError, hc18.ChecksumMismatch) as error:
            raise CommandError(f"Nothing was imported: {error}") from error
        self.stdout.write("Checksums verified.")
        with progress_bar() as report_progress:
            try:
                report = import_image_set(
                    archive,
                    name=name,
                    kind=ImageSet.Kind.REAL,
                    resize_mode=resize_mode,
                    metadata_csv=table,
                    provenance={"record": "doi:10.5281/zenodo.1327317", "md5": hc18.md5_of(archive)},
                    progress=report_progress,
                )
            except ImportRefused as error:
                raise CommandError(f"Nothing was imported: {error}") from error
        self.stdout.write(self.style.SUCCESS(report.message) + f" (image set #{report.image_set.pk})")

    def _download(self, published, file_name, folder):
        url, _ = published[file_name]
        destination = folder / file_name
        with progress_bar(unit="B") as report_progress:
            try:
                return hc18.download(url, destination, progress=report_progress)
            except OSError as error:
                raise CommandError(f"Downloading {file_name} failed: {error}") from error
