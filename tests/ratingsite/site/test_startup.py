"""The first page does not wait for the heavy libraries: the URLconf (which every request imports), the login
page and the home page import none of them; the pages and jobs that use them import them."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.ratingsite.site.test_serve import embedded_environment

pytestmark = pytest.mark.slow

HEAVY_LIBRARIES = ("torch", "torchvision", "matplotlib", "scipy", "statsmodels", "pandas", "skimage", "sklearn")

# Run by a fresh interpreter, in the order of a site's start: migrate and collect the static files (as
# serve does before it starts gunicorn), import the URLconf (as the WSGI module does), then the first pages.
FIRST_PAGES = """
import json, sys
import django
from django.core.management import call_command

django.setup()
call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import get_resolver

from ratingsite.accounts.models import RATERS, RESEARCHERS, add_to_role

get_resolver().url_patterns
statuses = {"login page": Client(HTTP_HOST="localhost").get("/accounts/login/").status_code}
users = {"staff": get_user_model().objects.create_superuser("staff")}
for role in (RESEARCHERS, RATERS):
    users[role] = get_user_model().objects.create_user(role)
    add_to_role(users[role], role)
for name, user in users.items():
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    statuses[f"home page of {name}"] = client.get("/").status_code
print(json.dumps({"statuses": statuses, "imported": sorted(set(sys.modules) & set(json.loads(sys.argv[1])))}))
"""


def test_the_urlconf_login_and_home_pages_import_no_heavy_library(tmp_path):
    checked = subprocess.run(
        [sys.executable, "-c", FIRST_PAGES, json.dumps(HEAVY_LIBRARIES)],
        cwd=REPO_ROOT,
        env={**embedded_environment(tmp_path), "DJANGO_SETTINGS_MODULE": "ratingsite.settings"},
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    found = json.loads(checked.stdout.splitlines()[-1])
    assert set(found["statuses"].values()) == {200}, found
    assert found["imported"] == [], found
