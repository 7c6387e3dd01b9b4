"""Template helpers. Times are stored in UTC and shown in the site's zone with its offset."""

import zoneinfo
from datetime import datetime
from functools import lru_cache
from html import escape as _escape_text

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from facility_log.lazy_text import text
from facility_log.models import AccessEvent, Incident

register = template.Library()

# A stand-in id, reversed once per URL name; the real id goes where it stands.
_PK_MARK = 987654321987654321


@register.filter
def site_time(value: datetime | None, site) -> str:
    """`2026-03-29 03:15 CEST (UTC+02:00)` — the site's local time, never ambiguous."""
    return "—" if value is None else _format_local(value, site.tzinfo)


def _local_time(value: datetime | None, time_zone: str) -> str:
    """`site_time` for a site's time zone name (rows read as values)."""
    return "—" if value is None else _format_local(value, zoneinfo.ZoneInfo(time_zone))


# " CEST (UTC+02:00)" by UTC offset and zone abbreviation: the same for every time that has
# them, so written once (a page of 100 door events wrote it 100 times with strftime).
_zone_suffixes: dict[tuple, str] = {}


def _format_local(value: datetime, tzinfo) -> str:
    """`f"{local:%Y-%m-%d %H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"` with
    `offset = local.strftime("%z")`, the date and time written without strftime (twice as
    fast; tests/views/test_site_time_format.py compares both)."""
    local = value.astimezone(tzinfo)
    key = (local.utcoffset(), local.tzname())
    suffix = _zone_suffixes.get(key)
    if suffix is None:
        offset = local.strftime("%z")
        suffix = _zone_suffixes[key] = f" {key[1]} (UTC{offset[:3]}:{offset[3:]})"
    if local.year < 1000:  # strftime's %Y (not padded on every platform alike)
        return f"{local:%Y-%m-%d %H:%M}{suffix}"
    return f"{local.year}-{local.month:02}-{local.day:02} {local.hour:02}:{local.minute:02}{suffix}"


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


@lru_cache(maxsize=64)
def _url_parts(name: str, prefix: str) -> tuple[str, str]:
    url = reverse(name, args=[_PK_MARK])
    before, _mark, after = url.partition(str(_PK_MARK))
    return before, after


@register.filter
def url_of(pk, name: str) -> str:
    """`{{ incident.pk|url_of:"incident-page" }}`: the same URL as `{% url name pk %}` for a
    view taking one integer id, without resolving the pattern again on every row of a list
    (reversing costs more than the rest of a row's cells)."""
    before, after = _url_parts(name, get_script_prefix())
    return f"{before}{int(pk)}{after}"


@register.filter
def clip(value, length: int) -> str:
    """`truncatechars` for plain text in list cells: at most `length` characters, the last one
    "…" when cut. (Django's Truncator normalises and walks every character of a long narrative
    to cut it; a list of 50 rows paid that 50 times.)"""
    text = "" if value is None else str(value)
    return text if len(text) <= length else text[: length - 1] + "…"


# --- the rows of the long lists -------------------------------------------------------------
# A 50-row list rendered cell by cell through the template language spent most of its time
# resolving variables and filters (docs/performance.md, "Pages at a large facility's volume");
# these tags write the same rows in one pass each. The markup is the table's, kept here as it
# would be in the template, and everything shown is escaped as format_html escapes it (`_esc`).


def _esc(value) -> str:
    """`str(conditional_escape(value))` without its per-call wrappers: a 50-row list escapes
    500 to 2,500 values, and Django's `escape` is wrapped for lazy strings on every call. Text
    is escaped as Django's `escape` does (`html.escape`: & < > " '), safe strings are kept."""
    if type(value) is str:
        return _escape_text(value)
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape_text(str(value))


def _html(fmt: str, *args) -> SafeString:
    """`format_html(fmt, *args)`: the same markup, every argument escaped by `_esc`."""
    return mark_safe(fmt.format(*map(_esc, args)))  # noqa: S308 - every argument escaped


def _html_rows(fmt: str, rows) -> SafeString:
    """`format_html_join("\n  ", fmt, rows)`: the same markup, every argument escaped."""
    format_row = fmt.format
    return mark_safe(  # noqa: S308 - every argument escaped by _esc
        "\n  ".join(format_row(*map(_esc, args)) for args in rows)
    )


_translations: dict[tuple[str | None, str], str] = {}


def _t(message: str) -> str:
    """`gettext(message)`, kept per language: the rows ask for the same few messages (a
    category's name, "Draft %(pk)s") once per row, and each gettext walks the catalogues'
    fallbacks. The catalogues do not change while the server runs."""
    key = (get_language(), message)
    text = _translations.get(key)
    if text is None:
        text = _translations[key] = gettext(message)
    return text


def _incident_label(row: dict) -> str:
    """`Incident.label` (its number, or "Draft 12" in the reader's language)."""
    return row["number"] or _t("Draft %(pk)s") % {"pk": row["id"]}


def _category(name: str | None) -> str:
    """`str(incident.category)` (`Category.__str__`: the name through the catalogue), "—"
    for none."""
    return "—" if name is None else _t(name)


_choice_tables: dict[tuple, dict] = {}


def _choice(model, field_name: str, value) -> str:
    """`instance.get_FIELD_display()` for a value read without its instance: the label in
    the reader's language, else the value itself (as Django does)."""
    key = (model, field_name, get_language())
    table = _choice_tables.get(key)
    if table is None:
        field = model._meta.get_field(field_name)
        table = _choice_tables[key] = {v: str(label) for v, label in field.flatchoices}
    return table.get(value, value)


def _first_filled(*values) -> str:
    return next((str(v) for v in values if v), "")


INCIDENT_ROW = (
    '<tr>\n    <td><a href="{}">{}</a></td>\n    <td>{}{}</td>\n    <td>{}</td>\n'
    '    <td>{}</td>\n    <td><span class="sev sev-{}">{}</span></td>\n    <td>{}</td>\n'
    "    <td>{}</td>\n  </tr>"
)
# The columns each incident row reads (`values(...)`: dicts, no model instances).
INCIDENT_ROW_FIELDS = (
    "id",
    "number",
    "site__code",
    "site__time_zone",
    "zone__name",
    "category__name",
    "occurred_from",
    "severity",
    "status",
    "title",
    "narrative",
)


# Each incident row as last written, by everything it shows: a list's first page is read
# again and again over the same incidents, and a row is written from its key alone, so a kept
# row is never stale (a new status, title, category, time or language is another key).
# Bounded: emptied when full.
_ROWS_WRITTEN: dict[tuple, str] = {}
_ROWS_WRITTEN_LIMIT = 5_000


@register.simple_tag
def incident_rows(rows) -> str:
    """The incident list's rows (dicts of INCIDENT_ROW_FIELDS): number (linked), site /
    zone, occurred (site time), category, severity, status, title or the start of the
    narrative. A row already written with the same shown values is taken as written."""
    # The URL's prefix and patterns and the labels' language, the same for every row.
    shown = (get_language(), get_script_prefix(), get_urlconf())
    written = []
    for i in rows:
        text = clip(_first_filled(i["title"], i["narrative"]), 80)
        key = (
            shown,
            i["id"],
            i["number"],
            i["site__code"],
            i["site__time_zone"],
            i["zone__name"],
            i["category__name"],
            i["occurred_from"],
            i["severity"],
            i["status"],
            text,
        )
        row = _ROWS_WRITTEN.get(key)
        if row is None:
            row = _incident_row(i, text)
            if len(_ROWS_WRITTEN) >= _ROWS_WRITTEN_LIMIT:
                _ROWS_WRITTEN.clear()
            _ROWS_WRITTEN[key] = row
        written.append(row)
    # `format_html_join("\n  ", INCIDENT_ROW, ...)`: every row's values escaped by _esc.
    return mark_safe("\n  ".join(written))  # noqa: S308


def _incident_row(i: dict, text: str) -> str:
    """One row of `incident_rows`, `text` its title or narrative as clipped."""
    return INCIDENT_ROW.format(
        *map(
            _esc,
            (
                url_of(i["id"], "incident-page"),
                _incident_label(i),
                i["site__code"],
                "" if i["zone__name"] is None else f" / {i['zone__name']}",
                _local_time(i["occurred_from"], i["site__time_zone"]),
                _category(i["category__name"]),
                i["severity"],
                _choice(Incident, "severity", i["severity"]),
                _choice(Incident, "status", i["status"]),
                text,
            ),
        )
    )


QUEUE_ROW = (
    '<tr>\n    <td><a href="{}">{}</a></td>\n    <td>{}</td>\n    <td>{}</td>\n'
    '    <td><span class="sev sev-{}">{}</span></td>\n    <td>{}</td>\n    <td>{}</td>\n  </tr>'
)
QUEUE_ROW_FIELDS = (
    "id",
    "number",
    "site__time_zone",
    "category__name",
    "submitted_at",
    "severity",
    "author__username",
    "title",
    "narrative",
)


@register.simple_tag
def review_queue_rows(rows) -> str:
    """The review queue's rows (dicts of QUEUE_ROW_FIELDS): number (linked), submitted
    (site time), category, severity, author, title or the start of the narrative."""
    return _html_rows(
        QUEUE_ROW,
        (
            (
                url_of(i["id"], "incident-page"),
                _incident_label(i),
                _local_time(i["submitted_at"], i["site__time_zone"]),
                _category(i["category__name"]),
                i["severity"],
                _choice(Incident, "severity", i["severity"]),
                i["author__username"],
                clip(_first_filled(i["title"], i["narrative"]), 80),
            )
            for i in rows
        ),
    )


EVENT_ROW = (
    "<tr>\n    <td>{}</td>\n    <td>{}</td>\n    <td>{}</td>\n    <td>{}</td>\n"
    "    <td>{}</td>\n    <td>{}</td>\n    <td>{}</td>\n  </tr>"
)


def _event_type_cell(event: dict) -> str:
    cell = _html("{}", _choice(AccessEvent, "event_type", event["event_type"]))
    if event["reason"]:
        cell += _html(" ({})", _choice(AccessEvent, "reason", event["reason"]))
    if event["vendor_type"]:
        cell += _html(' <span class="help">“{}”</span>', event["vendor_type"])
    return cell


@register.simple_tag
def access_event_rows(events) -> str:
    """The access-event page's rows (dicts of views/access.py PAGE_COLUMNS, and the row's
    `site`): when (site time), site, door, type with the denial reason and the vendor's own
    word, direction, cardholder, the card's last digits."""
    return _html_rows(
        EVENT_ROW,
        (
            (
                site_time(e["occurred_at"], e["site"]),
                e["site"].code,
                e["door__code"],
                _event_type_cell(e),
                _choice(AccessEvent, "direction", e["direction"]) or "—",
                e["cardholder"] or "—",
                f"…{e['credential_hint']}" if e["credential_hint"] else "—",
            )
            for e in events
        ),
    )


VIEW_ROW = (
    "<tr>\n    <td>{}</td>\n    <td>{}</td>\n    <td>{}</td>\n    <td>{}</td>\n"
    "    <td>{}</td>\n    <td>{}</td>\n  </tr>"
)


@register.simple_tag
def view_log_rows(views) -> str:
    """The view log's rows: when (site time), site, record, route, rows read, reader."""
    return _html_rows(
        VIEW_ROW,
        (
            (
                site_time(v.viewed_at, v.site),
                v.site.code,
                v.object_label,
                v.get_via_display(),
                "" if v.row_count is None else v.row_count,
                v.viewer_name,
            )
            for v in views
        ),
    )


SHIFT_ROW = (
    "\n  <tr><td>{}</td><td>{}</td>\n      <td>{}</td>\n      <td>{}</td>\n"
    '      <td><a href="{}">{}</a> · <a href="{}">{}</a></td></tr>\n  '
)


# The columns each shift row reads (`values(...)` with `entry_count`: dicts, no Shift and
# User instances, whose building was most of the list's own work).
SHIFT_ROW_FIELDS = (
    "id",
    "started_at",
    "ended_at",
    "guard__first_name",
    "guard__last_name",
    "guard__username",
)


def _full_name_or_username(row: dict, prefix: str) -> str:
    """`user.get_full_name() or user.get_username()` (Django's User) for a row's user columns."""
    full_name = f"{row[prefix + 'first_name']} {row[prefix + 'last_name']}".strip()
    return full_name or row[prefix + "username"]


@register.simple_tag
def shift_rows(shifts, site) -> str:
    """The site's shift list rows (dicts of SHIFT_ROW_FIELDS and `entry_count`): guard,
    started and ended (site time, or "open"), entries, links to the report and its PDF."""
    report, pdf = _t("Report"), _t("PDF")
    # Translated apart: xgettext does not read a call inside an f-string.
    open_text = _t("open")
    still_open = mark_safe(f'<span class="badge">{_esc(open_text)}</span>')  # noqa: S308
    return mark_safe(  # noqa: S308 - every value escaped by _html
        "".join(
            _html(
                SHIFT_ROW,
                _full_name_or_username(s, "guard__"),
                site_time(s["started_at"], site),
                site_time(s["ended_at"], site) if s["ended_at"] else still_open,
                s["entry_count"],
                url_of(s["id"], "shift-report"),
                report,
                url_of(s["id"], "shift-report-pdf"),
                pdf,
            )
            for s in shifts
        )
    )


# --- a list's filter form -------------------------------------------------------------------
# `form_fields.html` written in Python for the list pages' filter forms, which every list
# request renders: the same markup, each value escaped as the template escapes it.

FIELD_BLOCK = '\n<div class="field">\n  <label for="{}">{}</label>\n  {}\n  {}\n  {}\n</div>\n'


def _error_list(errors) -> str:
    items = "".join(f"<li>{_esc(error)}</li>" for error in errors)
    return f'<div role="alert"><ul class="errorlist">{items}</ul></div>'


@register.simple_tag
def form_fields(form) -> str:
    """`{% include "facility_log/form_fields.html" %}` for `form`: non-field errors, then per
    field its label, widget, help text and errors."""
    non_field = form.non_field_errors()
    parts = [_error_list(non_field) if non_field else "", "\n"]
    for field in form:
        label_for = _esc(field.id_for_label)
        help_text = text(field.help_text)  # a lazy label's translation, kept per language
        if help_text:
            help_text = f'<span class="helptext" id="{label_for}_help">{_esc(help_text)}</span>'
        errors = field.errors
        parts.append(
            FIELD_BLOCK.format(
                label_for,
                _esc(text(field.label)),
                _esc(str(field)),  # the widget, as `{{ field }}` writes it (str, not __html__)
                help_text,
                _error_list(errors) if errors else "",
            )
        )
    parts.append("\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped by _esc


@register.filter
def get_count(counts, key) -> int:
    """`counts[key]` of a Counter or dict, 0 when absent (the dashboard's tables)."""
    return counts.get(key, 0) if counts else 0


def _blocktranslate(message: str, **values) -> str:
    """`{% blocktranslate trimmed with … %}` in Python: the same message id (so the same
    translation), the values escaped and the translated text taken as written."""
    escaped = {name: _esc(value) for name, value in values.items()}
    return mark_safe(_t(message) % escaped)  # noqa: S308 - every value escaped above


# --- the header's navigation --------------------------------------------------------------

_navs: dict[tuple, str] = {}


@register.simple_tag
def main_nav(user) -> str:
    """The header's main navigation (`_main_nav.html`), rendered once per language, script
    prefix and staff flag and then reused: it is the same on every page (ten links reversed
    and a dozen labels translated per request before). Nothing else varies it."""
    key = (
        get_language(),
        get_script_prefix(),
        get_urlconf() or settings.ROOT_URLCONF,
        bool(user.is_staff),
    )
    html = _navs.get(key)
    if html is None:
        html = _navs[key] = render_to_string("facility_log/_main_nav.html", {"is_staff": key[3]})
    return mark_safe(html)  # noqa: S308 - rendered by the template language, escaped there
