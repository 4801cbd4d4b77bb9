"""Class-based views whose module is imported by their first request instead of by the URLconf.

Every request imports the whole URLconf first, the login page included. A view module that is heavy as a
whole (the analysis app's, whose reports and forms import pandas, scipy, statsmodels and matplotlib) is
named here by its dotted path, so that only its own pages wait for those libraries.
"""

import functools

from django.utils.module_loading import import_string


def lazy_view(dotted_path):
    """The view of the class-based view at ``dotted_path``, imported and made on its first request."""

    @functools.cache
    def view():
        return import_string(dotted_path).as_view()

    def imported_on_first_request(request, *args, **kwargs):
        return view()(request, *args, **kwargs)

    return imported_on_first_request
