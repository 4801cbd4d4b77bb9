"""Roles: raters, researchers and staff, read once per user object."""

import pytest

from ratingsite.accounts.models import RATERS, RESEARCHERS, add_to_role, is_rater, is_researcher
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_roles_are_read_in_one_query_and_follow_a_new_role(django_assert_num_queries):
    user = UserFactory()
    with django_assert_num_queries(1):
        assert not is_rater(user) and not is_researcher(user)
    add_to_role(user, RESEARCHERS)
    assert is_researcher(user) and not is_rater(user)
    add_to_role(user, RATERS)
    assert is_rater(user)


def test_staff_are_researchers_without_the_group():
    assert is_researcher(UserFactory(is_staff=True))


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown role"):
        add_to_role(UserFactory(), "admins")
