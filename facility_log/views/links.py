"""Turning an alarm or a checkpoint observation into an incident."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from facility_log.models.access import Alarm
from facility_log.models.rounds import Scan
from facility_log.scoping import REPORT_ROLES, REVIEW_ROLES, get_scoped_or_404
from facility_log.services import links


@require_POST
def alarm_open_incident(request, pk: int):
    """Supervisors: open (or go to) the incident for this alarm."""
    alarm = get_scoped_or_404(
        Alarm.objects.select_related("site", "door", "event"), request.user, REVIEW_ROLES, pk=pk
    )
    incident = links.open_incident_from_alarm(alarm, request.user)
    messages.success(request, _("Incident opened from the alarm; complete it and submit it."))
    return redirect("incident-page", pk=incident.pk)


@require_POST
def scan_report_incident(request, pk: int):
    """Guards: report what was seen at a checkpoint, with site, zone and time filled in."""
    scan = get_scoped_or_404(
        Scan.objects.select_related("run__site", "checkpoint"),
        request.user,
        REPORT_ROLES,
        site_field="run__site",
        pk=pk,
    )
    incident = links.report_from_scan(scan, request.user)
    messages.success(request, _("Draft incident started from the checkpoint; add what you saw."))
    return redirect("incident-page", pk=incident.pk)
