"""Importing real HC18 images: folders, zips, the HC18 layout, metadata tables, derived versions."""

import hashlib
import io
import os
import signal
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest
from PIL import Image as PILImage

from ratingsite.imagesets.importing import (
    HC18_ATTRIBUTION,
    INCOMING_PREFIX,
    STORE_LOCK,
    import_image_set,
    sweep_interrupted_imports,
)
from ratingsite.imagesets.models import Annotation, DerivedImage, Image, ImageSet
from ratingsite.imagesets.sources import open_source
from synthesis.preprocessing import derive_png
from tests.conftest import REPO_ROOT
from tests.images import png_bytes

pytestmark = pytest.mark.django_db


def stored_files(media_root):
    return sorted(path for path in media_root.rglob("*") if path.is_file()) if media_root.exists() else []


def test_full_size_originals_with_annotations_and_metadata(hc18_dir):
    report = import_image_set(
        hc18_dir / "fullres_samples",
        name="originals",
        metadata_csv=hc18_dir / "training_set_pixel_size_and_HC.csv",
    )
    image_set = report.image_set
    assert (report.images, report.annotations, report.duplicates) == (24, 24, 0)
    sizes = [(image.width, image.height) for image in image_set.images.all()]
    assert sizes.count((800, 540)) == 12
    assert len([size for size in sizes if size != (800, 540)]) == 12
    assert not Image.objects.filter(original_name__contains="Annotation").exists()
    first = image_set.images.get(original_name="000_HC.png")
    assert first.annotations.get().original_name == "000_HC_Annotation.png"
    assert first.metadata == {"pixel size(mm)": pytest.approx(0.0691358041432), "head circumference (mm)": 44.3}
    assert image_set.attribution == HC18_ATTRIBUTION
    assert image_set.provenance["layout"] == "HC18"


def test_originals_are_stored_unchanged_and_derived_by_the_shared_resize(hc18_dir):
    image_set = import_image_set(hc18_dir / "fullres_samples", name="originals").image_set
    source = hc18_dir / "fullres_samples" / "139_HC.png"
    image = image_set.images.get(original_name="139_HC.png")
    stored = image.file.open("rb").read()
    assert stored == source.read_bytes()
    assert image.sha256 == hashlib.sha256(stored).hexdigest()
    for size in (64, 128):
        derived = image.derived.get(size=size).file.open("rb").read()
        assert derived == derive_png(PILImage.open(source), size)
        decoded = PILImage.open(io.BytesIO(derived))
        assert (decoded.mode, decoded.size) == ("L", (size, size))
    assert DerivedImage.objects.filter(image__image_set=image_set).count() == 48


def test_center_crop_option_is_recorded_and_used(hc18_dir):
    image_set = import_image_set(hc18_dir / "fullres_samples", name="cropped", resize_mode="center-crop").image_set
    source = PILImage.open(hc18_dir / "fullres_samples" / "000_HC.png")
    derived = image_set.images.get(original_name="000_HC.png").derived.get(size=64).file.open("rb").read()
    assert derived == derive_png(source, 64, "center-crop")
    assert derived != derive_png(source, 64, "stretch")
    assert image_set.resize_mode == "center-crop"


def test_zip_of_half_size_images(hc18_dir, tmp_path):
    names = sorted(path.name for path in (hc18_dir / "training_set_half").glob("*.png"))[:100]
    archive = tmp_path / "hc18.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in names:
            zipped.write(hc18_dir / "training_set_half" / name, f"training_set/{name}")
        zipped.writestr("__MACOSX/training_set/._000_HC.png", b"resource fork")
    report = import_image_set(archive, name="half", metadata_csv=hc18_dir / "training_set_pixel_size_and_HC.csv")
    assert report.images == 100
    assert report.skipped_system_files == 1
    assert set(report.image_set.images.values_list("original_name", flat=True)) == {f"training_set/{n}" for n in names}
    assert all(image.metadata for image in report.image_set.images.all())


def test_metadata_table_inside_the_archive(tmp_path):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.png", png_bytes(np.full((20, 30), 10, np.uint8)))
        zipped.writestr("b.png", png_bytes(np.full((20, 30), 200, np.uint8)))
        zipped.writestr("table.csv", "filename,depth (cm)\na.png,12.5\nb.png,n/a\n")
    image_set = import_image_set(archive, name="plain").image_set
    assert image_set.images.get(original_name="a.png").metadata == {"depth (cm)": 12.5}
    assert image_set.images.get(original_name="b.png").metadata == {"depth (cm)": "n/a"}
    assert image_set.attribution == ""
    assert image_set.provenance["layout"] == "plain"


def test_duplicates_are_skipped_and_counted(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    pixels = np.arange(600, dtype=np.uint8).reshape(20, 30)
    for name in ("a.png", "copy of a.png", "sub/again a.png"):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(png_bytes(pixels))
    (folder / "b.png").write_bytes(png_bytes(pixels.T.copy()))
    report = import_image_set(folder, name="dups")
    assert (report.images, report.duplicates) == (2, 2)
    assert report.image_set.provenance["duplicates_skipped"] == 2
    assert "2 duplicate images skipped" in report.message


def test_sixteen_bit_and_rgba_images_are_converted_with_a_note(tmp_path, media_root):
    folder = tmp_path / "images"
    folder.mkdir()
    deep = np.full((64, 64), 65535, np.uint16)
    deep[:32] = 257 * 100
    PILImage.fromarray(deep).save(folder / "deep.png")
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., :3] = (90, 120, 200)
    rgba[..., 3] = 255
    PILImage.fromarray(rgba, "RGBA").save(folder / "colour.png")
    report = import_image_set(folder, name="converted")
    assert report.converted == 2
    deep_image = report.image_set.images.get(original_name="deep.png")
    assert "16-bit gray mapped linearly" in deep_image.conversion_note
    assert deep_image.file.open("rb").read() == (folder / "deep.png").read_bytes()
    derived = np.asarray(PILImage.open(deep_image.derived.get(size=64).file.open("rb")))
    assert derived[0, 0] == 100 and derived[-1, -1] == 255
    colour = report.image_set.images.get(original_name="colour.png")
    assert "RGBA image converted to 8-bit gray" in colour.conversion_note
    gray = np.asarray(PILImage.open(colour.derived.get(size=64).file.open("rb")))
    assert gray[10, 10] == round(0.299 * 90 + 0.587 * 120 + 0.114 * 200)


def test_no_upsampled_derived_versions(tmp_path):
    folder = tmp_path / "synthetic"
    folder.mkdir()
    (folder / "0000.png").write_bytes(png_bytes(np.arange(64 * 64, dtype=np.uint32).reshape(64, 64).astype(np.uint8)))
    (folder / "small.png").write_bytes(png_bytes(np.zeros((40, 50), np.uint8)))
    image_set = import_image_set(folder, name="small", kind="synthetic").image_set
    image = image_set.images.get(original_name="0000.png")
    assert list(image.derived.values_list("size", flat=True)) == [64]
    assert image.derived.get().file.open("rb").read() == image.file.open("rb").read()
    assert not image_set.images.get(original_name="small.png").derived.exists()


def test_counts_match_database(hc18_dir):
    import_image_set(hc18_dir / "fullres_samples", name="originals")
    assert ImageSet.objects.count() == 1
    assert Image.objects.count() == 24
    assert Annotation.objects.count() == 24


def test_files_stay_in_a_temporary_folder_until_the_commit(tmp_path, media_root):
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(3):
        (folder / f"{index}.png").write_bytes(png_bytes(np.full((70, 70), index, np.uint8)))
    seen_while_storing = {}

    def look_at_the_media(image_set):
        seen_while_storing["set folder"] = (media_root / "imagesets" / str(image_set.pk)).exists()
        seen_while_storing["incoming"] = [
            len([path for path in incoming.rglob("*") if path.is_file()])
            for incoming in (media_root / "imagesets").glob(INCOMING_PREFIX + "*")
        ]

    image_set = import_image_set(folder, name="staged", on_created=look_at_the_media).image_set
    # 3 originals and their 64-pixel versions, none in the set's folder before the commit.
    assert seen_while_storing == {"set folder": False, "incoming": [6]}
    assert not list((media_root / "imagesets").glob(INCOMING_PREFIX + "*"))
    for image in image_set.images.all():
        assert image.file.name.startswith(f"imagesets/{image_set.pk}/original/")
        assert image.file.open("rb").read() == (folder / image.original_name).read_bytes()
        assert image.derived.get().file.path.startswith(str(media_root / "imagesets" / str(image_set.pk)))


def test_sweep_deletes_what_killed_imports_left_and_waits_for_imports_storing(tmp_path, media_root):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_bytes(np.full((20, 20), 7, np.uint8)))
    kept = import_image_set(folder, name="kept").image_set
    sets_root = media_root / "imagesets"
    leftovers = [sets_root / f"{INCOMING_PREFIX}died", sets_root / str(kept.pk + 1)]
    for leftover in leftovers:
        (leftover / "original").mkdir(parents=True)
        (leftover / "original" / "x.png").write_bytes(b"half written")
    # A real import storing elsewhere holds the store lock shared, from another process.
    storing = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from synthesis.locking import file_lock\n"
            "with file_lock(sys.argv[1], shared=True, remove_when_free=True):\n"
            " print('locked', flush=True); time.sleep(120)",
            str(sets_root / STORE_LOCK),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert storing.stdout.readline() == "locked\n"
        assert sweep_interrupted_imports() == []
        assert all(leftover.exists() for leftover in leftovers)
    finally:
        os.kill(storing.pid, signal.SIGKILL)  # the kernel frees its lock
        storing.wait()
    assert sweep_interrupted_imports() == sorted(leftovers)
    assert [path.name for path in sets_root.iterdir()] == [str(kept.pk)]
    assert kept.images.get().file.open("rb").read() == (folder / "a.png").read_bytes()


def test_zip_members_are_read_in_chunks(tmp_path):
    size = 16 * 1024**2
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("big.tif", np.random.default_rng(0).integers(0, 256, size, np.uint8).tobytes())
    with open_source(archive) as files:
        tracemalloc.start()
        try:
            data = files[0].read()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert len(data) == size
    # ZipFile.read peaks at about 3.5 times the member; the chunks and their join at 2.
    assert peak < 2.5 * size, peak / size
