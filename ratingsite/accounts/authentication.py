"""Token authentication for the REST endpoints (no session, no CSRF: the token is the credential)."""

import functools

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ratingsite.accounts.models import ApiToken, is_researcher


def token_user(request):
    """The active user whose key the request carries as ``Authorization: Token <key>``, or None."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    token = ApiToken.objects.select_related("user").filter(key=key.strip()).first() if scheme == "Token" else None
    return token.user if token is not None and token.user.is_active else None


def researcher_token_required(view):
    """The request must carry ``Authorization: Token <key>`` of a researcher; the view sees that user."""

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        user = token_user(request)
        if user is None:
            return JsonResponse({"error": "Send a valid API token as 'Authorization: Token <key>'."}, status=401)
        if not is_researcher(user):
            return JsonResponse({"error": "Only researchers may use this endpoint."}, status=403)
        request.user = user
        return view(request, *args, **kwargs)

    return csrf_exempt(login_not_required(checked))
