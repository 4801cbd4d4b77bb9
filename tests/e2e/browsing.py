"""Driving Debian's chromium with Playwright: where it is, its flags, where screenshots go, logging in, and
the Content Security Policy violations a page reports."""

import os
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = REPO_ROOT / "test-output"


def require_chromium():
    """Skip the test where chromium is missing; fail it on CI, which installs chromium."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def log_in(page, base_url, username, password):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "Welcome" in page.content(), "the login failed"


def csp_violations(page):
    """A list that collects the Content Security Policy violations chromium reports on the page's console."""
    violations = []

    def collect(message):
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", collect)
    return violations
