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


@register.simple_tag
def estimate(value, low, high, style="number", digits=2):
    """``value (low to high)``; just ``value`` when there is no interval, a dash when there is no estimate."""
    show = percent if style == "percent" else number
    if missing(value):
        return MISSING
    if missing(low) or missing(high):
        return show(value, digits)
    return f"{show(value, digits)} ({show(low, digits)} to {show(high, digits)})"


@register.simple_tag
def p_with_holm(p, p_holm):
    """``p (Holm-adjusted p)``, or a dash alone when nothing was tested."""
    return MISSING if missing(p) else f"{p_value(p)} ({p_value(p_holm)})"


@register.filter
def cell(value):
    """A table cell of raw data: a number to four significant digits (300.0 as 300), text as it is."""
    if missing(value):
        return MISSING
    return f"{value:.4g}" if isinstance(value, float) else value
