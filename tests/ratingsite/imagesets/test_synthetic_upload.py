"""Synthetic sets from other models: web form and REST endpoint with token authentication."""

import io
import zipfile

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from ratingsite.accounts.models import ApiToken
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job
from tests.factories import ApiTokenFactory, RaterFactory, ResearcherFactory
from tests.images import png_bytes

pytestmark = pytest.mark.django_db


def zipped_pngs(count=5):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            archive.writestr(f"{index:04d}.png", png_bytes(np.full((64, 64), index * 20, np.uint8)))
    buffer.seek(0)
    buffer.name = "generated.zip"
    return buffer


def upload_fields(**changes):
    fields = {
        "name": "StyleGAN2 epoch 40",
        "model_name": "StyleGAN2",
        "epoch": 40,
        "notes": "ADA",
        "resize_mode": "stretch",
    }
    fields.update(changes)
    return fields


def test_rest_upload_with_a_researcher_token(client, run_worker):
    token = ApiTokenFactory()
    response = client.post(
        reverse("api-synthetic-set-upload"),
        {**upload_fields(), "archive": zipped_pngs()},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"])
    assert response.json()["url"].endswith(job.get_absolute_url())
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FINISHED, job.error
    image_set = ImageSet.objects.get()
    assert image_set.kind == ImageSet.Kind.SYNTHETIC and image_set.images.count() == 5
    assert image_set.created_by == token.user
    assert {key: image_set.provenance[key] for key in ("model", "epoch", "notes")} == {
        "model": "StyleGAN2",
        "epoch": 40,
        "notes": "ADA",
    }


@pytest.mark.parametrize("header", ["", "Token wrong", "Bearer x"])
def test_rest_upload_refuses_missing_or_bad_tokens(client, header):
    response = client.post(
        reverse("api-synthetic-set-upload"), {**upload_fields(), "archive": zipped_pngs()}, HTTP_AUTHORIZATION=header
    )
    assert response.status_code == 401 and "API token" in response.json()["error"]
    assert not Job.objects.exists()


def test_rest_upload_is_for_researchers_only(client):
    token = ApiTokenFactory(user=RaterFactory())
    response = client.post(
        reverse("api-synthetic-set-upload"),
        {**upload_fields(), "archive": zipped_pngs()},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 403 and not Job.objects.exists()


def test_rest_upload_validates_like_the_form(client, media_root):
    token = ApiTokenFactory()
    not_a_zip = io.BytesIO(b"plain text")
    not_a_zip.name = "x.zip"
    response = client.post(
        reverse("api-synthetic-set-upload"),
        {**upload_fields(model_name=""), "archive": not_a_zip},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["archive"][0]["message"] == "This file is not a zip archive." and "model_name" in errors
    assert not Job.objects.exists() and not (media_root / "uploads").exists()


def test_web_upload_of_a_synthetic_set(client, run_worker):
    client.force_login(ResearcherFactory())
    response = client.post(
        reverse("imagesets:imageset-upload-synthetic"), {**upload_fields(), "archive": zipped_pngs(3)}
    )
    job = Job.objects.get()
    assert response.url == job.get_absolute_url()
    run_worker()
    assert ImageSet.objects.get().provenance["model"] == "StyleGAN2"


def test_api_token_command(capsys):
    researcher = ResearcherFactory()
    call_command("api_token", researcher.username)
    assert ApiToken.objects.get(user=researcher).key == capsys.readouterr().out.strip()
    with pytest.raises(CommandError, match="not a researcher"):
        call_command("api_token", RaterFactory().username)
