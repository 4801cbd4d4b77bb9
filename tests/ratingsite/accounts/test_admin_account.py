"""The first admin account: a password from the environment must pass the password validators."""

import pytest
from django.contrib.auth import get_user_model

from ratingsite.accounts.admin_account import WeakAdminPassword, ensure_admin

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password", "This password is too common."),
        ("x7$k", "This password is too short."),
        ("48201937465", "This password is entirely numeric."),
    ],
)
def test_a_weak_admin_password_makes_no_account(password, reason):
    with pytest.raises(WeakAdminPassword, match="DJANGO_ADMIN_PASSWORD") as refused:
        ensure_admin("admin", password)
    assert reason in str(refused.value)
    assert not get_user_model().objects.exists()


def test_a_strong_admin_password_makes_the_account():
    assert ensure_admin("admin", "a-long-test-password") == ("admin", None)
    assert get_user_model().objects.get(is_superuser=True).check_password("a-long-test-password")


def test_without_a_password_one_is_generated():
    username, generated = ensure_admin("root")
    assert username == "root" and get_user_model().objects.get(is_superuser=True).check_password(generated)
