"""The foundation's abstract models; this app has no tables of its own.

`Authored` records who made a row and when, and `Owned` is a researcher's work (image sets, training runs,
grids, studies): the one who made it owns it, and the owner names collaborators. Only they and staff change
or analyse it; other researchers see it listed, read-only, or not at all where
`settings.RESEARCHERS_SEE_ALL_WORK` is off.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Authored(models.Model):
    """Who created the row (kept as null if that account is deleted) and when; newest first."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ("-created",)


class Owned(Authored):
    """A researcher's work, owned by whoever made it (``created_by``; the admin may hand it on)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="owner",
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Researchers who may change and analyse this as its owner may; set by the owner.",
    )

    class Meta(Authored.Meta):
        abstract = True

    @classmethod
    def shared_with(cls, user):
        """The rows ``user`` owns or collaborates on, as a filter; rows of nobody (made on the command line by
        whoever runs the site, or left by a deleted account) are every researcher's."""
        return Q(created_by=user) | Q(collaborators=user) | Q(created_by__isnull=True)

    @classmethod
    def changeable_by(cls, user):
        """The rows ``user`` may change or analyse: those they own or collaborate on; all of them for staff."""
        if user.is_staff:
            return cls.objects.all()
        if not user.is_authenticated:
            return cls.objects.none()
        return cls.objects.filter(pk__in=cls.objects.filter(cls.shared_with(user)).values("pk"))

    @classmethod
    def visible_to(cls, user):
        """The rows ``user`` may see: all of them, read-only where they may not change them; only
        `changeable_by` where `settings.RESEARCHERS_SEE_ALL_WORK` is off."""
        return cls.objects.all() if settings.RESEARCHERS_SEE_ALL_WORK else cls.changeable_by(user)

    def may_change(self, user):
        return type(self).changeable_by(user).filter(pk=self.pk).exists()

    def may_share(self, user):
        """Name the collaborators: the owner and staff."""
        return user.is_staff or (user.is_authenticated and self.created_by_id == user.pk)
