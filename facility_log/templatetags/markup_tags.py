"""`{{ text|markup }}`: the post orders' safe markup as HTML (facility_log/markup.py)."""

from django import template

from facility_log.markup import render_markup

register = template.Library()


@register.filter
def markup(text: str):
    """Escaped text with paragraphs, bullet lists and bold."""
    return render_markup(text)
