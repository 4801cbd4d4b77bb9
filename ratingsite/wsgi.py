"""WSGI entry point, served by gunicorn (see `manage.py serve`).

The URLconf is imported here, not on the first request: it imports every app's views, and gunicorn with
``--preload`` (as `serve` starts it) then does so once, before it forks its workers, so that no worker's
first request waits for it.
"""

import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratingsite.settings")

application = get_wsgi_application()
import_module(settings.ROOT_URLCONF)
