"""The history of one record over the API: every change with who, when, why and which
fields went from what to what — what the history pages show, for an incident, an alarm, a
round (run), a shift and a site. Read through services/history.py; one route per kind of
record, each next to the record's own URL (`/incidents/{id}/history/`, ...).

Who may read it is who may read the record: any role at its site, except a site's own
history (its memberships), which is for auditors and managers as on the page. Reading an
incident's history or a shift's (its log entries) is written to the view log, as the pages are."""

from dataclasses import dataclass
from datetime import date, datetime

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from facility_log.api.responses import READ_ONE, errors
from facility_log.models import Alarm, Incident, Run, Shift, Site
from facility_log.scoping import AUDIT_ROLES, VIEW_ROLES, get_scoped_or_404
from facility_log.services import history, view_log


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField(allow_null=True, help_text="as text; null when there was none")
    new = serializers.CharField(allow_null=True, help_text="as text; null when there is none")


class HistoryEntrySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    record = serializers.CharField(help_text="which record changed (e.g. `incident #5`)")
    kind = serializers.CharField(help_text="created, changed, deleted, added, attached, ...")
    user = serializers.CharField(source="user_name", help_text="username at the time")
    reason = serializers.CharField()
    request_id = serializers.CharField(allow_blank=True)
    changes = ChangeSerializer(many=True)


class RecordHistorySerializer(serializers.Serializer):
    record_type = serializers.CharField()
    record_id = serializers.CharField()
    results = HistoryEntrySerializer(many=True, help_text="oldest first")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _as_text(entries: list[history.HistoryEntry]) -> list[history.HistoryEntry]:
    for entry in entries:
        entry.request_id = entry.request_id or ""
        entry.changes = [history.Change(c.field, _text(c.old), _text(c.new)) for c in entry.changes]
    return entries


@dataclass(frozen=True)
class Kind:
    """How to find one kind of record and read its history."""

    name: str
    queryset: object
    read: object
    roles: frozenset = VIEW_ROLES
    lookup: str = "pk"
    site_field: str = "site"


KINDS = {
    "incident": Kind("incident", Incident.objects.select_related("site"), history.incident_history),
    "alarm": Kind("alarm", Alarm.objects.select_related("site"), history.alarm_history),
    "run": Kind("run", Run.objects.select_related("site"), history.run_history),
    "shift": Kind("shift", Shift.objects.select_related("site"), history.shift_history),
    "site": Kind("site", Site.objects.all(), history.site_history, AUDIT_ROLES, "code", ""),
}


class RecordHistoryView(APIView):
    """GET the record's history, oldest first (one subclass per kind, made by `_view`)."""

    kind: Kind = KINDS["incident"]

    def history(self, request, **kwargs) -> Response:
        kind = self.kind
        key = kwargs[kind.lookup]
        record = get_scoped_or_404(
            kind.queryset, request.user, kind.roles, kind.site_field, **{kind.lookup: key}
        )
        # Whose records these are is personal data: read like the history page (incidents)
        # and the activity report (a shift's log).
        if kind.name == "incident":
            view_log.incident_read(request.user, record, view_log.Via.HISTORY)
        elif kind.name == "shift":
            view_log.record_view(
                request.user,
                record,
                site=record.site,
                label=f"shift #{record.pk} history",
                via=view_log.Via.HISTORY,
            )
        body = {
            "record_type": kind.name,
            "record_id": str(key),
            "results": _as_text(kind.read(record)),
        }
        return Response(RecordHistorySerializer(body).data)


def _view(name: str, path_type=int):
    kind = KINDS[name]
    who = "auditors and managers of its site" if kind.roles == AUDIT_ROLES else "its site"
    decorated = extend_schema(
        operation_id=f"{name}_history",
        summary=f"The {name}'s history: who, when, why, which fields (readers: {who})",
        parameters=[OpenApiParameter(kind.lookup, path_type, OpenApiParameter.PATH)],
        responses={200: RecordHistorySerializer, **errors(*READ_ONE)},
        tags=["history"],
    )

    def get(self, request, **kwargs):
        return self.history(request, **kwargs)

    view = type(f"{name.title()}HistoryView", (RecordHistoryView,), {"kind": kind})
    view.get = decorated(get)
    return view.as_view()


incident_history = _view("incident")
alarm_history = _view("alarm")
run_history = _view("run")
shift_history = _view("shift")
site_history = _view("site", str)
