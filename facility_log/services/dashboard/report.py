"""The dashboard's charts with their links, and the monthly site report (PDF and CSV) with
the same figures, ready to send to a client.

The PDF is rendered through services/pdf_render.py (the one WeasyPrint fetcher) from one
string with styles and charts inline: it names no image, font or stylesheet, so the fetcher
is never asked for anything.
"""

from datetime import date, datetime
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse

from facility_log.models import Site
from facility_log.services.csv_export import NUMBER, Column, csv_text
from facility_log.services.dashboard.charts import Mark, bar_chart, column_chart, heat_map
from facility_log.services.dashboard.figures import Dashboard
from facility_log.services.pdf_render import render_pdf


def _url(name: str, args=(), **query) -> str:
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return reverse(name, args=args) + ("?" + urlencode(query) if query else "")


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:g} min"


def charts_for(dash: Dashboard, links: bool = True) -> dict:
    """Every chart of `dash` as SVG; with `links`, each mark opens the list it counts (the
    incident list, the rounds compliance report, the door events), else none (the PDF)."""
    one = dash.sites[0] if len(dash.sites) == 1 else None
    site = one.code if one else ""

    def incidents(first: date, last: date, **extra) -> str | None:
        if not links:
            return None
        return _url(
            "incident-list",
            site=site,
            date_from=first.isoformat(),
            date_to=last.isoformat(),
            **extra,
        )

    def rounds(first: date, last: date) -> str | None:
        if not links or one is None:
            return None
        return _url("rounds-report", [one.code], start=first.isoformat(), end=last.isoformat())

    def events(first: date, last: date) -> str | None:
        if not links or one is None:
            return None
        return _url(
            "access-event-list",
            site=one.code,
            start=f"{first.isoformat()}T00:00",
            end=f"{last.isoformat()}T23:59",
        )

    over_time = [
        Mark(
            row.label,
            row.incidents,
            str(row.incidents),
            incidents(row.first_day, row.last_day),
            f"{row.first_day}–{row.last_day}: {row.incidents} incidents",
        )
        for row in dash.buckets
    ]
    by_category = [
        Mark(name, n, str(n), incidents(dash.period.start, dash.period.end, category=pk or ""))
        for pk, name, n in dash.categories
    ]
    by_severity = [
        Mark(label, n, str(n), incidents(dash.period.start, dash.period.end, severity=value))
        for value, label, n in dash.severities
    ]
    compliance = [
        Mark(
            row.label,
            row.compliance_percent or 0,
            "—" if row.compliance_percent is None else f"{row.windows_walked}/{row.windows_due}",
            rounds(row.first_day, row.last_day),
            f"{row.first_day}–{row.last_day}: {row.windows_walked} of {row.windows_due} "
            f"rounds walked, {row.missed_recorded} missed",
        )
        for row in dash.buckets
    ]
    acknowledge = [
        Mark(
            row.label,
            row.ack_median or 0,
            "—" if row.ack_median is None else f"{row.ack_median:g}",
            events(row.first_day, row.last_day),
            f"{row.first_day}–{row.last_day}: median {_minutes(row.ack_median)}, "
            f"p90 {_minutes(row.ack_p90)}, {len(row.ack_minutes)} acknowledged",
        )
        for row in dash.buckets
    ]
    if not dash.windows_due:
        compliance = []  # no schedule had a window: say so rather than draw empty bars
    if not dash.alarms_acknowledged:
        acknowledge = []
    heat_link = incidents(dash.period.start, dash.period.end) if links else None
    return {
        "over_time": column_chart(over_time, "Incidents per " + dash.period.unit),
        "by_category": bar_chart(by_category, "Incidents by category"),
        "by_severity": bar_chart(by_severity, "Incidents by severity"),
        "heat_map": heat_map(dash.heatmap_rows, "Incidents by weekday and hour", heat_link),
        "compliance": column_chart(compliance, "Rounds walked of rounds due, per bucket"),
        "acknowledge": column_chart(acknowledge, "Median minutes to acknowledge an alarm"),
    }


def monthly_filename(site: Site, month: str, extension: str) -> str:
    return f"monthly-{site.code}-{month}.{extension}"


def render_monthly_pdf(dash: Dashboard, month: str, generated_at: datetime) -> bytes:
    """The monthly site report as a PDF (A4): the figures, their charts and tables."""
    html = render_to_string(
        "facility_log/dashboard/monthly_pdf.html",
        {
            "dash": dash,
            "site": dash.sites[0],
            "month": month,
            "charts": charts_for(dash, links=False),
            "generated_at": generated_at,
        },
    )
    return render_pdf(html)


CSV_COLUMNS = [
    Column("figure", lambda row: row[0]),
    Column("bucket", lambda row: row[1]),
    Column("key", lambda row: row[2]),
    Column("value", lambda row: row[3], NUMBER),
]


def monthly_rows(dash: Dashboard) -> list[tuple]:
    """The report's figures as (figure, bucket, key, value) lines: totals first, then per
    day, the heat map cells that are not zero, and what is open."""
    names = {pk: name for pk, name, _ in dash.categories}
    rows: list[tuple] = [
        ("incidents", "", "total", dash.incidents),
        *[("incidents_by_category", "", name, n) for _, name, n in dash.categories],
        *[("incidents_by_severity", "", value, n) for value, _, n in dash.severities],
        ("rounds", "", "windows_due", dash.windows_due),
        ("rounds", "", "windows_walked", dash.windows_walked),
        ("rounds", "", "percent_walked", dash.compliance_percent),
        ("rounds", "", "missed_recorded", dash.missed_recorded),
        ("rounds", "", "runs_outside_schedules", dash.unscheduled_runs),
        ("alarms", "", "raised", dash.alarms_raised),
        ("alarms", "", "acknowledged", dash.alarms_acknowledged),
        ("alarms", "", "not_acknowledged", dash.alarms_unacknowledged),
        ("alarms", "", "minutes_to_acknowledge_median", dash.ack_median),
        ("alarms", "", "minutes_to_acknowledge_p90", dash.ack_p90),
    ]
    for row in dash.buckets:
        day = row.first_day.isoformat()
        rows.append(("incidents_per_day", day, "total", row.incidents))
        rows += [
            ("incidents_per_day", day, names.get(pk, "No category"), n)
            for pk, n in sorted(row.by_category.items(), key=lambda kv: kv[0] or 0)
        ]
        rows.append(("rounds_per_day", day, "windows_due", row.windows_due))
        rows.append(("rounds_per_day", day, "windows_walked", row.windows_walked))
        rows.append(("rounds_per_day", day, "missed_recorded", row.missed_recorded))
        rows.append(("alarms_per_day", day, "raised", row.alarms_raised))
        rows.append(("alarms_per_day", day, "minutes_to_acknowledge_median", row.ack_median))
    for day, counts in dash.heatmap_rows:
        rows += [
            ("incidents_by_weekday_hour", day, f"{hour:02d}", n)
            for hour, n in enumerate(counts)
            if n
        ]
    for item in dash.open_items:
        rows.append(("open_now", "", f"{item.kind}_count", item.count))
        rows.append(("open_now", "", f"{item.kind}_over_7_days", item.over_7_days))
        rows.append(("open_now", "", f"{item.kind}_oldest_age_hours", item.oldest_age_hours))
    return rows


def monthly_csv(dash: Dashboard) -> str:
    """The report as CSV (services/csv_export.py: BOM, formulas defused), one figure a line,
    days local to the site."""
    site = dash.sites[0]
    columns = [Column("site", lambda row: site.code), *CSV_COLUMNS]
    return csv_text(columns, monthly_rows(dash), lambda row: site.tzinfo)
