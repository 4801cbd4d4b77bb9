"""Importing a folder or zip archive of images as a new `ImageSet`, all or nothing.

The import runs in two passes so that nothing is written unless everything is good:

1. Check: every file is classified (image, annotation, metadata table, system file), every image and
   annotation is decoded in full (truncated or corrupt files, decompression bombs and unconvertible
   pixel formats are refused here), hashed, converted to 8-bit gray and resized to each training
   resolution not larger than the image (a 64-pixel synthetic image gets no upsampled 128 version).
   Any refusal stops the import with a message naming the file; nothing has been written.
2. Store: inside one database transaction the set, its images, derived images and annotations are
   created and their files written into a temporary folder, ``imagesets/.incoming-*``; the last step
   before the commit renames it to the set's folder, ``imagesets/<id>``. If anything fails, the
   transaction rolls back and the folder is deleted. A process killed while storing (``kill -9``, out
   of memory) cannot clean up: it leaves a temporary folder, or, killed between the rename and the
   commit, a set folder whose row never committed. `sweep_interrupted_imports` deletes both (``serve``
   runs it when it starts and whenever it restarts its worker); while it does, a file lock keeps
   imports from storing, and it does nothing while any import is storing.

Files recognised:

* images: ``.png``, ``.jpg``/``.jpeg``, ``.bmp``, ``.tif``/``.tiff`` (the content must match: a text
  file renamed ``.png`` is refused);
* HC18 layout: ``NNN_HC.png``, ``NNN_2HC.png``, ... are images; ``NNN_HC_Annotation.png`` is the expert
  head outline of ``NNN_HC.png`` in the same folder, stored as its annotation;
* metadata tables: a ``.csv`` with a ``filename`` column (such as HC18's
  ``training_set_pixel_size_and_HC.csv``); each row is attached to the image of that file name;
* system files (``.DS_Store``, ``__MACOSX/``, ...) are skipped.

Anything else is refused, and so is any file over ``IMPORT_MAX_FILE_BYTES`` (default 64 MiB), before
anything is read: each file is read whole into memory to be checked. An image whose bytes repeat an
earlier one (same sha256) is skipped and counted.
"""

import csv
import dataclasses
import hashlib
import io
import re
import shutil
import uuid
import warnings
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from ratingsite.imagesets.models import Annotation, DerivedImage, Image, ImageSet
from ratingsite.imagesets.sources import ImportRefused, open_source
from synthesis.locking import LockHeld, file_lock
from synthesis.preprocessing import (
    IMAGE_SUFFIXES,
    TRAINING_SIZES,
    UnsupportedImageError,
    derive_png,
    to_gray8,
)

SETS_FOLDER = "imagesets"  # in the media storage
INCOMING_PREFIX = ".incoming-"
# Held shared by every import while it stores, exclusively by the sweep.
STORE_LOCK = ".store.lock"
IMAGE_FORMATS = {"PNG", "JPEG", "BMP", "TIFF"}
HC18_IMAGE = re.compile(r"^\d{3}_\d*HC\.png$", re.IGNORECASE)
HC18_ANNOTATION = re.compile(r"^(\d{3}_\d*HC)_Annotation\.png$", re.IGNORECASE)
HC18_ATTRIBUTION = (
    "HC18 fetal head ultrasound images: T. L. A. van den Heuvel, D. de Bruijn, C. L. de Korte, "
    "B. van Ginneken (2018). Automated measurement of fetal head circumference using 2D ultrasound "
    "images. PLOS ONE 13(8). Data: Zenodo, doi:10.5281/zenodo.1327317. Licence: CC BY 4.0."
)


@dataclasses.dataclass
class CheckedFile:
    source: object
    sha256: str
    width: int
    height: int
    note: str = ""
    derived: dict = dataclasses.field(default_factory=dict)
    annotations: list = dataclasses.field(default_factory=list)
    metadata: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ImportReport:
    image_set: ImageSet
    images: int
    annotations: int
    duplicates: int
    converted: int
    skipped_system_files: int

    @property
    def message(self):
        parts = [f"Imported {self.images} images into “{self.image_set.name}”"]
        if self.annotations:
            parts.append(f"{self.annotations} annotations")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate images skipped")
        if self.converted:
            parts.append(f"{self.converted} converted to 8-bit gray")
        if self.skipped_system_files:
            parts.append(f"{self.skipped_system_files} system files ignored")
        return ", ".join(parts) + "."

    def as_dict(self):
        return {
            "image_set": self.image_set.pk,
            "images": self.images,
            "annotations": self.annotations,
            "duplicates": self.duplicates,
            "converted": self.converted,
            "skipped_system_files": self.skipped_system_files,
        }


def import_image_set(
    path,
    *,
    name,
    kind=ImageSet.Kind.REAL,
    resize_mode="stretch",
    metadata_csv=None,
    provenance=None,
    created_by=None,
    progress=None,
    on_created=None,
):
    """Import the images under ``path`` (folder or zip) as a new set; returns an `ImportReport`.

    Raises `ImportRefused` with a message for people if anything is wrong; nothing is kept then.
    ``on_created(image_set)`` runs inside the import's transaction, so that rows linking the new set
    commit or roll back with it.
    """
    progress = progress or (lambda done, total, message="": None)
    if kind not in ImageSet.Kind.values:
        raise ImportRefused(f"Unknown kind {kind!r}; choose real or synthetic.")
    external_metadata = _read_metadata_file(Path(metadata_csv)) if metadata_csv else {}
    with open_source(path) as files:
        system_files = [file for file in files if file.is_system_file]
        files = [file for file in files if not file.is_system_file]
        images, annotations, tables = _classify(files)
        _refuse_files_over_the_limit(files)
        if not images:
            raise ImportRefused(
                "There are no images to import" + (f" in {Path(path).name}." if files else ": it is empty.")
            )
        metadata = dict(external_metadata)
        for table in tables:
            metadata.update(_read_metadata_table(table.name, table.read()))
        checked, duplicates = _check_images(images, annotations, metadata, resize_mode, progress)
        progress(0, len(checked), f"Saving {len(checked)} images.")
        is_hc18 = any(HC18_IMAGE.match(item.source.basename) for item in checked)
        image_set = _store(
            checked,
            name=name,
            kind=kind,
            resize_mode=resize_mode,
            provenance={
                "source": Path(path).name,
                "resize_mode": resize_mode,
                "layout": "HC18" if is_hc18 else "plain",
                "duplicates_skipped": duplicates,
                **(provenance or {}),
            },
            attribution=HC18_ATTRIBUTION if is_hc18 else "",
            created_by=created_by,
            on_created=on_created,
        )
    return ImportReport(
        image_set=image_set,
        images=len(checked),
        annotations=sum(len(item.annotations) for item in checked),
        duplicates=duplicates,
        converted=sum(1 for item in checked if item.note),
        skipped_system_files=len(system_files),
    )


def _classify(files):
    images, annotations, tables = [], {}, []
    for file in files:
        suffix = PurePosixPath(file.name).suffix.lower()
        annotation_of = HC18_ANNOTATION.match(file.basename)
        if annotation_of:
            image_name = str(
                PurePosixPath(file.name).with_name(annotation_of.group(1) + PurePosixPath(file.name).suffix)
            )
            annotations[image_name] = file
        elif suffix in IMAGE_SUFFIXES:
            images.append(file)
        elif suffix == ".csv":
            tables.append(file)
        else:
            raise ImportRefused(
                f"{file.name} is not an image ({', '.join(sorted(IMAGE_SUFFIXES))}) or a metadata table (.csv); "
                "remove it and import again."
            )
    image_names = {file.name for file in images}
    orphans = sorted(name for name in annotations if name not in image_names)
    if orphans:
        raise ImportRefused(f"The annotation of {orphans[0]} has no image beside it ({len(orphans)} such annotations).")
    return images, annotations, tables


def _refuse_files_over_the_limit(files):
    """Refuse before reading anything: each file is read whole into memory to be checked."""
    limit = settings.IMPORT_MAX_FILE_BYTES
    for file in files:
        if file.size > limit:
            raise ImportRefused(
                f"{file.name} is {filesizeformat(file.size)}, over the limit of {filesizeformat(limit)} for one file."
            )


def _read_metadata_file(path):
    if not path.is_file():
        raise ImportRefused(f"The metadata table {path} does not exist.")
    return _read_metadata_table(path.name, path.read_bytes())


def _read_metadata_table(name, data):
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImportRefused(f"{name} is not a readable CSV table: {error}.") from error
    if not rows or not any(column.strip().lower() == "filename" for column in rows[0]):
        raise ImportRefused(f"{name} has no 'filename' column, so its rows cannot be matched to images.")
    filename_column = next(column for column in rows[0] if column.strip().lower() == "filename")
    return {
        row[filename_column]: {
            column.strip(): _number_or_text(value) for column, value in row.items() if column != filename_column
        }
        for row in rows
    }


def _number_or_text(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _check_images(images, annotations, metadata, resize_mode, progress):
    checked, seen, duplicates = [], set(), 0
    for index, file in enumerate(images, start=1):
        data = file.read()
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 in seen:
            duplicates += 1
        else:
            seen.add(sha256)
            gray, note = decode_gray(file.name, data)
            item = CheckedFile(
                source=file,
                sha256=sha256,
                width=gray.width,
                height=gray.height,
                note=note,
                derived={
                    size: derive_png(gray, size, resize_mode) for size in TRAINING_SIZES if size <= min(gray.size)
                },
                metadata=metadata.get(file.basename, {}),
            )
            annotation = annotations.get(file.name)
            if annotation is not None:
                annotation_data = annotation.read()
                decode_gray(annotation.name, annotation_data)
                item.annotations.append((annotation, hashlib.sha256(annotation_data).hexdigest()))
            checked.append(item)
        progress(index, len(images), f"Checked {index} of {len(images)} files.")
    return checked, duplicates


def decode_gray(name, data):
    """Decode image bytes in full and return ``(mode-L image, conversion note)``, or refuse them."""
    max_pixels = settings.IMPORT_MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            image = PILImage.open(io.BytesIO(data))
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as error:
            raise ImportRefused(
                f"{name} is too large to decode safely ({error}); it is refused as a possible decompression bomb."
            ) from error
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ImportRefused(f"{name} is not a readable image (PNG, JPEG, BMP or TIFF).") from error
        if image.format not in IMAGE_FORMATS:
            raise ImportRefused(f"{name} is a {image.format} file; import PNG, JPEG, BMP or TIFF images.")
        if image.width * image.height > max_pixels:
            raise ImportRefused(_too_large(name, image.width, image.height, max_pixels))
        if getattr(image, "n_frames", 1) > 1:
            raise ImportRefused(f"{name} holds {image.n_frames} frames; import single-frame images.")
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombWarning) as error:
            raise ImportRefused(f"{name} is truncated or corrupt: {error}.") from error
    try:
        return to_gray8(image)
    except UnsupportedImageError as error:
        raise ImportRefused(f"{name}: {error}.") from error


def _too_large(name, width, height, max_pixels):
    return (
        f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), over the limit of "
        f"{max_pixels / 1e6:.0f} megapixels; it is refused as a possible decompression bomb."
    )


def _store(checked, *, name, kind, resize_mode, provenance, attribution, created_by, on_created):
    sets_root = Path(settings.MEDIA_ROOT, SETS_FOLDER)
    sets_root.mkdir(parents=True, exist_ok=True)
    with file_lock(sets_root / STORE_LOCK, shared=True, remove_when_free=True):
        files_at = sets_root / f"{INCOMING_PREFIX}{uuid.uuid4().hex}"
        files_at.mkdir()
        try:
            with transaction.atomic():
                image_set = ImageSet.objects.create(
                    name=name,
                    kind=kind,
                    resize_mode=resize_mode,
                    provenance=provenance,
                    attribution=attribution,
                    created_by=created_by,
                )
                _store_files(image_set, checked, FileSystemStorage(location=files_at))
                if on_created is not None:
                    on_created(image_set)
                set_folder = sets_root / str(image_set.pk)
                if set_folder.exists():
                    # Left by an import that died before committing this id (SQLite hands it out again).
                    shutil.rmtree(set_folder)
                files_at = files_at.rename(set_folder)
        except BaseException:
            shutil.rmtree(files_at, ignore_errors=True)
            raise
    return image_set


def _store_files(image_set, checked, storage):
    """Create the set's rows, writing their files into ``storage`` under the names they will have in the set's folder."""
    folder = f"{SETS_FOLDER}/{image_set.pk}"

    def save(name, data):
        return f"{folder}/{storage.save(name, ContentFile(data))}"

    rows = []
    for item in checked:
        data = item.source.read()
        if hashlib.sha256(data).hexdigest() != item.sha256:
            raise ImportRefused(f"{item.source.name} changed while it was being imported; import again.")
        suffix = PurePosixPath(item.source.name).suffix.lower()
        rows.append(
            Image(
                image_set=image_set,
                file=save(f"original/{item.sha256}{suffix}", data),
                sha256=item.sha256,
                width=item.width,
                height=item.height,
                original_name=item.source.name,
                conversion_note=item.note,
                metadata=item.metadata,
            )
        )
    images = Image.objects.bulk_create(rows, batch_size=500)
    derived, annotations = [], []
    for image, item in zip(images, checked, strict=True):
        for size, data in item.derived.items():
            derived.append(DerivedImage(image=image, size=size, file=save(f"{size}/{item.sha256}.png", data)))
        for annotation, sha256 in item.annotations:
            annotations.append(
                Annotation(
                    image=image,
                    file=save(f"annotation/{sha256}.png", annotation.read()),
                    sha256=sha256,
                    original_name=annotation.name,
                )
            )
    DerivedImage.objects.bulk_create(derived, batch_size=1000)
    Annotation.objects.bulk_create(annotations, batch_size=1000)


def sweep_interrupted_imports():
    """Delete what imports killed while storing left in the media storage; returns the folders deleted.

    These are the temporary folders, and the set folders whose set has no row. Nothing is deleted while an
    import is storing, since its folders would look the same.
    """
    sets_root = Path(settings.MEDIA_ROOT, SETS_FOLDER)
    if not sets_root.is_dir():
        return []
    try:
        with file_lock(sets_root / STORE_LOCK, wait=False, remove_when_free=True):
            stored = {str(pk) for pk in ImageSet.objects.values_list("pk", flat=True)}
            leftovers = [
                folder
                for folder in sorted(sets_root.iterdir())
                if folder.is_dir()
                and (folder.name.startswith(INCOMING_PREFIX) or (folder.name.isdigit() and folder.name not in stored))
            ]
            for folder in leftovers:
                shutil.rmtree(folder)
            return leftovers
    except LockHeld:
        return []
