"""Throttling failed logins with django-axes: the lock check, the lockout page, the client's address.

After ``LOGIN_FAILURE_LIMIT`` failed logins against one account, or from one address, logging in is refused
(even with the right password) until ``LOGIN_LOCKOUT_MINUTES`` have passed without a further attempt, or
an admin deletes the account's or address's row under *Axes > Access attempts*.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render


class HttpLoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lock check for logins over HTTP, which always pass the request.

    ``authenticate()`` without a request (the test client's ``login()``, a shell) is no attempt from an
    address that could be throttled; axes would raise for it, this backend leaves it to the next one.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_out_response(request, original_response, credentials):
    """The login page again, saying that logging in is locked and for how long (HTTP 429)."""
    context = {"form": AuthenticationForm(request), "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES}
    return render(request, "registration/login.html", context, status=429)


def forwarded_client_address(request):
    """Behind the HTTPS proxy: the address the proxy appended to ``X-Forwarded-For``, the last one.

    Entries before it came from the client and can say anything. django-ipware is not used: without a
    list of proxy addresses it prefers a public address anywhere in the header, which a client on a
    private network could forge.
    """
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    return forwarded[-1] or request.META.get("REMOTE_ADDR")
