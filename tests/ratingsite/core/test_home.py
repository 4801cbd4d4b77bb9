import pytest
from django.urls import reverse

from tests.factories import PASSWORD, RaterFactory, ResearcherFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_is_the_only_public_page(client):
    assert client.get(reverse("login")).status_code == 200
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home.url.startswith(reverse("login"))


def test_login_then_home_by_role(client):
    researcher = ResearcherFactory()
    response = client.post(reverse("login"), {"username": researcher.username, "password": PASSWORD}, follow=True)
    page = response.content.decode()
    assert f"Welcome, {researcher.username}" in page
    assert reverse("imagesets:imageset-list") in page

    client.force_login(RaterFactory())
    page = client.get(reverse("home")).content.decode()
    assert reverse("imagesets:imageset-list") not in page

    client.force_login(UserFactory())
    assert "no role yet" in client.get(reverse("home")).content.decode()


def test_admin_site_lists_every_model(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    for model in ("image sets", "images", "derived images", "annotations", "jobs"):
        assert f">{model.capitalize()}<" in page or f">{model}<" in page.lower()
