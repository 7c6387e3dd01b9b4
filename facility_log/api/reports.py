"""Reports over the API, as JSON, with links to the same report as PDF or CSV: the daily
activity report (DAR) of one shift and of one site-day (services/activity_report.py), and
the rounds compliance report (services/rounds_report.py).

Who reads what is as on the pages: a DAR needs any role at the site and is written to the
view log (it names people and what they logged); the compliance report is for supervisors,
managers and auditors. A fixed number of queries however long the report."""

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from facility_log.api.fields import IdField
from facility_log.api.responses import READ_ONE, errors
from facility_log.models import Role, Route, Shift
from facility_log.scoping import REVIEW_ROLES, VIEW_ROLES, get_scoped_or_404, get_site_or_404
from facility_log.services import activity_report as dar
from facility_log.services import view_log
from facility_log.services.rounds_report import compliance_report
from facility_log.services.times import check_filter_day

REPORT_READERS = REVIEW_ROLES | {Role.AUDITOR}
MAX_DAYS = 93


# --- the daily activity report ---------------------------------------------------------------


class EntryOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    text = serializers.CharField()


class HandoverOut(serializers.Serializer):
    shift = serializers.IntegerField(source="pk")
    guard = serializers.CharField(source="guard.username")
    ended_at = serializers.DateTimeField()
    pass_down_notes = serializers.CharField()


class RunLineOut(serializers.Serializer):
    run = serializers.IntegerField(source="run.pk")
    route = serializers.CharField(source="route_name")
    guard = serializers.CharField(source="guard_name")
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    scanned = serializers.IntegerField()
    planned = serializers.IntegerField()
    exceptions = serializers.ListField(child=serializers.CharField())


class IncidentLineOut(serializers.Serializer):
    incident = serializers.IntegerField(source="incident.pk")
    label = serializers.CharField()
    category = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    summary = serializers.CharField()
    occurred_at = serializers.DateTimeField()


class PostOrderAckOut(serializers.Serializer):
    post_order = serializers.IntegerField(source="version.post_order_id")
    title = serializers.CharField(source="version.title")
    version = serializers.IntegerField(source="version.number")
    acknowledged_at = serializers.DateTimeField()


class ShiftBlockOut(serializers.Serializer):
    shift = serializers.IntegerField(source="shift.pk")
    guard = serializers.CharField(source="guard_name")
    started_at = serializers.DateTimeField(source="shift.started_at")
    ended_at = serializers.DateTimeField(source="shift.ended_at", allow_null=True)
    pass_down_notes = serializers.CharField(source="shift.pass_down_notes")
    received = HandoverOut(allow_null=True, help_text="the notes this shift was handed")
    post_order_acks = PostOrderAckOut(
        source="acks", many=True, help_text="post orders its guard acknowledged at its start"
    )
    entries = EntryOut(many=True)
    runs = RunLineOut(many=True)
    incidents = IncidentLineOut(many=True)


class ShiftReportOut(serializers.Serializer):
    title = serializers.CharField()
    site = serializers.CharField(source="site.code")
    time_zone = serializers.CharField(source="site.time_zone")
    generated_at = serializers.DateTimeField()
    shift = ShiftBlockOut(source="block")
    pdf_url = serializers.CharField()
    page_url = serializers.CharField()


class SiteDayReportOut(serializers.Serializer):
    title = serializers.CharField()
    site = serializers.CharField(source="site.code")
    time_zone = serializers.CharField(source="site.time_zone")
    day = serializers.DateField(validators=[check_filter_day])
    start = serializers.DateTimeField(help_text="local midnight, in UTC")
    end = serializers.DateTimeField(help_text="the next local midnight, in UTC")
    generated_at = serializers.DateTimeField()
    shifts = ShiftBlockOut(many=True)
    runs = RunLineOut(many=True)
    incidents = IncidentLineOut(many=True)
    pdf_url = serializers.CharField()
    page_url = serializers.CharField()


@extend_schema(
    operation_id="shift_report",
    summary="A shift's daily activity report as JSON (with the PDF's URL); view-logged",
    responses={200: ShiftReportOut, **errors(*READ_ONE)},
    tags=["reports"],
)
@api_view(["GET"])
def shift_report(request, pk: int):
    shift = get_scoped_or_404(
        Shift.objects.select_related("site", "guard"), request.user, VIEW_ROLES, pk=pk
    )
    view_log.shift_report_read(request.user, shift)
    report = dar.shift_report(shift)
    report.pdf_url = reverse("shift-report-pdf", args=[shift.pk])
    report.page_url = reverse("shift-report", args=[shift.pk])
    return Response(ShiftReportOut(report).data)


class DayIn(serializers.Serializer):
    day = serializers.DateField(
        help_text="a local day of the site, YYYY-MM-DD", validators=[check_filter_day]
    )


@extend_schema(
    operation_id="site_activity_report",
    summary="A site's daily activity report for one local day as JSON (with the PDF's URL)",
    parameters=[OpenApiParameter("day", date, OpenApiParameter.PATH)],
    responses={200: SiteDayReportOut, **errors(400, *READ_ONE)},
    tags=["reports"],
)
@api_view(["GET"])
def site_activity(request, code: str, day: str):
    site = get_site_or_404(request.user, code, VIEW_ROLES)
    given = DayIn(data={"day": day})
    given.is_valid(raise_exception=True)
    local_day = given.validated_data["day"]
    view_log.site_day_report_read(request.user, site, local_day)
    report = dar.site_day_report(site, local_day)
    report.pdf_url = reverse("site-activity-pdf", args=[site.code, f"{local_day:%Y-%m-%d}"])
    report.page_url = reverse("site-activity", args=[site.code, f"{local_day:%Y-%m-%d}"])
    return Response(SiteDayReportOut(report).data)


# --- rounds compliance -----------------------------------------------------------------------


class ComplianceFilter(serializers.Serializer):
    start = serializers.DateField(
        required=False,
        help_text="first local day (default: 6 ago)",
        validators=[check_filter_day],
    )
    end = serializers.DateField(
        required=False,
        help_text="last local day (default: today)",
        validators=[check_filter_day],
    )
    route = IdField(required=False, min_value=1, help_text="route id")
    guard = serializers.CharField(required=False, max_length=150, help_text="guard's username")

    def validate(self, attrs):
        site, today = self.context["site"], self.context["today"]
        attrs.setdefault("end", today)
        attrs.setdefault("start", attrs["end"] - timedelta(days=6))
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The period ends before it starts."})
        if (attrs["end"] - attrs["start"]).days >= MAX_DAYS:
            raise serializers.ValidationError({"end": f"At most {MAX_DAYS} days at once."})
        if "route" in attrs:
            attrs["route"] = Route.objects.filter(site=site, pk=attrs["route"]).first()
            if attrs["route"] is None:
                raise serializers.ValidationError({"route": "No such route at this site."})
        if "guard" in attrs:
            guards = get_user_model().objects.filter(round_runs__site=site).distinct()
            attrs["guard"] = guards.filter(username=attrs["guard"]).first()
            if attrs["guard"] is None:
                raise serializers.ValidationError({"guard": "No rounds by this guard here."})
        return attrs


class ComplianceRowOut(serializers.Serializer):
    day = serializers.DateField(validators=[check_filter_day])
    route = serializers.IntegerField(source="route.pk")
    route_name = serializers.CharField(source="route.name")
    guard = serializers.CharField(
        source="guard.username", allow_null=True, default=None, help_text="null: missed rounds"
    )
    runs = serializers.IntegerField()
    checkpoints_expected = serializers.IntegerField()
    checkpoints_on_time = serializers.IntegerField()
    percent_on_time = serializers.FloatField(allow_null=True)
    missed_rounds = serializers.IntegerField()


class ComplianceReportOut(serializers.Serializer):
    site = serializers.CharField()
    time_zone = serializers.CharField()
    start = serializers.DateField(validators=[check_filter_day])
    end = serializers.DateField(validators=[check_filter_day])
    rows = ComplianceRowOut(many=True)
    csv_url = serializers.CharField()
    page_url = serializers.CharField()


@extend_schema(
    operation_id="rounds_compliance_report",
    summary="Rounds compliance per local day, route and guard (supervisors, managers, auditors)",
    parameters=[ComplianceFilter],
    responses={200: ComplianceReportOut, **errors(400, *READ_ONE)},
    tags=["reports"],
)
@api_view(["GET"])
def rounds_compliance(request, code: str):
    site = get_site_or_404(request.user, code, REPORT_READERS)
    today = timezone.now().astimezone(site.tzinfo).date()
    given = ComplianceFilter(
        data=request.query_params.dict(), context={"site": site, "today": today}
    )
    given.is_valid(raise_exception=True)
    data = given.validated_data
    rows = compliance_report(
        site, start=data["start"], end=data["end"], route=data.get("route"), guard=data.get("guard")
    )
    query = {"start": data["start"], "end": data["end"]}
    if data.get("route"):
        query["route"] = data["route"].pk
    if data.get("guard"):
        query["guard"] = data["guard"].pk
    body = {
        "site": site.code,
        "time_zone": site.time_zone,
        "start": data["start"],
        "end": data["end"],
        "rows": rows,
        "csv_url": f"{reverse('rounds-report-csv', args=[site.code])}?{urlencode(query)}",
        "page_url": f"{reverse('rounds-report', args=[site.code])}?{urlencode(query)}",
    }
    return Response(ComplianceReportOut(body).data)
