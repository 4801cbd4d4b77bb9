"""The researcher's web import: upload a zip, a job imports it through a real worker, the pages show it."""

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage

from ratingsite.imagesets import views
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job
from tests.factories import AnnotationFactory, ImageFactory, ImageSetFactory, RaterFactory, ResearcherFactory

pytestmark = pytest.mark.django_db


def zip_upload(files, name="images.zip"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


@pytest.fixture
def researcher_client(client):
    client.force_login(ResearcherFactory())
    return client


def test_upload_of_100_half_size_images_through_a_worker(researcher_client, run_worker, hc18_dir, media_root):
    paths = sorted((hc18_dir / "training_set_half").glob("*.png"))[:100]
    upload = zip_upload({path.name: path.read_bytes() for path in paths})
    response = researcher_client.post(
        reverse("imagesets:imageset-import"),
        {"name": "HC18 first 100", "kind": "real", "resize_mode": "stretch", "archive": upload},
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert job.status == Job.Status.QUEUED
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FINISHED, job.error
    assert (job.progress_done, job.progress_total) == (100, 100)
    image_set = ImageSet.objects.get(pk=job.result["image_set"])
    assert image_set.images.count() == 100
    assert image_set.provenance["source"] == "images.zip"  # as uploaded, not the stored copy's random name
    assert not (media_root / "uploads").exists() or not any((media_root / "uploads").iterdir())

    page = researcher_client.get(job.get_absolute_url()).content.decode()
    assert "finished" in page and "Imported 100 images" in page
    detail = researcher_client.get(image_set.get_absolute_url()).content.decode()
    assert "van den Heuvel" in detail  # the HC18 attribution wherever its images are shown
    image = image_set.images.first()
    thumbnail = researcher_client.get(reverse("imagesets:image-derived-file", args=[image.pk, 128]))
    assert thumbnail["Content-Type"] == "image/png"
    assert b"".join(thumbnail.streaming_content) == image.derived.get(size=128).file.open("rb").read()


def test_bad_upload_shows_the_reason_on_the_job_page(researcher_client, run_worker, media_root):
    upload = zip_upload({"../../etc/passwd.png": b"x"})
    researcher_client.post(
        reverse("imagesets:imageset-import"),
        {"name": "slip", "kind": "real", "resize_mode": "stretch", "archive": upload},
    )
    run_worker()
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert "points outside the archive" in job.error
    assert "points outside the archive" in researcher_client.get(job.get_absolute_url()).content.decode()
    assert ImageSet.objects.count() == 0
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_cancelling_a_queued_upload_removes_the_uploaded_archive(researcher_client, run_worker, media_root):
    upload = zip_upload({"a.png": b"x"})
    researcher_client.post(
        reverse("imagesets:imageset-import"), {"name": "x", "kind": "real", "resize_mode": "stretch", "archive": upload}
    )
    job = Job.objects.get()
    assert len(list((media_root / "uploads").iterdir())) == 1
    response = researcher_client.post(reverse("jobs:job-cancel", args=[job.pk]), follow=True)
    assert f"Job #{job.pk} cancelled." in response.content.decode()
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert list((media_root / "uploads").iterdir()) == []
    assert ImageSet.objects.count() == 0


def test_form_refuses_a_file_that_is_not_a_zip(researcher_client):
    upload = SimpleUploadedFile("images.zip", b"plain text", content_type="application/zip")
    response = researcher_client.post(
        reverse("imagesets:imageset-import"), {"name": "x", "kind": "real", "resize_mode": "stretch", "archive": upload}
    )
    assert response.status_code == 200
    assert "This file is not a zip archive." in response.content.decode()
    assert Job.objects.count() == 0


def test_form_refuses_an_archive_over_the_limit(researcher_client, settings):
    settings.IMPORT_MAX_ARCHIVE_BYTES = 100
    upload = zip_upload({f"{index}.png": bytes(range(256)) for index in range(5)})
    response = researcher_client.post(
        reverse("imagesets:imageset-import"), {"name": "x", "kind": "real", "resize_mode": "stretch", "archive": upload}
    )
    assert "over the limit of 100" in response.content.decode()
    assert Job.objects.count() == 0


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("imagesets:imageset-list", []),
        ("imagesets:imageset-import", []),
        ("jobs:job-list", []),
    ],
)
def test_researcher_pages_need_login_and_the_researcher_role(client, url_name, args):
    url = reverse(url_name, args=args)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    client.force_login(RaterFactory())
    assert client.get(url).status_code == 403
    client.force_login(ResearcherFactory())
    assert client.get(url).status_code == 200


def test_image_files_are_for_researchers_only(client):
    image = ImageFactory()
    url = reverse("imagesets:image-file", args=[image.pk])
    assert client.get(url).status_code == 302
    client.force_login(RaterFactory())
    assert client.get(url).status_code == 403
    client.force_login(ResearcherFactory())
    assert client.get(url).status_code == 200


def test_deleting_a_set_deletes_its_files(media_root):
    image_set = ImageSetFactory(images=2)
    AnnotationFactory(image=image_set.images.first())
    assert any(path.is_file() for path in media_root.rglob("*"))
    image_set.delete()
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_a_set_page_pages_through_every_image(researcher_client, real_set_rows, monkeypatch):
    monkeypatch.setattr(views, "IMAGES_PER_PAGE", 10)
    url = real_set_rows.get_absolute_url()
    first = researcher_client.get(url).content.decode()
    assert first.count("<figure>") == 10 and "Images 1 to 10 of 24" in first
    assert '<a href="?page=2">next</a>' in first
    last = researcher_client.get(f"{url}?page=3").content.decode()
    assert last.count("<figure>") == 4 and "Images 21 to 24 of 24" in last
    shown = set()
    for page in (1, 2, 3):
        shown.update(
            re.findall(
                r"/imagesets/images/(\d+)/thumbnail.png", researcher_client.get(f"{url}?page={page}").content.decode()
            )
        )
    assert shown == {str(pk) for pk in real_set_rows.images.values_list("pk", flat=True)}
    assert "Images 21 to 24 of 24" in researcher_client.get(f"{url}?page=99").content.decode()


def test_thumbnails_keep_the_images_aspect_ratio(researcher_client, real_set):
    image = real_set.images.first()
    assert (image.width, image.height) == (400, 270)  # HC18 half size
    page = researcher_client.get(real_set.get_absolute_url()).content.decode()
    url = reverse("imagesets:image-thumbnail", args=[image.pk])
    assert f'<img src="{url}" width="128" height="86"' in page
    response = researcher_client.get(url)
    assert response["Content-Type"] == "image/png" and "max-age" in response["Cache-Control"]
    thumbnail = PILImage.open(io.BytesIO(response.content))
    assert thumbnail.size == (256, 173) and thumbnail.mode == "L"


def test_derived_versions_read_one_line_per_size(researcher_client, real_set_rows):
    page = researcher_client.get(real_set_rows.get_absolute_url()).content.decode()
    assert "<dd>64 x 64: 24 images<br>128 x 128: 24 images<br>resize mode: stretch</dd>" in page
