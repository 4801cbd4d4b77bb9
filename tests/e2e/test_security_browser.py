"""In chromium: the login lockout page, and django-rq's admin page under the Content Security Policy."""

import pytest

from tests.e2e.browsing import csp_violations, log_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_locked_login_says_so_on_the_login_page(browser, live_server, settings):
    user = UserFactory()
    page = browser.new_page()
    violations = csp_violations(page)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "wrong")
        with page.expect_navigation():
            page.click("main button[type=submit]")
    assert "Try again in 15 minutes" in page.inner_text("main")
    assert page.locator("#id_username").is_visible()
    assert violations == []


def test_django_rqs_admin_script_runs_under_the_policy(browser, live_server, rq_queues):
    admin = UserFactory(is_staff=True, is_superuser=True)
    page = browser.new_page()
    violations = csp_violations(page)
    log_in(page, live_server.url, admin.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/django-rq/queues/0/")
    assert page.locator("#changelist-form").count() == 1
    assert violations == []
