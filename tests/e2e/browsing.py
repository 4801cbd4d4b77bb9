"""Driving Debian's chromium with Playwright: where it is, its flags, where screenshots go, logging in."""

from tests.conftest import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = REPO_ROOT / "test-output"


def log_in(page, base_url, username, password):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "Welcome" in page.content(), "the login failed"
