"""What the detail pages (an alarm, a shift's report, an incident) write without a template
node per word: fixed fragments rendered once per language and kept (`{% fixed %}`, from
fixed_tags), and the rows of their short lists written in one pass, the same markup as the
template loops they replace, every value escaped as the template escaped it
(docs/performance.md)."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from facility_log.templatetags.facility_log_tags import (
    _blocktranslate,
    _esc,
    _t,
    site_time,
    url_of,
)
from facility_log.templatetags.fixed_tags import FixedNode, fixed

register = template.Library()
# `{% fixed %}` lives in fixed_tags (base.html keeps its fragments too); loading this library
# still gives it to the detail pages' templates.
register.tag("fixed", fixed)

__all__ = ["FixedNode", "fixed", "incident_lines", "run_lines"]


# --- the rows of a daily activity report (shifts/_runs.html, shifts/_incidents.html) -------


def _run_row(line, site) -> str:
    finished = site_time(line.finished_at, site) if line.finished_at else _t("not finished")
    exceptions = "<br>".join(map(_esc, line.exceptions)) or _esc(_t("none"))
    counts = _blocktranslate(
        "%(scanned)s of %(planned)s", scanned=line.scanned, planned=line.planned
    )
    return (
        f"\n  <tr><td>{_esc(line.route_name)}</td><td>{_esc(line.guard_name)}</td>"
        f"<td>{_esc(site_time(line.started_at, site))}</td>\n"
        f"      <td>{_esc(finished)}</td>\n"
        f"      <td>{counts}</td>\n"
        f"      <td>{exceptions}</td></tr>\n  "
    )


@register.simple_tag
def run_lines(runs, site) -> SafeString:
    """`<tr>` per round walked (activity_report.RunLine): route, guard, times, stops scanned
    of those planned, exceptions."""
    return mark_safe("".join(_run_row(line, site) for line in runs))  # noqa: S308 - escaped


def _incident_row(line, site, pdf) -> str:
    label = _esc(line.label)
    if not pdf:
        label = f'<a href="{_esc(url_of(line.incident.pk, "incident-page"))}">{label}</a>'
    return (
        f"\n  <tr><td>{label}</td>\n"
        f"      <td>{_esc(site_time(line.occurred_at, site))}</td><td>{_esc(line.category)}</td>\n"
        f'      <td><span class="sev sev-{_esc(line.incident.severity)}">{_esc(line.severity)}'
        f"</span></td><td>{_esc(line.status)}</td><td>{_esc(line.summary)}</td></tr>\n  "
    )


@register.simple_tag
def incident_lines(incidents, site, pdf) -> SafeString:
    """`<tr>` per incident of a report (activity_report.IncidentLine), its number linked to
    its page unless `pdf`."""
    rows = (_incident_row(line, site, pdf) for line in incidents)
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped above
