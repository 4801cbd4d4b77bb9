"""The import_images and fetch_hc18 management commands."""

import hashlib
import zipfile

import pytest
from django.core.management import CommandError, call_command

from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job

pytestmark = pytest.mark.django_db


def test_import_images_in_the_foreground(hc18_dir, capsys):
    call_command(
        "import_images",
        str(hc18_dir / "fullres_samples"),
        "--name",
        "originals",
        "--metadata",
        str(hc18_dir / "training_set_pixel_size_and_HC.csv"),
    )
    assert "Imported 24 images" in capsys.readouterr().out
    image_set = ImageSet.objects.get(name="originals")
    assert image_set.images.count() == 24
    assert image_set.images.filter(metadata__has_key="head circumference (mm)").count() == 24


def test_import_images_in_the_background(hc18_dir, run_worker):
    call_command("import_images", str(hc18_dir / "fullres_samples"), "--name", "queued", "--background")
    job = Job.objects.get()
    assert job.status == Job.Status.QUEUED
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FINISHED, job.error
    assert ImageSet.objects.get(name="queued").images.count() == 24


def test_import_images_refusal_is_a_command_error(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(CommandError, match="Nothing was imported: notes.png is not a readable image"):
        call_command("import_images", str(tmp_path), "--name", "bad")
    assert ImageSet.objects.count() == 0


@pytest.fixture
def hc18_zip(tmp_path, hc18_dir):
    archive = tmp_path / "training_set.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((hc18_dir / "fullres_samples").glob("*.png")):
            zipped.write(path, f"training_set/{path.name}")
    return archive


def test_fetch_hc18_verifies_then_imports_a_local_copy(hc18_zip, hc18_dir):
    md5 = hashlib.md5(hc18_zip.read_bytes()).hexdigest()
    call_command(
        "fetch_hc18",
        "--zip",
        str(hc18_zip),
        "--md5",
        md5,
        "--csv",
        str(hc18_dir / "training_set_pixel_size_and_HC.csv"),
    )
    image_set = ImageSet.objects.get(name="HC18 training set")
    assert image_set.images.count() == 24
    assert image_set.images.get(original_name="training_set/000_HC.png").metadata["head circumference (mm)"] == 44.3
    assert image_set.provenance["md5"] == md5
    assert "CC BY 4.0" in image_set.attribution


def test_fetch_hc18_refuses_a_copy_with_the_wrong_checksum(hc18_zip, hc18_dir):
    with pytest.raises(CommandError, match="Nothing was imported: training_set.zip has md5 .* expected"):
        call_command(
            "fetch_hc18",
            "--zip",
            str(hc18_zip),
            "--md5",
            "0" * 32,
            "--csv",
            str(hc18_dir / "training_set_pixel_size_and_HC.csv"),
        )
    assert ImageSet.objects.count() == 0


def test_fetch_hc18_refuses_a_modified_pixel_size_table(hc18_zip, hc18_dir, tmp_path):
    table = tmp_path / "training_set_pixel_size_and_HC.csv"
    table.write_text((hc18_dir / "training_set_pixel_size_and_HC.csv").read_text().replace("44.3", "45.3"))
    md5 = hashlib.md5(hc18_zip.read_bytes()).hexdigest()
    with pytest.raises(CommandError, match="training_set_pixel_size_and_HC.csv has md5"):
        call_command("fetch_hc18", "--zip", str(hc18_zip), "--md5", md5, "--csv", str(table))
    assert ImageSet.objects.count() == 0
