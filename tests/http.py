"""A small HTTP client for tests against a running server (the live server, or `manage.py serve`)."""

import http.cookiejar
import re
import urllib.parse
import urllib.request


class Browser:
    """A cookie-keeping HTTP client, enough to log in through Django's CSRF-protected form."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path):
        with self.opener.open(self.base_url + path, timeout=10) as response:
            return response.status, response.read().decode()

    def post(self, path, fields):
        data = urllib.parse.urlencode(fields).encode()
        with self.opener.open(self.base_url + path, data=data, timeout=10) as response:
            return response.status, response.read().decode()

    def log_in(self, username, password):
        _, page = self.get("/accounts/login/")
        token = self.csrf_token(page)
        return self.post("/accounts/login/", {"csrfmiddlewaretoken": token, "username": username, "password": password})

    @staticmethod
    def csrf_token(page):
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
