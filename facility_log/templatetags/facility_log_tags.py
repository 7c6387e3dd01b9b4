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
    """Text safe inside a double-quoted CSS string in a <style> element (the PDF page headers
    carry a site's name there). Every character but letters, digits and spaces is written as
    a six-digit hex escape, which needs no terminating space: a form feed, CR or LF cannot end
    the string, a quote or backslash cannot close it, `<` cannot end the <style> element, and
    NUL (which CSS reads as U+FFFD anyway) is dropped."""
    return mark_safe(  # noqa: S308 - every character that means anything in CSS is escaped
        "".join(
            char if char == " " or (char.isalnum() and char.isprintable()) else f"\\{ord(char):06x}"
            for char in str(value)
            if char != "\x00"
        )
    )
