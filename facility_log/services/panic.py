"""The panic (duress) button: a guard's press becomes a duress alarm at once, at the top of
the alarm console (services/alarm_priorities.py: duress is critical by default).

What the alarm carries is the site, the guard, the guard's open shift and the last
checkpoint scanned with its time: no position is asked for or accepted (PRIVACY.md). The
tablet sends the last checkpoint it scanned (its scans may still be in its outbox, behind the
press); without one, the server's last scan of this guard at the site in this shift is used.

Idempotent on the tablet's `client_uuid`: a press sent again, however often, answers with
the alarm it raised; the same uuid from another guard, site or time is refused.
"""

import uuid
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from facility_log.models import Alarm, Checkpoint, EventType, PanicAlert, Scan, Shift, Site
from facility_log.scoping import REPORT_ROLES, require_role
from facility_log.services import notifications
from facility_log.services.access import DEFAULT_ESCALATE_MINUTES, AlarmRules
from facility_log.services.audit import audited_change
from facility_log.services.rounds import IdempotencyConflict
from facility_log.services.shifts import open_shift_for


def _same_press(existing: PanicAlert, actor, site: Site, pressed_at: datetime) -> Alarm:
    if (existing.guard_id, existing.site_id, existing.pressed_at) != (
        actor.pk,
        site.pk,
        pressed_at,
    ):
        raise IdempotencyConflict(
            "This client_uuid was used for another panic press (guard, site or time differ)."
        )
    return existing.alarm


def _last_scan(actor, site: Site, shift: Shift | None) -> Scan | None:
    scans = Scan.objects.filter(run__site=site, recorded_by=actor)
    if shift is not None:
        scans = scans.filter(effective_time__gte=shift.started_at)
    return scans.select_related("checkpoint").order_by("-effective_time", "-pk").first()


def raise_panic(
    actor: AbstractBaseUser,
    *,
    site: Site,
    client_uuid: uuid.UUID,
    pressed_at: datetime,
    shift: Shift | None = None,
    last_checkpoint: Checkpoint | None = None,
    last_scanned_at: datetime | None = None,
    silent: bool = False,
) -> tuple[Alarm, bool]:
    """Record a press of the panic button and raise its duress alarm; `(alarm, created)`."""
    require_role(actor, site, REPORT_ROLES)
    existing = PanicAlert.objects.filter(client_uuid=client_uuid).select_related("alarm").first()
    if existing is not None:
        return _same_press(existing, actor, site, pressed_at), False
    if shift is not None and (shift.site_id != site.pk or shift.guard_id != actor.pk):
        raise ValidationError({"shift": "Not your shift at this site."})
    shift = shift or open_shift_for(actor, site)
    if last_checkpoint is not None and last_checkpoint.site_id != site.pk:
        raise ValidationError({"last_checkpoint": f"Not a checkpoint of {site.code}."})
    if last_checkpoint is None:
        scan = _last_scan(actor, site, shift)
        if scan is not None:
            last_checkpoint, last_scanned_at = scan.checkpoint, scan.effective_time
    minutes = AlarmRules(site).minutes_for(None, EventType.DURESS) or DEFAULT_ESCALATE_MINUTES
    try:
        with audited_change(actor, "panic button pressed on the tablet"):
            panic = PanicAlert.objects.create(
                site=site,
                guard=actor,
                shift=shift,
                client_uuid=client_uuid,
                pressed_at=pressed_at,
                last_checkpoint=last_checkpoint,
                last_scanned_at=last_scanned_at if last_checkpoint else None,
                silent=silent,
            )
            alarm = Alarm(
                site=site,
                panic=panic,
                event_type=EventType.DURESS,
                raised_at=timezone.now(),
                escalate_after_minutes=minutes,
            )
            alarm.save()
            # Supervisors and managers are told at once, in the app and by email.
            notifications.urgent_alarms(site, [alarm])
    except IntegrityError:
        # Two sends of the same press crossed (two tabs, a retry): the first one won.
        existing = PanicAlert.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _same_press(existing, actor, site, pressed_at), False
    return alarm, True
