"""Files written together with database rows: all of them kept, or none."""

import contextlib
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction


@contextlib.contextmanager
def atomic_with_files():
    """A database transaction whose files go with it.

    Yields ``save(name, data) -> stored name``. If the block raises, the transaction rolls back, every file
    saved in it is deleted, and so are the folders that this leaves empty (up to ``MEDIA_ROOT``).
    """
    written = []

    def save(name, data):
        stored = default_storage.save(name, ContentFile(data))
        written.append(stored)
        return stored

    try:
        with transaction.atomic():
            yield save
    except BaseException:
        for stored in written:
            default_storage.delete(stored)
        media_root = Path(settings.MEDIA_ROOT).resolve()
        for folder in sorted({Path(media_root, stored).parent for stored in written}, key=lambda p: -len(p.parts)):
            while folder != media_root and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        raise
