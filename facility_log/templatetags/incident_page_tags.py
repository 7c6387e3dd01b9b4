"""The incident page's longest parts, its surroundings (up to 400 door events and scans) and
its timeline, written in one pass each: the same markup as the template loops they replace,
every value escaped as the template escaped it, every message translated as the template
translated it, without a template node per cell (docs/performance.md)."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

from facility_log.templatetags.facility_log_tags import _blocktranslate, _esc, site_time

register = template.Library()

# The messages written inside f-strings below, marked for makemessages: xgettext does
# not read the expressions of an f-string (the management command `makemessages` adds
# `_t` and `bt` as keywords for the rest).
_MARKED = (gettext_noop("linked"), gettext_noop("by %(who)s"))


@register.simple_tag
def surroundings_rows(surroundings, site) -> SafeString:
    """`<tr>` per door event or scan around the incident: when (site time), what (with a
    "linked" badge for the events it was opened from), where, details."""
    badge = f' <span class="badge">{conditional_escape(gettext("linked"))}</span>'
    esc = _esc  # conditional_escape's result, without its wrappers for lazy strings
    return mark_safe(  # noqa: S308 - every value is escaped above
        "".join(
            f"<tr><td>{esc(site_time(n.when, site))}</td>"
            f"<td>{esc(n.kind)}{badge if n.linked else ''}</td>"
            f"<td>{esc(n.where)}</td><td>{esc(n.detail)}</td></tr>"
            for n in surroundings
        )
    )


@register.simple_tag
def timeline_items(timeline, site) -> SafeString:
    """`<li>` per timeline event: when (site time), what, by whom ("—" for no one), and its
    text, as the loop `{% for event in timeline %}` wrote them (each between newlines)."""
    return mark_safe(  # noqa: S308 - every value is escaped (_esc, _blocktranslate)
        "".join(
            f"\n  <li><time>{_esc(site_time(event.when, site))}</time> "
            f"<strong>{_esc(event.kind)}</strong> "
            f"{_blocktranslate('by %(who)s', who=event.who or '—')}"
            f"{f': {_esc(event.text)}' if event.text else ''}</li>\n"
            for event in timeline
        )
    )
