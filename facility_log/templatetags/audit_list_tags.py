"""The audit pages' rows, written in one pass each from columns read as tuples.

The view log (50 rows) and the audit overview (50 disclosures, 20 record views) built a
model instance and its Site per row and wrote each cell through the template language; here
each row is formatted once from the few columns it shows, with the same markup and the same
escaping as facility_log_tags' row tags (`_esc`, as Django's `escape`).
"""

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from facility_log.models import RecordView
from facility_log.templatetags.facility_log_tags import (
    VIEW_ROW,
    _choice,
    _esc,
    _html_rows,
    _local_time,
)

register = template.Library()

# The columns of a view log row, in the order `view_log_tuples` reads them ("id" for paging).
VIEW_LOG_COLUMNS = (
    "id",
    "viewed_at",
    "site__code",
    "site__time_zone",
    "object_label",
    "via",
    "row_count",
    "viewer_name",
)


@register.simple_tag
def view_log_tuples(rows) -> SafeString:
    """`view_log_rows` for tuples of VIEW_LOG_COLUMNS: when (site time), site, record, route,
    rows read, reader."""
    return _html_rows(
        VIEW_ROW,
        (
            (
                _local_time(viewed_at, time_zone),
                code,
                label,
                _choice(RecordView, "via", via),
                "" if row_count is None else row_count,
                viewer_name,
            )
            for _id, viewed_at, code, time_zone, label, via, row_count, viewer_name in rows
        ),
    )


# The overview's latest record views: `{{ v.viewed_at|site_time:v.site }}`, label, route,
# reader, as the template wrote them.
OVERVIEW_VIEW_COLUMNS = ("viewed_at", "site__time_zone", "object_label", "via", "viewer_name")
# Each row as the template's loop body wrote it: the row, a line break and the indent.
OVERVIEW_VIEW_ROW = "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n  "


@register.simple_tag
def overview_view_rows(rows) -> SafeString:
    """The overview's record views (tuples of OVERVIEW_VIEW_COLUMNS)."""
    return _joined(
        OVERVIEW_VIEW_ROW,
        (
            (_local_time(viewed_at, time_zone), label, _choice(RecordView, "via", via), name)
            for viewed_at, time_zone, label, via, name in rows
        ),
    )


DISCLOSURE_COLUMNS = (
    "disclosed_at",
    "object_label",
    "recipient",
    "case_number",
    "disclosed_by_name",
    "reason",
    "redactions",
)
DISCLOSURE_ROW = (
    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n  "
)


def _utc_minute(value) -> str:
    """`{{ value|date:"Y-m-d H:i" }}`: in the current time zone, as the template shows it."""
    if not value:
        return ""
    local = template_localtime(value)
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


def _joined_list(values) -> SafeString:
    """`{{ values|join:", " }}`: each item escaped, joined by ", " (a value that is not a list
    is shown as the filter shows it: escaped whole)."""
    try:
        return mark_safe(", ".join(_esc(value) for value in values))  # noqa: S308 - escaped
    except TypeError:
        return mark_safe(_esc(values))  # noqa: S308 - escaped


@register.simple_tag
def disclosure_rows(rows) -> SafeString:
    """The overview's disclosures (tuples of DISCLOSURE_COLUMNS): when (UTC), record,
    recipient, case, by, why, what was left out."""
    return _joined(
        DISCLOSURE_ROW,
        (
            (_utc_minute(at), label, recipient, case, by, reason, _joined_list(redactions))
            for at, label, recipient, case, by, reason, redactions in rows
        ),
    )


def _joined(fmt: str, rows) -> SafeString:
    """The rows one after the other, as the template's `{% for %}` wrote them."""
    format_row = fmt.format
    return mark_safe(  # noqa: S308 - every argument escaped by _esc
        "".join(format_row(*map(_esc, args)) for args in rows)
    )
