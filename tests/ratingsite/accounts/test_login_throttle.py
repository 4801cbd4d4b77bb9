"""Failed logins lock the account and the address (django-axes); an admin unlocks; the proxy's address."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from ratingsite.accounts.login_throttle import forwarded_client_address
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed login attempts for this account or from this address"


def log_in(client, username, password, **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def logged_in(client):
    return "_auth_user_id" in client.session


def test_five_failed_logins_lock_the_account_even_for_the_right_password(client, settings):
    user = UserFactory()
    for attempt in range(settings.LOGIN_FAILURE_LIMIT - 1):
        response = log_in(client, user.username, "wrong", REMOTE_ADDR=f"10.0.0.{attempt}")
        assert response.status_code == 200 and "Please enter a correct username and password" in response.text
    last = log_in(client, user.username, "wrong", REMOTE_ADDR="10.0.0.99")
    assert last.status_code == 429 and LOCKED in last.text

    refused = log_in(client, user.username, PASSWORD, REMOTE_ADDR="10.0.1.1")  # from a fresh address
    assert refused.status_code == 429 and not logged_in(client)
    page = refused.text.replace("\n  ", " ")
    assert "Try again in 15 minutes (an attempt before then starts the wait again), or ask an admin to unlock" in page
    assert 'name="username"' in page  # the login form, with the reason above it


def test_failed_logins_from_one_address_lock_that_address_for_every_account(client, settings):
    user = UserFactory()
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(client, f"guess{attempt}", "wrong", REMOTE_ADDR="192.0.2.7")
    assert log_in(client, user.username, PASSWORD, REMOTE_ADDR="192.0.2.7").status_code == 429
    assert not logged_in(client)
    assert log_in(client, user.username, PASSWORD, REMOTE_ADDR="192.0.2.8").status_code == 302
    assert logged_in(client)


def test_an_admin_unlocks_a_locked_account(client, admin_client, settings):
    user = UserFactory()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(client, user.username, "wrong")
    assert log_in(client, user.username, PASSWORD).status_code == 429

    attempts = AccessAttempt.objects.filter(username=user.username)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert user.username in admin_client.get(changelist).text
    admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": list(attempts.values_list("pk", flat=True)), "post": "yes"},
    )
    assert not attempts.exists()
    assert log_in(client, user.username, PASSWORD).status_code == 302 and logged_in(client)


def test_behind_the_proxy_each_forwarded_client_address_is_counted_apart(client, settings):
    settings.AXES_CLIENT_IP_CALLABLE = "ratingsite.accounts.login_throttle.forwarded_client_address"
    user = UserFactory()
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        # The proxy is every request's REMOTE_ADDR; the client may put anything before the address it appends.
        log_in(
            client,
            f"guess{attempt}",
            "wrong",
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"10.9.9.{attempt}, 203.0.113.5",
        )
    locked = log_in(client, user.username, PASSWORD, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    other = log_in(client, user.username, PASSWORD, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other.status_code == 302


def test_the_forwarded_client_address_is_the_one_the_proxy_appended():
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="8.8.8.8, 10.0.0.5")
    assert forwarded_client_address(request) == "10.0.0.5"
    assert forwarded_client_address(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"


def test_the_test_clients_login_which_passes_no_request_still_works(client):
    """Axes' own backend raises for authenticate() without a request; the suite logs in that way."""
    assert client.login(username=UserFactory().username, password=PASSWORD)
