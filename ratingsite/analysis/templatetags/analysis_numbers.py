"""Numbers in analysis tables: a dash where there is no estimate, p-values as journals print them."""

import math

from django import template

register = template.Library()
MISSING = "—"


def missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


@register.filter
def number(value, digits=2):
    return MISSING if missing(value) else f"{float(value):.{int(digits)}f}"


@register.filter
def percent(share, digits=1):
    return MISSING if missing(share) else f"{100 * float(share):.{int(digits)}f}%"


@register.filter
def p_value(value):
    if missing(value):
        return MISSING
    return "< 0.001" if value < 0.001 else f"{value:.3f}"
