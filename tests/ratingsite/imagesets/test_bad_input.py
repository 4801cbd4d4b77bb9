"""Every kind of bad input is refused with a message that names the problem, and leaves nothing behind."""

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image as PILImage

from ratingsite.imagesets.importing import import_image_set
from ratingsite.imagesets.models import Annotation, DerivedImage, Image, ImageSet
from ratingsite.imagesets.sources import ImportRefused
from tests.images import png_bytes

pytestmark = pytest.mark.django_db


GOOD_PNG = png_bytes(np.arange(1200, dtype=np.uint8).reshape(30, 40))


def png_header_only(width, height):
    """A PNG that declares ``width x height`` 8-bit gray pixels and carries one row of data."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))
        + chunk(b"IEND", b"")
    )


def write_zip(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def assert_refused(path, media_root, *message_parts):
    with pytest.raises(ImportRefused) as refusal:
        import_image_set(path, name="bad")
    for part in message_parts:
        assert part in str(refusal.value)
    assert ImageSet.objects.count() == Image.objects.count() == DerivedImage.objects.count() == 0
    assert Annotation.objects.count() == 0
    assert not media_root.exists() or not any(path.is_file() for path in media_root.rglob("*"))
    return str(refusal.value)


@pytest.mark.parametrize("member", ["../escape.png", "/etc/absolute.png", "ok/../../escape.png", "C:/windows.png"])
def test_zip_slip_paths(tmp_path, media_root, member):
    archive = write_zip(tmp_path / "slip.zip", {"fine.png": GOOD_PNG, member: GOOD_PNG})
    assert_refused(archive, media_root, "points outside the archive")


def test_small_zip_inflating_past_the_cap(tmp_path, media_root, settings):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 512 * 1024
    archive = write_zip(tmp_path / "bomb.zip", {"bomb.png": b"\0" * (1024 * 1024)})
    assert archive.stat().st_size < 1500
    assert_refused(archive, media_root, "inflates to 1.0\xa0MB", "zip bomb")


def test_member_with_extreme_compression_ratio(tmp_path, media_root):
    archive = write_zip(tmp_path / "ratio.zip", {"fine.png": GOOD_PNG, "zeros.png": b"\0" * (4 * 1024 * 1024)})
    assert_refused(archive, media_root, "zeros.png inflates", "times its compressed size")


def test_decompression_bomb_header(tmp_path, media_root):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "fine.png").write_bytes(GOOD_PNG)
    (folder / "huge.png").write_bytes(png_header_only(20000, 20000))
    assert_refused(folder, media_root, "huge.png", "400000000 pixels", "decompression bomb")


def test_image_over_the_configured_pixel_limit(tmp_path, media_root, settings):
    settings.IMPORT_MAX_IMAGE_PIXELS = 1000
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "large.png").write_bytes(png_header_only(100, 20))
    assert_refused(folder, media_root, "large.png is 100x20 pixels", "decompression bomb")


def test_text_file_renamed_png(tmp_path, media_root):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "fine.png").write_bytes(GOOD_PNG)
    (folder / "notes.png").write_text("these are not pixels\n" * 20)
    assert_refused(folder, media_root, "notes.png is not a readable image")


def test_truncated_png(tmp_path, media_root, hc18_dir):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "fine.png").write_bytes(GOOD_PNG)
    original = (hc18_dir / "training_set_half" / "000_HC.png").read_bytes()
    (folder / "cut.png").write_bytes(original[: len(original) // 2])
    assert_refused(folder, media_root, "cut.png is truncated or corrupt")


def test_corrupt_jpeg(tmp_path, media_root):
    buffer = io.BytesIO()
    PILImage.fromarray(np.full((64, 64), 128, np.uint8)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    data[200:260] = b"\xff" * 60
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "broken.jpg").write_bytes(bytes(data[: len(data) // 2]))
    assert_refused(folder, media_root, "broken.jpg")


def test_non_image_file(tmp_path, media_root):
    archive = write_zip(tmp_path / "mixed.zip", {"fine.png": GOOD_PNG, "readme.txt": b"hello"})
    assert_refused(archive, media_root, "readme.txt is not an image")


def test_unsupported_pixel_format(tmp_path, media_root):
    folder = tmp_path / "images"
    folder.mkdir()
    PILImage.fromarray(np.zeros((8, 8), np.float32), "F").save(folder / "float.tif")
    assert_refused(folder, media_root, "float.tif", "cannot be converted to 8-bit gray")


def test_empty_archive(tmp_path, media_root):
    archive = write_zip(tmp_path / "empty.zip", {})
    assert_refused(archive, media_root, "There are no images to import", "empty")


def test_archive_with_only_system_files(tmp_path, media_root):
    archive = write_zip(tmp_path / "junk.zip", {".DS_Store": b"x", "__MACOSX/._a.png": b"y"})
    assert_refused(archive, media_root, "There are no images to import")


def test_archive_over_the_size_limit(tmp_path, media_root, settings, hc18_dir):
    settings.IMPORT_MAX_ARCHIVE_BYTES = 100_000
    archive = write_zip(tmp_path / "big.zip", {"a.png": (hc18_dir / "fullres_samples" / "000_HC.png").read_bytes()})
    assert archive.stat().st_size > 100_000
    assert_refused(archive, media_root, "over the limit of 97.7\xa0KB")


@pytest.mark.parametrize("packed", ["folder", "zip"])
def test_file_over_the_per_file_limit_is_refused(tmp_path, media_root, settings, packed):
    settings.IMPORT_MAX_FILE_BYTES = 1000
    members = {"small.png": GOOD_PNG, "large.png": GOOD_PNG + bytes(1000)}
    source = tmp_path / "images"
    if packed == "zip":
        write_zip(source.with_suffix(".zip"), members)
        source = source.with_suffix(".zip")
    else:
        source.mkdir()
        for name, data in members.items():
            (source / name).write_bytes(data)
    assert_refused(source, media_root, "large.png is 1.1\xa0KB, over the limit of 1000\xa0bytes for one file.")


def test_not_a_zip_or_folder(tmp_path, media_root):
    (tmp_path / "images.tar").write_bytes(b"not a zip")
    assert_refused(tmp_path / "images.tar", media_root, "neither a folder nor a zip")
    assert_refused(tmp_path / "missing", media_root, "does not exist")


def test_annotation_without_its_image(tmp_path, media_root):
    archive = write_zip(tmp_path / "orphan.zip", {"001_HC.png": GOOD_PNG, "002_HC_Annotation.png": GOOD_PNG})
    assert_refused(archive, media_root, "002_HC.png has no image")


def test_metadata_table_without_filename_column(tmp_path, media_root):
    archive = write_zip(tmp_path / "table.zip", {"a.png": GOOD_PNG, "table.csv": b"name,value\na.png,1\n"})
    assert_refused(archive, media_root, "table.csv has no 'filename' column")


def test_one_bad_file_among_many_good_ones_keeps_nothing(tmp_path, media_root, hc18_dir):
    members = {path.name: path.read_bytes() for path in sorted((hc18_dir / "training_set_half").glob("*.png"))[:30]}
    members["zz_truncated.png"] = members["000_HC.png"][:5000]
    archive = write_zip(tmp_path / "mostly_good.zip", members)
    assert_refused(archive, media_root, "zz_truncated.png is truncated or corrupt")


def test_failure_while_storing_removes_written_files(tmp_path, media_root, monkeypatch):
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(3):
        (folder / f"{index}.png").write_bytes(png_bytes(np.full((10, 10), index, np.uint8)))

    def failing_bulk_create(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(DerivedImage.objects, "bulk_create", failing_bulk_create)
    with pytest.raises(OSError, match="disk full"):
        import_image_set(folder, name="interrupted")
    assert ImageSet.objects.count() == Image.objects.count() == 0
    assert not any(path.is_file() for path in media_root.rglob("*"))
    assert not (media_root / "imagesets").exists() or not any((media_root / "imagesets").iterdir())
