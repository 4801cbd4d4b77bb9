"""Reading the files of an import from a folder or a zip archive, refusing archives that are unsafe.

An archive is checked as a whole before any member is read: every member path must stay inside the
archive (no absolute paths, drive letters or ``..``), no member may be encrypted, no member may inflate
more than ``IMPORT_MAX_COMPRESSION_RATIO`` times its compressed size, and all members together may not
inflate past ``IMPORT_MAX_UNCOMPRESSED_BYTES`` (zip bombs). The archive itself may not be larger than
``IMPORT_MAX_ARCHIVE_BYTES``. `zipfile` stops inflating a member at its declared size, so the declared
sizes bound what is actually read.
"""

import dataclasses
import os
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.template.defaultfilters import filesizeformat

# Files that operating systems and archivers add on their own; they are skipped, not refused.
SYSTEM_FILE_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
SYSTEM_FOLDERS = {"__MACOSX"}
READ_CHUNK_BYTES = 1024**2


class ImportRefused(ValueError):
    """The import cannot go ahead; the message says why, for the person who started it."""


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """One file of an import: its path inside the folder or archive, and a way to read its bytes."""

    name: str
    size: int
    read: callable = dataclasses.field(repr=False, compare=False)

    @property
    def basename(self):
        return PurePosixPath(self.name).name

    @property
    def is_system_file(self):
        path = PurePosixPath(self.name)
        return (
            path.name in SYSTEM_FILE_NAMES
            or path.name.startswith("._")
            or any(part in SYSTEM_FOLDERS for part in path.parts)
        )


@contextmanager
def open_source(path):
    """Yield the `SourceFile` list of a folder (recursively, sorted by path) or of a zip archive."""
    path = Path(path)
    if path.is_dir():
        yield _folder_files(path)
    elif path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            yield _archive_files(archive, path.stat().st_size)
    elif path.exists():
        raise ImportRefused(f"{path.name} is neither a folder nor a zip archive.")
    else:
        raise ImportRefused(f"{path} does not exist.")


def _folder_files(folder):
    files = []
    for root, directories, names in os.walk(folder):
        directories.sort()
        for name in sorted(names):
            file_path = Path(root, name)
            if file_path.is_file():
                files.append(
                    SourceFile(
                        name=file_path.relative_to(folder).as_posix(),
                        size=file_path.stat().st_size,
                        read=file_path.read_bytes,
                    )
                )
    return files


def _archive_files(archive, archive_size):
    if archive_size > settings.IMPORT_MAX_ARCHIVE_BYTES:
        raise ImportRefused(
            f"The archive is {filesizeformat(archive_size)}, over the limit of "
            f"{filesizeformat(settings.IMPORT_MAX_ARCHIVE_BYTES)}."
        )
    members = [info for info in archive.infolist() if not info.is_dir()]
    total = sum(info.file_size for info in members)
    if total > settings.IMPORT_MAX_UNCOMPRESSED_BYTES:
        raise ImportRefused(
            f"The archive inflates to {filesizeformat(total)}, over the limit of "
            f"{filesizeformat(settings.IMPORT_MAX_UNCOMPRESSED_BYTES)}; it looks like a zip bomb."
        )
    for info in members:
        _check_member_path(info.filename)
        if info.flag_bits & 0x1:
            raise ImportRefused(f"{info.filename} is encrypted; import archives without a password.")
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > settings.IMPORT_MAX_COMPRESSION_RATIO:
            raise ImportRefused(
                f"{info.filename} inflates {ratio:.0f} times its compressed size (the limit is "
                f"{settings.IMPORT_MAX_COMPRESSION_RATIO}); the archive looks like a zip bomb."
            )
    return [
        SourceFile(name=info.filename, size=info.file_size, read=lambda info=info: _read_member(archive, info))
        for info in sorted(members, key=lambda info: info.filename)
    ]


def _check_member_path(name):
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")) or ".." in path.parts:
        raise ImportRefused(f"The archive member {name!r} points outside the archive; the archive is refused.")


def _read_member(archive, info):
    # In chunks: ZipFile.read holds about three times the member in memory at its peak, chunks about two.
    try:
        with archive.open(info) as member:
            return b"".join(iter(lambda: member.read(READ_CHUNK_BYTES), b""))
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise ImportRefused(f"{info.filename} cannot be read from the archive: {error}.") from error
