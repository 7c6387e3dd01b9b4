"""Guided procedures: a site's managers write the steps for an alarm type or an incident
category; whoever handles such an alarm or incident ticks them, each tick a record with who
and when (models/procedures.py).

Edits keep history with the reason and raise the version. Ticks are append-only and go
through the ledger like every append-only record; taking a tick back is a new record with
the reason (`undo=True`), so nothing is silently undone. A step counts as done when its latest
record for the same step text is a tick (an edit that rewords a step asks for it again).
A refusal because of the record's state (a step already ticked, an alarm resolved) names
`state`, so the API answers it with 409 as the alarm steps do.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _

from facility_log.models import (
    Alarm,
    AlarmState,
    Category,
    EventType,
    Incident,
    Procedure,
    ProcedureTick,
    Site,
)
from facility_log.models.incidents import Status
from facility_log.scoping import (
    MANAGE_ROLES,
    REPORT_ROLES,
    REVIEW_ROLES,
    require_role,
    site_id_list,
)
from facility_log.services.audit import audited_change
from facility_log.services.incidents import IdempotencyConflict

MAX_STEPS = 40
MAX_STEP_LENGTH = 300
# An incident past these is settled: its procedure is kept as it was.
SETTLED_INCIDENT = {Status.CLOSED, Status.VOID}

__all__ = ["IdempotencyConflict", "Step", "checklist", "save_procedure", "tick_step"]


# --- managing procedures ---------------------------------------------------------------------


def _clean_steps(steps: list) -> list[str]:
    if not isinstance(steps, list) or not steps:
        raise ValidationError({"steps": _("Write at least one step.")})
    if len(steps) > MAX_STEPS:
        raise ValidationError({"steps": _("At most %(n)d steps.") % {"n": MAX_STEPS}})
    cleaned = []
    for number, text in enumerate(steps, start=1):
        text = text.strip() if isinstance(text, str) else ""
        if not text:
            raise ValidationError({"steps": _("Step %(n)d is empty.") % {"n": number}})
        if len(text) > MAX_STEP_LENGTH:
            raise ValidationError(
                {
                    "steps": _("Step %(n)d is longer than %(max)d characters.")
                    % {"n": number, "max": MAX_STEP_LENGTH}
                }
            )
        cleaned.append(text)
    return cleaned


def _check_target(site: Site, alarm_type: str, category: Category | None, exclude=None) -> None:
    if bool(alarm_type) == (category is not None):
        raise ValidationError(
            {"alarm_type": _("Choose an alarm type or an incident category (one of the two).")}
        )
    if alarm_type and alarm_type not in EventType.values:
        raise ValidationError({"alarm_type": _("%(t)r is not an alarm type.") % {"t": alarm_type}})
    others = Procedure.objects.filter(site=site, is_active=True)
    others = (
        others.filter(alarm_type=alarm_type) if alarm_type else others.filter(category=category)
    )
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        which = "alarm_type" if alarm_type else "category"
        raise ValidationError(
            {which: _("%(site)s already has a procedure for this.") % {"site": site.code}}
        )


def save_procedure(
    site: Site,
    actor: AbstractBaseUser,
    *,
    title: str,
    steps: list[str],
    reason: str,
    alarm_type: str = "",
    category: Category | None = None,
    procedure: Procedure | None = None,
) -> Procedure:
    """Create a procedure at `site`, or edit `procedure` (its next version), with the reason."""
    require_role(actor, site, MANAGE_ROLES)
    if procedure is not None and procedure.site_id != site.pk:
        raise ValidationError({"procedure": _("Not a procedure of %(s)s.") % {"s": site.code}})
    if not (title or "").strip():
        raise ValidationError({"title": _("Give the procedure a title.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the procedure is written or changed.")})
    steps = _clean_steps(steps)
    _check_target(site, alarm_type or "", category, exclude=procedure)
    with audited_change(actor, f"procedure: {reason.strip()}"):
        if procedure is None:
            procedure = Procedure(site=site)
        else:
            procedure = Procedure.objects.select_for_update().get(pk=procedure.pk)
            procedure.version += 1
        procedure.title = title.strip()
        procedure.steps = steps
        procedure.alarm_type = alarm_type or ""
        procedure.category = category
        procedure.is_active = True
        procedure.full_clean(validate_constraints=False)
        procedure.save()
    return procedure


def retire_procedure(procedure: Procedure, actor: AbstractBaseUser, *, reason: str) -> Procedure:
    """Stop showing a procedure (kept: ticks point at it), with the reason."""
    require_role(actor, procedure.site, MANAGE_ROLES)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the procedure is retired.")})
    if not procedure.is_active:
        raise ValidationError({"is_active": _("The procedure is already retired.")})
    with audited_change(actor, f"procedure retired: {reason.strip()}"):
        procedure.is_active = False
        procedure.version += 1
        procedure.save()
    return procedure


# --- which procedure applies -----------------------------------------------------------------


def procedure_for_alarm(alarm: Alarm) -> Procedure | None:
    """The active procedure of the alarm's site for its type, if any."""
    return Procedure.objects.filter(
        site_id=alarm.site_id, alarm_type=alarm.event_type, is_active=True
    ).first()


def procedures_for_alarms(alarms: list[Alarm]) -> dict[tuple[int, str], Procedure]:
    """The active procedures for a list of alarms in one query, by (site id, alarm type)."""
    site_ids = {a.site_id for a in alarms}
    types = {a.event_type for a in alarms}
    rows = Procedure.objects.filter(
        site_id__in=site_ids, alarm_type__in=types, is_active=True
    ).order_by()
    return {(p.site_id, p.alarm_type): p for p in rows}


def procedure_for_incident(incident: Incident) -> Procedure | None:
    """The active procedure of the incident's site for its category, if any."""
    if incident.category_id is None:
        return None
    return Procedure.objects.filter(
        site_id=incident.site_id, category_id=incident.category_id, is_active=True
    ).first()


# --- the checklist and its ticks ---------------------------------------------------------------


@dataclass
class Step:
    """One step as the pages show it: done or not, and the records behind that."""

    number: int
    text: str
    done: bool = False
    last: ProcedureTick | None = None
    records: list[ProcedureTick] = field(default_factory=list)


def checklist(procedure: Procedure, ticks) -> list[Step]:
    """The procedure's steps with their state from `ticks` (the alarm's or incident's records,
    oldest first)."""
    steps = [Step(n, text) for n, text in enumerate(procedure.steps, start=1)]
    by_number = {step.number: step for step in steps}
    for tick in ticks:
        step = by_number.get(tick.step_number)
        if tick.procedure_id != procedure.pk or step is None or tick.step_text != step.text:
            continue
        step.records.append(tick)
        step.last, step.done = tick, not tick.undone
    return steps


def ticks_of(*, alarm: Alarm | None = None, incident: Incident | None = None):
    """The tick records of one alarm or incident, oldest first, with who ticked."""
    rows = ProcedureTick.objects.select_related("ticked_by")
    rows = rows.filter(alarm=alarm) if alarm is not None else rows.filter(incident=incident)
    return rows.order_by("ticked_at", "pk")


def checklists_for_alarms(alarms: list[Alarm]) -> dict[int, tuple[Procedure, list[Step]]]:
    """Each alarm's procedure and steps (alarms without one are left out); two queries."""
    procedures = procedures_for_alarms(alarms)
    wanted = [a.pk for a in alarms if (a.site_id, a.event_type) in procedures]
    ticks = defaultdict(list)
    rows = ProcedureTick.objects.filter(alarm_id__in=wanted).select_related("ticked_by")
    for tick in rows.order_by("ticked_at", "pk") if wanted else []:
        ticks[tick.alarm_id].append(tick)
    result = {}
    for alarm in alarms:
        procedure = procedures.get((alarm.site_id, alarm.event_type))
        if procedure is not None:
            result[alarm.pk] = (procedure, checklist(procedure, ticks[alarm.pk]))
    return result


def _target(alarm: Alarm | None, incident: Incident | None, actor) -> tuple[Site, Procedure]:
    if (alarm is None) == (incident is None):
        raise ValidationError({"alarm": _("Tick a step of one alarm or one incident.")})
    if alarm is not None:
        require_role(actor, alarm.site, REVIEW_ROLES)
        if alarm.state == AlarmState.RESOLVED:
            raise ValidationError({"state": _("The alarm is resolved.")})
        procedure = procedure_for_alarm(alarm)
        site = alarm.site
    else:
        require_role(actor, incident.site, REPORT_ROLES)
        if incident.status in SETTLED_INCIDENT:
            message = _("The incident is %(s)s.") % {"s": incident.get_status_display()}
            raise ValidationError({"state": message})
        procedure = procedure_for_incident(incident)
        site = incident.site
    if procedure is None:
        raise ValidationError({"step": _("No procedure applies here.")})
    return site, procedure


def _same_tick(existing: ProcedureTick, actor, alarm, incident, step_number, undo) -> None:
    same = (
        existing.ticked_by_id == actor.pk
        and existing.alarm_id == (alarm.pk if alarm else None)
        and existing.incident_id == (incident.pk if incident else None)
        and existing.step_number == step_number
        and existing.undone == undo
    )
    if not same:
        raise IdempotencyConflict(_("This client_uuid was used for another tick."))


def tick_step(
    actor: AbstractBaseUser,
    *,
    step_number: int,
    alarm: Alarm | None = None,
    incident: Incident | None = None,
    undo: bool = False,
    reason: str = "",
    client_uuid: uuid.UUID | None = None,
) -> tuple[ProcedureTick, bool]:
    """Tick one step of the procedure that applies to `alarm` or `incident` (or, `undo=True`,
    take a tick back with the reason); `(record, created)`. A `client_uuid` sent again answers
    with its first record."""
    if client_uuid is not None:
        existing = ProcedureTick.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            _same_tick(existing, actor, alarm, incident, step_number, undo)
            return existing, False
    site, procedure = _target(alarm, incident, actor)
    if not 1 <= step_number <= len(procedure.steps):
        raise ValidationError(
            {"step": _("Step %(n)s is not a step of this procedure.") % {"n": step_number}}
        )
    reason = (reason or "").strip()
    if undo and not reason:
        raise ValidationError({"reason": _("Say why the tick is taken back.")})
    text = procedure.steps[step_number - 1]
    try:
        with audited_change(actor, reason or f"procedure step {step_number} ticked"):
            # Serialise ticks of one record: two taps at once must not both count.
            target = (Alarm if alarm else Incident).objects.select_for_update()
            target.get(pk=(alarm or incident).pk)
            state = checklist(procedure, ticks_of(alarm=alarm, incident=incident))
            done = state[step_number - 1].done
            if done != undo:
                message = (
                    _("Step %(n)d is already ticked.") if done else _("Step %(n)d is not ticked.")
                )
                raise ValidationError({"state": message % {"n": step_number}})
            tick = ProcedureTick.objects.create(
                site=site,
                procedure=procedure,
                procedure_version=procedure.version,
                step_number=step_number,
                step_text=text,
                alarm=alarm,
                incident=incident,
                ticked_by=actor,
                undone=undo,
                reason=reason,
                client_uuid=client_uuid,
            )
    except IntegrityError:
        # The same client_uuid sent twice at once: the first one won.
        existing = ProcedureTick.objects.filter(client_uuid=client_uuid).first()
        if client_uuid is None or existing is None:
            raise
        _same_tick(existing, actor, alarm, incident, step_number, undo)
        return existing, False
    return tick, True


def alarm_checklist(alarm: Alarm) -> tuple[Procedure, list[Step]] | None:
    """The alarm's procedure with its steps' state, or None when no procedure applies."""
    procedure = procedure_for_alarm(alarm)
    if procedure is None:
        return None
    return procedure, checklist(procedure, ticks_of(alarm=alarm))


def incident_checklist(incident: Incident) -> tuple[Procedure, list[Step]] | None:
    """The incident's procedure with its steps' state, or None when no procedure applies."""
    procedure = procedure_for_incident(incident)
    if procedure is None:
        return None
    return procedure, checklist(procedure, ticks_of(incident=incident))


def incident_procedure_record(incident: Incident) -> dict | None:
    """What the police report prints: the procedure the incident's ticks were made under (or
    the one that applies now), its steps' state, and every record in order (ticks and ticks
    taken back, who and when); None when there is neither."""
    records = list(ticks_of(incident=incident).select_related("procedure"))
    procedure = records[-1].procedure if records else procedure_for_incident(incident)
    if procedure is None:
        return None
    return {"procedure": procedure, "steps": checklist(procedure, records), "records": records}


def tablet_procedures(user) -> list[dict]:
    """The active incident-category procedures of the sites where `user` reports, as the
    tablet shows them beside the incident form (kept in the stored page for offline use)."""
    rows = Procedure.objects.filter(
        site_id__in=site_id_list(user, REPORT_ROLES), category__isnull=False, is_active=True
    ).select_related("site")
    return [
        {"site": p.site.code, "category": p.category_id, "title": p.title, "steps": p.steps}
        for p in rows.order_by("site__code", "pk")
    ]
