"""Guard-round pages: the site's rounds, the guard's round screen, the supervisor's live view,
the compliance report (HTML and CSV), checkpoint management and the printable QR labels."""

from datetime import timedelta

import segno
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from facility_log.forms.rounds import (
    CheckpointForm,
    ClientUuidForm,
    ManualScanForm,
    ReportFilterForm,
)
from facility_log.models import (
    Checkpoint,
    Role,
    RoundException,
    Route,
    RouteStop,
    Run,
    ScanMethod,
    Site,
)
from facility_log.scoping import (
    MANAGE_ROLES,
    REPORT_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    get_site_or_404,
    has_role,
)
from facility_log.services import rounds as round_services
from facility_log.services import run_page
from facility_log.services.csv_export import csv_response
from facility_log.services.pdf_render import render_pdf
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery
from facility_log.services.rounds import IdempotencyConflict, ScanInput
from facility_log.services.rounds_report import compliance_csv, compliance_report
from facility_log.services.scoped_get import ScopedGet

REPORT_READERS = REVIEW_ROLES | {Role.AUDITOR}


def label_qr(tag_code: str) -> segno.QRCode:
    """The QR code printed on a checkpoint label: always a full QR code. (segno would pick a
    Micro QR for a 12-character code, which phone and tablet cameras do not read.)"""
    return segno.make_qr(tag_code, error="m")


def _site(request, code: str, roles=VIEW_ROLES) -> Site:
    return get_site_or_404(request.user, code, roles)


# The run with what its pages show, read as get_scoped_with_roles reads it, compiled once.
_SCOPED_RUN = ScopedGet(lambda: Run.objects.select_related("site", "route", "guard", "schedule"))


def _run(request, pk: int) -> Run:
    """A run, for its guard or the site's supervisors and managers."""
    run, held = _SCOPED_RUN.get(request.user, pk, REPORT_ROLES)
    if run.guard_id != request.user.pk and not held & set(REVIEW_ROLES):
        raise PermissionDenied("This is another guard's round.")
    return run


# The rounds page's two reads, compiled and prepared once (services/prepared.py).
_ACTIVE_ROUTES = PreparedQuery(
    lambda key, site_id: Route.objects.filter(site_id=site_id, is_active=True).annotate(
        stop_count=Count("stops")
    ),
    {"site_id": Slot(-(2**31) + 71, Route._meta.get_field("site"))},
    strict=True,
)
_OPEN_RUNS = PreparedQuery(
    lambda key, site_id, guard_id: (
        Run.objects.filter(site_id=site_id, guard_id=guard_id, finished_at__isnull=True)
        .select_related("route")
        .order_by("-started_at")
    ),
    {
        "site_id": Slot(-(2**31) + 72, Run._meta.get_field("site")),
        "guard_id": Slot(-(2**31) + 73, Run._meta.get_field("guard")),
    },
    strict=True,
)


def rounds_site(request, code: str):
    """The rounds of one site: routes to start, my open runs, links by role."""
    site = _site(request, code)
    context = {
        "site": site,
        "routes": _ACTIVE_ROUTES.all(None, site_id=site.pk),
        "open_runs": _OPEN_RUNS.all(None, site_id=site.pk, guard_id=request.user.pk),
        "can_walk": has_role(request.user, site, REPORT_ROLES),
        "can_review": has_role(request.user, site, REVIEW_ROLES),
        "can_report": has_role(request.user, site, REPORT_READERS),
        "can_manage": has_role(request.user, site, MANAGE_ROLES),
    }
    return render(request, "facility_log/rounds/site.html", context)


@require_POST
def round_start(request, code: str, route_id: int):
    site = _site(request, code, REPORT_ROLES)
    route = get_object_or_404(Route, site=site, pk=route_id)
    try:
        run = round_services.start_run(route, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("rounds-site", code=site.code)
    return redirect("round-run", pk=run.pk)


def _progress(run: Run, scans: list, checkpoints: dict) -> dict:
    scanned = {scan.checkpoint_id for scan in scans}
    stops = [
        {
            "checkpoint": checkpoints[stop["checkpoint"]],
            "due": run.started_at + timedelta(minutes=stop["minutes"]),
            "done": stop["checkpoint"] in scanned,
        }
        for stop in run.plan
    ]
    upcoming = [stop for stop in stops if not stop["done"]]
    return {
        "stops": stops,
        "next": upcoming[0] if upcoming else None,
        "done_count": len(stops) - len(upcoming),
        "scans": scans,
    }


def round_run(request, pk: int, form=None):
    """The guard's round screen: next checkpoint, its instructions, progress, code entry."""
    run = _run(request, pk)
    # Its scans, active exceptions and checkpoints in one round trip (services/run_page.py).
    scans, exceptions, checkpoints = run_page.read_run(run)
    context = {
        "run": run,
        "site": run.site,
        "form": form or ManualScanForm(),
        "client_uuid": ClientUuidForm.fresh(),
        "exceptions": exceptions,
        **_progress(run, scans, checkpoints),
    }
    return render(request, "facility_log/rounds/run.html", context)


@require_POST
def round_scan(request, pk: int):
    """A manually entered code: record it and come back to the round screen."""
    run = _run(request, pk)
    form = ManualScanForm(request.POST, request.FILES)
    key = ClientUuidForm(request.POST)
    if not (form.is_valid() and key.is_valid()):
        return round_run(request, pk, form=form)
    data = ScanInput(
        tag_code=form.cleaned_data["code"],
        client_uuid=key.cleaned_data["client_uuid"],
        device_time=timezone.now(),
        method=ScanMethod.MANUAL,
        note=form.cleaned_data["note"],
    )
    try:
        scan, _ = round_services.record_scan(
            request.user, data, run=run, photo=form.cleaned_data["photo"]
        )
    except ValidationError as error:
        if "photo" in error.message_dict:
            form.add_error("photo", error.message_dict["photo"])
        else:
            form.add_error("code", error.message_dict.get("tag_code") or error.messages)
        return round_run(request, pk, form=form)
    except IdempotencyConflict:
        messages.error(request, gettext("That form was already sent; scan again."))
        return redirect("round-run", pk=run.pk)
    messages.success(
        request, gettext("Scanned %(checkpoint)s.") % {"checkpoint": scan.checkpoint.name}
    )
    return redirect("round-run", pk=run.pk)


@require_POST
def round_finish(request, pk: int):
    run = _run(request, pk)
    try:
        round_services.finish_run(run, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, gettext("Round %(route)s finished.") % {"route": run.route.name})
    return redirect("rounds-site", code=run.site.code)


def rounds_live(request, code: str):
    """Supervisors: runs in progress with their progress, and the exceptions of the last day."""
    site = _site(request, code, REVIEW_ROLES)
    since = timezone.now() - timedelta(hours=24)
    runs = (
        Run.objects.filter(site=site, finished_at__isnull=True)
        .select_related("route", "guard")
        .annotate(scanned=Count("scans__checkpoint", distinct=True))
        .order_by("started_at")
    )
    exceptions = (
        RoundException.objects.filter(site=site, detected_at__gte=since, withdrawn_at__isnull=True)
        .select_related("run__guard", "run__route", "schedule__route", "checkpoint")
        .order_by("-detected_at")[:200]
    )
    context = {"site": site, "runs": runs, "exceptions": exceptions, "now": timezone.now()}
    return render(request, "facility_log/rounds/live.html", context)


def _report(request, code: str):
    site = _site(request, code, REPORT_READERS)
    guards = get_user_model().objects.filter(round_runs__site=site).distinct().order_by("username")
    today = timezone.now().astimezone(site.tzinfo).date()
    data = request.GET or {"start": str(today - timedelta(days=6)), "end": str(today)}
    form = ReportFilterForm(data, site=site, guards=guards)
    rows = []
    if form.is_valid():
        picked = form.cleaned_data["guard"]
        guard = guards.filter(pk=picked).first() if picked else None
        rows = compliance_report(
            site,
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            route=form.cleaned_data["route"],
            guard=guard,
        )
    return site, form, rows


def rounds_report(request, code: str):
    """Compliance per day, route and guard: percent of checkpoints on time, missed rounds."""
    site, form, rows = _report(request, code)
    context = {"site": site, "form": form, "rows": rows, "query": request.GET.urlencode()}
    return render(request, "facility_log/rounds/report.html", context)


def rounds_report_csv(request, code: str):
    site, form, rows = _report(request, code)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    name = f"rounds-{site.code}-{form.cleaned_data['start']}-{form.cleaned_data['end']}.csv"
    return csv_response([compliance_csv(site, rows)], name)


def checkpoints(request, code: str):
    """Managers: the site's checkpoints with their tag codes, and its routes."""
    site = _site(request, code, MANAGE_ROLES)
    routes = Route.objects.filter(site=site).prefetch_related(
        Prefetch("stops", queryset=RouteStop.objects.select_related("checkpoint"))
    )
    context = {
        "site": site,
        "checkpoints": Checkpoint.objects.filter(site=site).select_related("zone"),
        "routes": routes,
    }
    return render(request, "facility_log/rounds/checkpoints.html", context)


def _save_checkpoint(form, save) -> bool:
    try:
        save()
    except ValidationError as error:
        for field, errors in getattr(error, "message_dict", {None: error.messages}).items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    return True


def checkpoint_add(request, code: str):
    site = _site(request, code, MANAGE_ROLES)
    form = CheckpointForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("is_active")
        if _save_checkpoint(
            form, lambda: round_services.create_checkpoint(site, request.user, **data)
        ):
            messages.success(request, f"Checkpoint {data['name']} added.")
            return redirect("checkpoints", code=site.code)
    context = {"form": form, "site": site, "heading": f"Add a checkpoint to {site.code}"}
    return render(request, "facility_log/rounds/checkpoint_form.html", context)


def checkpoint_edit(request, pk: int):
    checkpoint = get_scoped_or_404(
        Checkpoint.objects.select_related("site", "zone"), request.user, MANAGE_ROLES, pk=pk
    )
    initial = {f: getattr(checkpoint, f) for f in ("zone", "name", "instructions", "is_active")}
    form = CheckpointForm(request.POST or None, site=checkpoint.site, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        if _save_checkpoint(
            form,
            lambda: round_services.update_checkpoint(
                checkpoint, request.user, reason=reason, **data
            ),
        ):
            messages.success(request, f"Checkpoint {checkpoint.name} saved.")
            return redirect("checkpoints", code=checkpoint.site.code)
    context = {"form": form, "site": checkpoint.site, "heading": f"Edit {checkpoint.name}"}
    return render(request, "facility_log/rounds/checkpoint_form.html", context)


def checkpoint_labels(request, code: str):
    """A printable PDF of QR labels for the site's active checkpoints, or one route's."""
    site = _site(request, code, MANAGE_ROLES)
    chosen = Checkpoint.objects.filter(site=site, is_active=True).select_related("zone")
    route = None
    if request.GET.get("route"):
        wanted = request.GET["route"]
        # Not a whole number (`?route=abc`) or past a 64-bit id: no such route, not a 500.
        if not (wanted.isascii() and wanted.isdigit() and int(wanted) < 2**63):
            raise Http404("No such route.")
        route = get_object_or_404(Route, site=site, pk=wanted)
        chosen = chosen.filter(stops__route=route).order_by("stops__position")
    labels = [
        {"checkpoint": cp, "qr": label_qr(cp.tag_code).svg_data_uri(scale=6)} for cp in chosen
    ]
    html = render_to_string(
        "facility_log/rounds/labels.html", {"site": site, "route": route, "labels": labels}
    )
    pdf = render_pdf(html)
    response = HttpResponse(pdf, content_type="application/pdf")
    suffix = f"-route-{route.pk}" if route else ""
    response["Content-Disposition"] = f'inline; filename="labels-{site.code}{suffix}.pdf"'
    return response
