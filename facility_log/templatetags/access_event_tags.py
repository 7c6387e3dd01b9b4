"""The access-event page's rows written in one pass from the tuples it reads
(services/access_event_pages.py PAGE_COLUMNS), the same markup as facility_log_tags'
`access_event_rows` writes from dicts, every value escaped as it escapes it (`_esc`). The
labels of the event types, denial reasons and directions are kept escaped per language (the
catalogues do not change while the server runs); nothing of a user or a row is kept."""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from facility_log.models import AccessEvent
from facility_log.templatetags.facility_log_tags import EVENT_ROW, _format_local

register = template.Library()

_labels: dict[tuple[str, str | None], dict] = {}


def _escaped_labels(field_name: str) -> dict:
    """{value: label escaped} of an AccessEvent choice field in the reader's language (what
    `_choice` gives, escaped)."""
    key = (field_name, get_language())
    table = _labels.get(key)
    if table is None:
        field = AccessEvent._meta.get_field(field_name)
        table = _labels[key] = {v: escape(str(label)) for v, label in field.flatchoices}
    return table


def _label(table: dict, value) -> str:
    """The escaped label of `value`, else the value itself escaped (as `_choice` falls back)."""
    found = table.get(value)
    if found is not None:
        return found
    return escape(str(value)) if value else value


def _site_time(at, zone) -> str:
    """`site_time` (`2026-03-29 03:15 CEST (UTC+02:00)`) in one strftime; an offset in
    seconds (a zone's local mean time before 1900) goes the long way."""
    text = at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z (UTC%z)")
    if text[-9:-6] != "UTC" or text[-6] not in "+-":
        return _format_local(at, zone)
    return f"{text[:-3]}:{text[-3:]}"


@register.simple_tag
def event_rows(rows, sites) -> SafeString:
    """`access_event_rows` of rows as tuples of PAGE_COLUMNS; `sites` the user's (each row's
    site among them): when (site time), site, door, type with the denial reason and the
    vendor's own word, direction, cardholder, the card's last digits."""
    types, reasons = _escaped_labels("event_type"), _escaped_labels("reason")
    directions = _escaped_labels("direction")
    by_id = {site.pk: (escape(site.code), site.tzinfo) for site in sites}
    fmt = EVENT_ROW.format
    lines = []
    for _pk, site_id, door, at, kind, reason, vendor_type, direction, holder, hint in rows:
        code, zone = by_id[site_id]
        cell = _label(types, kind)
        if reason:
            cell += f" ({_label(reasons, reason)})"
        if vendor_type:
            cell += f' <span class="help">“{escape(vendor_type)}”</span>'
        lines.append(
            fmt(
                escape(_site_time(at, zone)) if at is not None else "—",
                code,
                escape(door),
                cell,
                _label(directions, direction) or "—",
                escape(holder) if holder else "—",
                f"…{escape(hint)}" if hint else "—",
            )
        )
    return mark_safe("\n  ".join(lines))  # noqa: S308 - every value escaped above
