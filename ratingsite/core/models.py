"""The site itself: the home page and `manage.py serve`, which runs the whole tool on one machine.

This app has no tables of its own; it holds the abstract `Authored` that records who made a row and when.
"""

from django.conf import settings
from django.db import models


class Authored(models.Model):
    """Who created the row (kept as null if that account is deleted) and when; newest first."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ("-created",)
