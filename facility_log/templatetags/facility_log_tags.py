"""Template helpers. Times are stored in UTC and shown in the site's zone with its offset."""

from datetime import datetime

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def site_time(value: datetime | None, site) -> str:
    """`2026-03-29 03:15 CEST (UTC+02:00)` — the site's local time, never ambiguous."""
    if value is None:
        return "—"
    local = value.astimezone(site.tzinfo)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


@register.filter
def css_string(value) -> str:
    """Text safe inside a double-quoted CSS string in a <style> element (page headers)."""
    text = str(value)
    for char, escaped in (
        ("\\", "\\\\"),
        ('"', '\\"'),
        ("\n", " "),
        ("<", "\\3C "),
        ("&", "\\26 "),
    ):
        text = text.replace(char, escaped)
    return mark_safe(text)  # noqa: S308 - escaped for the CSS string context above
