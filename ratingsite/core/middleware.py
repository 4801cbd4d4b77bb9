"""Refusing request bodies over their sender's limit before anything reads them."""

from django.conf import settings
from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat

from ratingsite.accounts.authentication import token_user
from ratingsite.accounts.models import is_researcher
from ratingsite.core.uploads import FileSizeLimitUploadHandler


def request_size_limit(request):
    """The largest body the request's sender may send, and whom that limit is for (for the message)."""
    user = request.user if request.user.is_authenticated else token_user(request)
    if user is None:
        return settings.ANONYMOUS_MAX_REQUEST_BYTES, "before logging in"
    if is_researcher(user):
        margin = filesizeformat(settings.UPLOAD_FORM_MARGIN_BYTES)
        return (
            settings.IMPORT_MAX_ARCHIVE_BYTES + settings.UPLOAD_FORM_MARGIN_BYTES,
            f"for researchers (IMPORT_MAX_ARCHIVE_BYTES and {margin} for the form)",
        )
    return settings.ACCOUNT_MAX_REQUEST_BYTES, "for accounts that are not researchers"


def plain_text_response(message, status):
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestSizeLimitMiddleware:
    """413 for a body whose Content-Length is over the sender's limit, 411 for a chunked body without one.

    Runs before CsrfViewMiddleware, whose reading of ``request.POST`` would write an upload to a
    temporary file. A multipart body within the limit is parsed here, so that an upload stopped by
    `FileSizeLimitUploadHandler` is answered with a 413 from here too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH")
        if not declared and "HTTP_TRANSFER_ENCODING" in request.META:
            # Django reads no body without a Content-Length: a chunked upload would arrive empty.
            return plain_text_response(
                "Send the request body with a Content-Length header; chunked bodies are not accepted.", 411
            )
        try:
            size = int(declared or 0)
        except ValueError:
            size = 0  # Django reads no body at all then
        if size > 0:
            limit, whose = request_size_limit(request)
            if size > limit:
                return plain_text_response(
                    f"This request is {filesizeformat(size)}, over the limit of {filesizeformat(limit)} {whose}.", 413
                )
        if request.method == "POST" and request.content_type == "multipart/form-data":
            request.FILES  # noqa: B018 -- parses the body now, under FileSizeLimitUploadHandler
            for handler in request.upload_handlers:
                if isinstance(handler, FileSizeLimitUploadHandler) and handler.refusal:
                    return plain_text_response(handler.refusal, 413)
        return self.get_response(request)
