"""The first admin account, made by `manage.py serve` when the database has no superuser."""

import secrets

from django.contrib.auth import get_user_model


def ensure_admin(username, password=None, email=""):
    """Create a superuser if none exists.

    Returns ``(username, password)`` where password is the generated one, ``None`` if it came from the
    caller, or ``(None, None)`` if a superuser already existed.
    """
    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return None, None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email=email, password=password)
    return username, generated
