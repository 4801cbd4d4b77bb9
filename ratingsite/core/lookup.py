"""Finding the object a management command's argument names."""

from django.core.management.base import CommandError


def by_id_or_name(queryset, value, noun):
    """The one object of ``queryset`` with id ``value`` (all digits) or name ``value``; CommandError otherwise."""
    lookup = {"pk": int(value)} if value.isdigit() else {"name": value}
    matches = list(queryset.filter(**lookup)[:2])
    if len(matches) != 1:
        raise CommandError(f"{'No' if not matches else 'More than one'} {noun} is called {value!r}; give its id.")
    return matches[0]
