"""The incident page's longest part, its surroundings (up to 400 door events and scans),
written in one pass: the same markup as the template loop it replaces, every value escaped as
the template escaped it, without a template node per cell (docs/performance.md)."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from facility_log.templatetags.facility_log_tags import site_time

register = template.Library()


@register.simple_tag
def surroundings_rows(surroundings, site) -> SafeString:
    """`<tr>` per door event or scan around the incident: when (site time), what (with a
    "linked" badge for the events it was opened from), where, details."""
    badge = f' <span class="badge">{conditional_escape(gettext("linked"))}</span>'
    esc = conditional_escape
    return mark_safe(  # noqa: S308 - every value is escaped above
        "".join(
            f"<tr><td>{esc(site_time(n.when, site))}</td>"
            f"<td>{esc(n.kind)}{badge if n.linked else ''}</td>"
            f"<td>{esc(n.where)}</td><td>{esc(n.detail)}</td></tr>"
            for n in surroundings
        )
    )
