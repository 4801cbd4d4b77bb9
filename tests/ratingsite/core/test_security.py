"""Request size limits, upload streaming, security headers, the deploy check, file modes, session messages."""

import base64
import hashlib
import io
import os
import re
import secrets
import socket
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import django_rq
import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from ratingsite.imagesets.importing import import_image_set
from tests.conftest import REPO_ROOT
from tests.factories import ApiTokenFactory, RaterFactory, ResearcherFactory, StudyFactory
from tests.images import hc18_folder
from tests.invitations import invitation_link

pytestmark = pytest.mark.django_db

BOUNDARY = "test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
DECLARED_300_MB = str(300 * 1024**2)


def multipart_body(filename, content):
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="archive"; filename="{filename}"\r\n'
            f"Content-Type: application/zip\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def stored_zip(size):
    """A zip with one stored (uncompressed) member of ``size`` random bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("noise.bin", os.urandom(size))
    buffer.seek(0)
    buffer.name = "large.zip"
    return buffer


def text(response):
    """The answer's text, with filesizeformat's non-breaking spaces as plain ones."""
    return response.content.decode().replace("\xa0", " ")


def post_declaring(client, path, content_length, body=b""):
    """POST ``body`` while the Content-Length header says ``content_length``: the test client's payload raises
    if anything reads past the bytes really sent."""
    return client.generic("POST", path, body, content_type=MULTIPART, CONTENT_LENGTH=content_length)


def test_an_anonymous_300_mb_upload_is_refused_by_its_content_length_without_reading_it(client):
    response = post_declaring(
        client, reverse("imagesets:imageset-import"), DECLARED_300_MB, multipart_body("big.zip", b"PK")
    )
    assert response.status_code == 413
    assert text(response) == "This request is 300.0 MB, over the limit of 1.0 MB before logging in."


@pytest.mark.django_db(transaction=True)
def test_over_http_the_refusal_comes_before_the_body_is_sent(live_server):
    """A raw request that declares 300 MB and sends 1 KB: an answer at all means nothing waited for the rest.

    It carries a CSRF cookie, as an attacker's would after fetching the login page, so that the CSRF check
    goes on to read the token from the body instead of refusing at once.
    """
    host, port = live_server.url.removeprefix("http://").split(":")
    head = (
        f"POST /imagesets/import/ HTTP/1.1\r\nHost: {host}\r\nContent-Type: {MULTIPART}\r\n"
        f"Cookie: csrftoken={'a' * 32}\r\nContent-Length: {DECLARED_300_MB}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head + multipart_body("big.zip", b"x" * 1024))
        status_line = connection.makefile("rb").readline().decode()
    assert status_line.startswith("HTTP/1.1 413"), status_line


def test_a_chunked_body_without_content_length_is_refused(client):
    response = client.generic("POST", reverse("login"), HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411
    assert "Content-Length" in response.content.decode()


def test_a_rater_may_post_a_rating_sized_body_but_not_a_megabyte(client, settings):
    settings.ACCOUNT_MAX_REQUEST_BYTES = 10_000
    client.force_login(RaterFactory())
    # Within the limit: on to the view, which takes no POST.
    assert client.post(reverse("home"), {"comment": "x" * 5_000}).status_code == 405
    response = client.post(reverse("home"), {"comment": "x" * 20_000})
    assert response.status_code == 413
    assert "for accounts that are not researchers" in text(response)


def test_a_researcher_uploads_more_than_the_small_limits_up_to_the_import_limit(client, settings, rq_queues):
    settings.IMPORT_MAX_ARCHIVE_BYTES = 3 * 1024**2
    client.force_login(ResearcherFactory())
    fields = {"name": "large", "kind": "real", "resize_mode": "stretch"}
    response = client.post(reverse("imagesets:imageset-import"), {**fields, "archive": stored_zip(2 * 1024**2)})
    assert response.status_code == 302 and len(django_rq.get_queue("default")) == 1

    over = str(settings.IMPORT_MAX_ARCHIVE_BYTES + settings.UPLOAD_FORM_MARGIN_BYTES + 1)
    response = post_declaring(client, reverse("imagesets:imageset-import"), over)
    assert response.status_code == 413
    assert "over the limit of 4.0 MB for researchers (IMPORT_MAX_ARCHIVE_BYTES and 1.0 MB for the form)" in text(
        response
    )


def test_the_api_token_counts_as_its_researcher_for_the_limit(client, rq_queues):
    token = ApiTokenFactory()
    fields = {"name": "other model", "model_name": "StyleGAN2", "resize_mode": "stretch"}
    response = client.post(
        reverse("api-synthetic-set-upload"),
        {**fields, "archive": stored_zip(2 * 1024**2)},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 202, response.content


def test_a_file_over_the_archive_limit_is_stopped_while_it_streams_in(client, settings, tmp_path):
    settings.IMPORT_MAX_ARCHIVE_BYTES = 100_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # straight to a temporary file, as a large archive goes
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path
    client.force_login(ResearcherFactory())
    fields = {"name": "large", "kind": "real", "resize_mode": "stretch"}
    response = client.post(reverse("imagesets:imageset-import"), {**fields, "archive": stored_zip(300_000)})
    assert response.status_code == 413
    assert text(response) == (
        "The file 'large.zip' is over the limit of 97.7 KB for one upload (IMPORT_MAX_ARCHIVE_BYTES); "
        "its upload was stopped."
    )
    assert list(tmp_path.iterdir()) == []  # the partly written file went with the refusal


def test_pages_send_a_self_only_content_security_policy(client):
    policy = client.get(reverse("login")).headers["Content-Security-Policy"]
    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].split()[0] == "'self'" and "unsafe" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'"


def test_the_one_allowed_inline_script_hash_is_django_rqs():
    template = Path(django_rq.__file__).parent / "templates" / "django_rq" / "jobs.html"
    inline = re.search(r'<script type="text/javascript">(.*?)</script>', template.read_text(), re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in django_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"]


def test_no_template_has_an_inline_script_or_event_handler():
    """script-src 'self' blocks both: scripts live in static/js."""
    offenders = []
    for template in (REPO_ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(template.relative_to(REPO_ROOT)))
    assert offenders == []


def manage(tmp_path, *arguments, **environment):
    variables = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DEBUG")}
    variables.update(DATA_DIR=str(tmp_path / "data"), **environment)
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPO_ROOT,
        env=variables,
        capture_output=True,
        text=True,
        check=False,
    )


def test_behind_the_https_proxy_the_deploy_check_has_nothing_to_say(tmp_path):
    result = manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        BEHIND_HTTPS_PROXY="1",
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_folder_and_its_database_are_the_owners_only(tmp_path):
    result = manage(tmp_path, "migrate")
    assert result.returncode == 0, result.stdout + result.stderr
    data = tmp_path / "data"
    assert mode(data) == 0o700
    # SQLite gives its -wal and -shm files (gone once the last connection closes) the database's mode.
    for path in [data / "db.sqlite3", data / "secret_key", *data.glob("db.sqlite3-*")]:
        assert mode(path) == 0o600, path.name


def test_media_files_and_folders_are_the_owners_only(media_root, hc18_dir, tmp_path):
    stored = default_storage.save("uploads/nested/file.zip", ContentFile(b"PK"))
    assert mode(media_root) == mode(media_root / "uploads") == mode(media_root / "uploads" / "nested") == 0o700
    assert mode(media_root / stored) == 0o600
    # Files that are not uploads: an import's images and derived versions, a training run's folder.
    import_image_set(hc18_folder(hc18_dir, tmp_path / "real", 2), name="two")
    (media_root / "training" / "run-1").mkdir(parents=True)
    paths = list(media_root.rglob("*"))
    assert len(paths) > 8
    assert {mode(path) for path in paths if path.is_dir()} == {0o700}
    assert {mode(path) for path in paths if path.is_file()} == {0o600}


def test_an_invited_raters_link_is_in_no_cookie(client):
    client.force_login(ResearcherFactory(is_staff=True))  # staff may invite to any study, whoever owns it
    study = StudyFactory(name="cookies", instructions="")
    invited = client.post(
        reverse("studies:rater-invite", args=[study.pk]),
        {"username": "dr_cookie", "profession": "clinician", "years_of_experience": 3},
    )
    shown = client.get(invited.url)
    token = invitation_link(shown.content.decode()).rstrip("/").rsplit("/", 1)[1]
    for response in (invited, shown):
        assert "messages" not in response.cookies
        assert all(token not in morsel.value for morsel in response.cookies.values())
