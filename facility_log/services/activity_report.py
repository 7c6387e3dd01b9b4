"""The daily activity report (DAR): what a shift did, or what happened at a site on one
local day, as plain data for the page and the PDF.

Per shift: the guard, start and end, the post orders acknowledged at its start, the
pass-down notes the shift received and the ones it left, its log entries in time order,
the rounds its guard walked at the site during it, and the site's incidents reported by its
guard or that occurred during it.
Per site-day (the site's time zone, midnight to midnight): every shift that overlaps the day,
shown whole, with its log and notes; and every run started and incident occurred that day.

Read-only, and a fixed number of queries however many entries, runs or incidents there are.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext

from facility_log import choice_labels
from facility_log.models import (
    Incident,
    PostOrderAck,
    RoundException,
    Run,
    Scan,
    Shift,
    ShiftEntry,
    Site,
)
from facility_log.services.pdf_render import render_pdf
from facility_log.services.rounds import local_to_utc
from facility_log.services.shifts import previous_handover

SUMMARY_CHARS = 140


@dataclass
class RunLine:
    """One round walked: route, times, planned stops scanned, exceptions found. `run` is None
    where the report read its runs as rows of the shown columns (the shift report page,
    services/shift_report_reads.py)."""

    run: Run | None
    route_name: str
    guard_name: str
    started_at: datetime
    finished_at: datetime | None
    scanned: int
    planned: int
    exceptions: list[str]


@dataclass
class IncidentLine:
    incident: Incident
    label: str
    category: str
    severity: str
    status: str
    summary: str
    occurred_at: datetime


@dataclass
class ShiftBlock:
    """One shift with its log, the notes it received (`received`, a Shift) and left, and
    the post orders its guard acknowledged at its start (`acks`)."""

    shift: Shift
    guard_name: str
    received: Shift | None
    entries: list[ShiftEntry]
    acks: list[PostOrderAck] = field(default_factory=list)
    runs: list[RunLine] = field(default_factory=list)
    incidents: list[IncidentLine] = field(default_factory=list)


@dataclass
class ShiftReport:
    site: Site
    block: ShiftBlock
    generated_at: datetime

    @property
    def title(self) -> str:
        local = self.block.shift.started_at.astimezone(self.site.tzinfo)
        return gettext("Daily activity report – shift of %(guard)s, %(day)s") % {
            "guard": self.block.guard_name,
            "day": f"{local:%Y-%m-%d}",
        }

    @property
    def filename(self) -> str:
        local = self.block.shift.started_at.astimezone(self.site.tzinfo)
        return f"dar-{self.site.code}-{local:%Y-%m-%d}-shift-{self.block.shift.pk}.pdf"


@dataclass
class SiteDayReport:
    site: Site
    day: date
    start: datetime
    end: datetime
    shifts: list[ShiftBlock]
    runs: list[RunLine]
    incidents: list[IncidentLine]
    generated_at: datetime

    @property
    def title(self) -> str:
        return gettext("Daily activity report – %(site)s, %(day)s") % {
            "site": self.site.name,
            "day": f"{self.day:%Y-%m-%d}",
        }

    @property
    def filename(self) -> str:
        return f"dar-{self.site.code}-{self.day:%Y-%m-%d}.pdf"


def user_name(user) -> str:
    return user.get_full_name() or user.get_username()


def local_day_bounds(site: Site, day: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at the start of `day` and of the next day."""
    tz = site.tzinfo
    return (
        local_to_utc(datetime.combine(day, time()), tz),
        local_to_utc(datetime.combine(day + timedelta(days=1), time()), tz),
    )


def _runs(queryset) -> list[RunLine]:
    runs = list(queryset.select_related("route", "guard").order_by("started_at", "pk"))
    if not runs:
        return []
    # Which checkpoints each run scanned, and its active exceptions: two reads of the columns
    # a line shows, whatever the number of runs and scans.
    ids = [run.pk for run in runs]
    scans = Scan.objects.filter(run_id__in=ids).values_list("run_id", "checkpoint_id")
    active = RoundException.objects.filter(run_id__in=ids, withdrawn_at__isnull=True)
    exceptions = active.order_by("detected_at", "pk").values_list("run_id", "kind", "detail")
    return run_lines(runs, scans, exceptions)


def run_lines(runs: list[Run], scans, exceptions) -> list[RunLine]:
    """The lines of `runs` (with their route and guard) from the (run id, checkpoint id) of
    their scans and the (run id, kind, detail) of their active exceptions, oldest first."""
    shown = [
        (run, run.pk, run.route.name, user_name(run.guard), run.started_at, run.finished_at)
        for run in runs
    ]
    return run_lines_of(shown, [run.plan for run in runs], scans, exceptions)


def run_lines_of(runs: list[tuple], plans: list, scans, exceptions) -> list[RunLine]:
    """`run_lines` of runs given as (run or None, id, route name, guard name, started_at,
    finished_at), each with its plan (in `plans`, in the same order)."""
    scanned = defaultdict(set)
    for run_id, checkpoint_id in scans:
        scanned[run_id].add(checkpoint_id)
    kinds = choice_labels.labels(RoundException._meta.get_field("kind"))
    found = defaultdict(list)
    for run_id, kind, detail in exceptions:
        label = kinds.get(kind, kind)
        found[run_id].append(f"{label}: {detail}" if detail else label)
    lines = []
    for (run, pk, route_name, guard_name, started_at, finished_at), plan in zip(
        runs, plans, strict=True
    ):
        planned = {stop["checkpoint"] for stop in plan}
        lines.append(
            RunLine(
                run=run,
                route_name=route_name,
                guard_name=guard_name,
                started_at=started_at,
                finished_at=finished_at,
                scanned=len(scanned[pk] & planned),
                planned=len(planned),
                exceptions=found[pk],
            )
        )
    return lines


def _summary(incident: Incident) -> str:
    text = incident.title or " ".join(incident.narrative.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def _incidents(queryset) -> list[IncidentLine]:
    return incident_lines(queryset.select_related("category").order_by("occurred_from", "pk"))


def incident_lines(incidents) -> list[IncidentLine]:
    """The lines of `incidents` (with their category), in the order given."""
    return [
        IncidentLine(
            incident=incident,
            label=incident.label,
            category=str(incident.category) if incident.category else "—",
            severity=incident.get_severity_display(),
            status=incident.get_status_display(),
            summary=_summary(incident),
            occurred_at=incident.occurred_from,
        )
        for incident in incidents
    ]


def shift_window(shift: Shift, now: datetime) -> tuple[datetime, datetime]:
    return shift.started_at, shift.ended_at or max(now, shift.started_at)


def shift_report(shift: Shift, *, now: datetime | None = None) -> ShiftReport:
    """The DAR of one shift. Pass a shift fetched with `select_related("site", "guard")`."""
    now = now or timezone.now()
    site = shift.site
    start, end = shift_window(shift, now)
    runs = Run.objects.filter(site=site, guard=shift.guard_id, started_at__range=(start, end))
    incidents = Incident.objects.filter(site=site).filter(
        Q(author=shift.guard_id, created_at__range=(start, end))
        | Q(occurred_from__range=(start, end))
    )
    block = ShiftBlock(
        shift=shift,
        guard_name=user_name(shift.guard),
        received=previous_handover(site, before=shift.started_at, excluding=shift),
        entries=list(shift.entries.order_by("occurred_at", "pk")),
        acks=list(shift.post_order_acks.select_related("version").order_by("pk")),
        runs=_runs(runs),
        incidents=_incidents(incidents),
    )
    return ShiftReport(site=site, block=block, generated_at=now)


def site_day_report(site: Site, day: date, *, now: datetime | None = None) -> SiteDayReport:
    """The DAR of `site` for the local `day`: shifts overlapping it, runs started and
    incidents occurred within it."""
    now = now or timezone.now()
    start, end = local_day_bounds(site, day)
    shifts = list(
        Shift.objects.filter(site=site, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .select_related("guard")
        .prefetch_related(
            Prefetch("entries", queryset=ShiftEntry.objects.order_by("occurred_at", "pk")),
            Prefetch(
                "post_order_acks",
                queryset=PostOrderAck.objects.select_related("version").order_by("pk"),
            ),
        )
        .order_by("started_at", "pk")
    )
    received = _handovers(site, shifts)
    blocks = [
        ShiftBlock(
            shift=shift,
            guard_name=user_name(shift.guard),
            received=received.get(shift.pk),
            entries=list(shift.entries.all()),
            acks=list(shift.post_order_acks.all()),
        )
        for shift in shifts
    ]
    return SiteDayReport(
        site=site,
        day=day,
        start=start,
        end=end,
        shifts=blocks,
        runs=_runs(Run.objects.filter(site=site, started_at__gte=start, started_at__lt=end)),
        incidents=_incidents(
            Incident.objects.filter(site=site, occurred_from__gte=start, occurred_from__lt=end)
        ),
        generated_at=now,
    )


def _handovers(site: Site, shifts: list[Shift]) -> dict[int, Shift | None]:
    """For each shift, the latest other shift ended at or before its start — in two queries:
    the handover before the first start, and every shift ended between the first and last."""
    if not shifts:
        return {}
    first = min(s.started_at for s in shifts)
    last = max(s.started_at for s in shifts)
    earliest = previous_handover(site, before=first)
    between = list(
        Shift.objects.filter(site=site, ended_at__gt=first, ended_at__lte=last)
        .select_related("guard")
        .order_by("ended_at", "pk")
    )
    candidates = [c for c in [earliest, *between] if c is not None]
    found = {}
    for shift in shifts:
        before = [c for c in candidates if c.ended_at <= shift.started_at and c.pk != shift.pk]
        found[shift.pk] = max(before, key=lambda c: (c.ended_at, c.pk), default=None)
    return found


def render_report_pdf(report: ShiftReport | SiteDayReport) -> bytes:
    """The report as a PDF: site, date and page x of y on every page, times with offset."""
    html = render_to_string(
        "facility_log/shifts/report_pdf.html",
        {
            "report": report,
            "site": report.site,
            "blocks": [report.block] if isinstance(report, ShiftReport) else report.shifts,
            "day_runs": getattr(report, "runs", None),
            "day_incidents": getattr(report, "incidents", None),
            "pdf": True,
        },
    )
    return render_pdf(html)
