"""The round screen's lists, its stops and its scans (one form each), written in one pass:
the same markup as the template loops they replace, every value escaped as the template
escaped it, without a template node per cell (docs/performance.md)."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from facility_log.templatetags.facility_log_tags import site_time, url_of

register = template.Library()


def _csrf_input(context) -> str:
    """What `{% csrf_token %}` writes (the same token on every form of the page)."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{conditional_escape(token)}">'


@register.simple_tag
def run_stops(stops, site) -> SafeString:
    """`<li>` per planned stop: its checkpoint and zone, scanned or due by when."""
    esc = conditional_escape
    # Translated apart: xgettext does not read a call inside an f-string (`make messages`
    # would drop the German).
    scanned_text = gettext("scanned")
    scanned = f"<strong>{esc(scanned_text)}</strong>"
    due = gettext("due %(due)s")
    items = []
    for stop in stops:
        checkpoint = stop["checkpoint"]
        state = scanned if stop["done"] else due % {"due": esc(site_time(stop["due"], site))}
        items.append(
            f'\n  <li class="{"done" if stop["done"] else ""}">{esc(checkpoint.name)}'
            f' <span class="help">{esc(checkpoint.zone.name)}</span> — {state}</li>\n'
        )
    return mark_safe("".join(items))  # noqa: S308 - every value is escaped above


@register.simple_tag(takes_context=True)
def run_scan_rows(context, scans, site) -> SafeString:
    """`<tr>` per scan: checkpoint, device and server time, method, note, and the form that
    reports an incident at that checkpoint."""
    esc = conditional_escape
    csrf = _csrf_input(context)
    report, label = esc(gettext("Report")), gettext("Report an incident at %(name)s")
    rows = []
    for scan in scans:
        name = esc(scan.checkpoint.name)
        rows.append(
            f"\n  <tr><td>{name}</td><td>{esc(site_time(scan.device_time, site))}</td>"
            f"<td>{esc(site_time(scan.received_at, site))}</td>"
            f"<td>{esc(scan.get_method_display())}</td><td>{esc(scan.note)}</td>\n"
            f'  <td><form method="post" action="{url_of(scan.pk, "round-scan-report-incident")}">'
            f'{csrf}<button type="submit" class="secondary" aria-label="'
            f'{label % {"name": name}}">{report}</button></form></td></tr>\n  '
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value is escaped above
