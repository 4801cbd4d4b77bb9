"""The first admin account, made by `manage.py serve` when the database has no superuser."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


class WeakAdminPassword(CommandError):
    """The given admin password fails the password validators; a CommandError, so `serve` stops with it."""


def ensure_admin(username, password=None, email=""):
    """Create a superuser if none exists.

    Returns ``(username, password)`` where password is the generated one, ``None`` if it came from the
    caller, or ``(None, None)`` if a superuser already existed. A password from the caller must pass
    ``AUTH_PASSWORD_VALIDATORS``, or `WeakAdminPassword` is raised and no account is made.
    """
    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return None, None
    generated = None
    if password:
        try:
            validate_password(password, user_model(username=username, email=email))
        except ValidationError as error:
            raise WeakAdminPassword(
                f"The admin password (DJANGO_ADMIN_PASSWORD) was refused: {' '.join(error.messages)} "
                f"No account was made; set a stronger one, or leave it unset to have one generated."
            ) from error
    else:
        password = generated = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email=email, password=password)
    return username, generated
