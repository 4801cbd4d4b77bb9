"""``{{ text|markdown }}``: a researcher's Markdown (study information, instructions, notes) as safe HTML.

The Markdown is rendered by Python-Markdown and the HTML cleaned by nh3 (the ammonia sanitizer) to its
default allow-list: no script, style, event handler or ``javascript:`` link survives, so text a researcher
pastes cannot run in a rater's browser (nor break the page's Content Security Policy).
"""

import markdown as python_markdown
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def markdown(text):
    return mark_safe(nh3.clean(python_markdown.markdown(text or "", extensions=["sane_lists"])))
