"""Accounts and roles.

People use the site in one of three roles, kept as Django groups so that admins manage them in the
admin site:

* ``raters`` take part in rating studies and see nothing else;
* ``researchers`` import image sets, run jobs, set up studies and read the analyses;
* admins are Django staff users; they may do everything researchers may.

Everything needs a login except the login page itself.
"""

from django.contrib.auth.models import Group

RATERS = "raters"
RESEARCHERS = "researchers"
ROLE_GROUPS = (RATERS, RESEARCHERS)


def is_researcher(user):
    """Researchers and staff may manage data and jobs."""
    return user.is_authenticated and (user.is_staff or user.groups.filter(name=RESEARCHERS).exists())


def is_rater(user):
    return user.is_authenticated and user.groups.filter(name=RATERS).exists()


def add_to_role(user, role):
    if role not in ROLE_GROUPS:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLE_GROUPS)}")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
