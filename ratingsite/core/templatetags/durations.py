"""Durations as people read them: "2.8 s", "42 s", "4 min 1 s", "1 h 3 min", "2 d 5 h"; the site's one way."""

import datetime
import itertools

from django import template

register = template.Library()
UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


@register.filter
def duration(value):
    """A `datetime.timedelta` or a number of seconds, in its largest unit and the next one ("" for None)."""
    if value is None:
        return ""
    seconds = max(0.0, value.total_seconds() if isinstance(value, datetime.timedelta) else float(value))
    if round(seconds, 1) < 10:
        return f"{seconds:.1f} s"
    for (unit, size), (smaller, smaller_size) in itertools.pairwise(UNITS):
        # Rounded to the smaller unit first, so that 59.7 s reads "1 min", not "60 s".
        count = round(seconds / smaller_size)
        if count * smaller_size >= size:
            larger, rest = divmod(count, size // smaller_size)
            return f"{larger} {unit}" + (f" {rest} {smaller}" if rest else "")
    return f"{round(seconds)} s"
