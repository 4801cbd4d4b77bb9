"""Accounts and roles.

People use the site in one of three roles, kept as Django groups so that admins manage them in the
admin site:

* ``raters`` take part in rating studies and see nothing else;
* ``researchers`` import image sets, run jobs, set up studies and read the analyses;
* admins are Django staff users; they may do everything researchers may.

Everything needs a login except the login page and an invitation's page. A `RaterProfile` holds a rater's
profession and years of experience, which the analyses group by. An `ApiToken` lets scripts use the REST
endpoints. An `Invitation` is a one-time link, valid for ``INVITATION_VALID_DAYS``, where a new rater sets their
own password: no password is ever made for anyone or shown on a page. Only a hash of the link's token is kept.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse
from django.utils import timezone

RATERS = "raters"
RESEARCHERS = "researchers"
ROLE_GROUPS = (RATERS, RESEARCHERS)


def role_names(user):
    """The role groups ``user`` is in, read once per user object (every page asks for both roles)."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_role_names"):
        user._role_names = frozenset(user.groups.filter(name__in=ROLE_GROUPS).values_list("name", flat=True))
    return user._role_names


def is_researcher(user):
    """Researchers and staff may manage data and jobs."""
    return user.is_authenticated and (user.is_staff or RESEARCHERS in role_names(user))


def is_rater(user):
    return RATERS in role_names(user)


def add_to_role(user, role):
    if role not in ROLE_GROUPS:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLE_GROUPS)}")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    user.__dict__.pop("_role_names", None)


class RaterProfile(models.Model):
    """What the analyses need to know about a rater: profession and years of experience."""

    class Profession(models.TextChoices):
        CLINICIAN = "clinician", "clinician"
        SONOGRAPHER = "sonographer", "sonographer"
        ENGINEER = "engineer", "engineer"
        OTHER = "other", "other"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rater_profile")
    profession = models.CharField(max_length=16, choices=Profession)
    years_of_experience = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: not given.")

    def __str__(self):
        years = "years not given" if self.years_of_experience is None else f"{self.years_of_experience} years"
        return f"{self.user}: {self.profession}, {years}"


def new_api_key():
    return secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A key for the REST endpoints, sent as ``Authorization: Token <key>``; it acts as its user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key = models.CharField(max_length=64, unique=True, default=new_api_key)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"API token of {self.user} ({self.key[:6]}...)"


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(used__isnull=True, expires__gt=timezone.now())

    def by_token(self, token):
        """The usable invitation whose link carries ``token``, or None."""
        return self.usable().select_related("user").filter(token_hash=token_hash(token)).first()


class Invitation(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the link's token.")
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires = models.DateTimeField()
    used = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    def __str__(self):
        return f"invitation of {self.user} until {self.expires:%Y-%m-%d %H:%M}"

    @classmethod
    def issue(cls, user, created_by=None):
        """A new link for ``user`` (the path of its page, with the token), their earlier unused links revoked."""
        cls.objects.filter(user=user, used__isnull=True).delete()
        token = secrets.token_urlsafe(32)
        cls.objects.create(
            user=user,
            token_hash=token_hash(token),
            created_by=created_by,
            expires=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        return reverse("invitation-accept", kwargs={"token": token})
