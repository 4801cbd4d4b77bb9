"""Uploaded files are held to ``IMPORT_MAX_ARCHIVE_BYTES`` while they stream in, chunk by chunk."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.template.defaultfilters import filesizeformat


class FileSizeLimitUploadHandler(FileUploadHandler):
    """The first upload handler: counts each file's bytes as they arrive and stops the upload at the limit.

    `RequestSizeLimitMiddleware` has already refused a request whose Content-Length is over its sender's
    limit; a researcher's limit leaves room for the form around the archive, and this stops one file over
    the archive limit before it is all on disk. Stopping closes (so deletes) the partly written temporary
    file and reads no more of the request; ``refusal`` then says why, for the middleware's answer.
    """

    refusal = None

    def receive_data_chunk(self, raw_data, start):
        limit = settings.IMPORT_MAX_ARCHIVE_BYTES
        if start + len(raw_data) > limit:
            self.refusal = (
                f"The file {self.file_name!r} is over the limit of {filesizeformat(limit)} for one upload "
                "(IMPORT_MAX_ARCHIVE_BYTES); its upload was stopped."
            )
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        """No file from this handler: the handlers after it keep the file."""
