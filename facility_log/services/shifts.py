"""Shifts: starting one, writing its log, ending it with pass-down notes for the next guard,
and finding the notes the next guard reads.

Tablets work offline and retry. Every record carries a client-generated UUID: the same UUID
with the same payload returns the stored record (`created`/`changed` False); the same UUID
with a different payload raises IdempotencyConflict (the API answers 422). A start or an end
sent again without a time (the server took "now" the first time) counts as the same payload.

Times come from the device and are refused when in the future beyond the clock drift the
rounds allow (FACILITY_LOG["ROUNDS_CLOCK_DRIFT_SECONDS"]).
"""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from facility_log.models import Shift, ShiftEntry, ShiftEntryKind, Site
from facility_log.models.shifts import ENTRY_TEXT_MAX
from facility_log.scoping import REPORT_ROLES, REVIEW_ROLES, has_role, require_role
from facility_log.services import post_orders
from facility_log.services.audit import audited_change
from facility_log.services.rounds import IdempotencyConflict, refuse_implausible_time
from facility_log.templatetags.facility_log_tags import site_time

__all__ = [
    "IdempotencyConflict",
    "ShiftConflict",
    "add_shift_entry",
    "end_shift",
    "open_shift_for",
    "previous_handover",
    "start_shift",
]

PASS_DOWN_MAX = 8000
# An entry may be timed a little before the shift's start (the tablet's clock, a note
# written while starting the shift).
ENTRY_EARLY_ALLOWANCE = timedelta(minutes=1)


class ShiftConflict(Exception):
    """The request is valid but clashes with the shift's state: a shift already open, or a
    shift already ended differently (the API answers 409 naming `field`)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)

    @property
    def message_dict(self) -> dict[str, list[str]]:
        return {self.field: [str(self)]}


def _as_uuid(value) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ValidationError({"client_uuid": "Not a UUID."}) from None


def _check_may_write(actor: AbstractBaseUser, shift: Shift) -> None:
    """The shift's own guard, or a supervisor or manager of its site."""
    require_role(actor, shift.site, REPORT_ROLES)
    if shift.guard_id != actor.pk and not has_role(actor, shift.site, REVIEW_ROLES):
        raise PermissionDenied("This is another guard's shift.")


def open_shift_for(actor: AbstractBaseUser, site: Site) -> Shift | None:
    """The shift `actor` has open at `site`, if any (at most one: a constraint holds it)."""
    return (
        Shift.objects.filter(site=site, guard=actor, ended_at__isnull=True)
        .select_related("site", "guard")
        .first()
    )


def _open_conflict(shift: Shift) -> ShiftConflict:
    since = site_time(shift.started_at, shift.site)
    return ShiftConflict(
        "site",
        f"You already have a shift open at {shift.site.code} since {since}; end it first.",
    )


def start_shift(
    site: Site,
    actor: AbstractBaseUser,
    *,
    client_uuid: uuid.UUID | str,
    started_at: datetime | None = None,
    reason: str = "shift started",
    acknowledged_post_orders: Iterable[int] = (),
) -> tuple[Shift, bool]:
    """Start `actor`'s shift at `site` at `started_at` (device time, default now) and return
    `(shift, created)`. Needs a guard, supervisor or manager role at the site.

    `acknowledged_post_orders`: the ids of the post order versions the guard confirms having
    read; every current version not acknowledged before must be among them (ValidationError
    on `post_orders` naming the rest), and each is recorded with the shift.

    Refused with ShiftConflict while `actor` has a shift open at the site, with
    ValidationError for a time in the future or a deactivated site."""
    require_role(actor, site, REPORT_ROLES)
    client_uuid = _as_uuid(client_uuid)
    existing = Shift.objects.filter(client_uuid=client_uuid).select_related("site").first()
    if existing is not None:
        return _same_start(existing, site, actor, started_at), False
    if not site.is_active:
        raise ValidationError({"site": "This site is deactivated."})
    started_at = started_at or timezone.now()
    refuse_implausible_time(started_at, "started_at")
    if (already := open_shift_for(actor, site)) is not None:
        raise _open_conflict(already)
    read = post_orders.check_acknowledged(site, actor, acknowledged_post_orders)
    try:
        with audited_change(actor, reason):
            shift = Shift(site=site, guard=actor, client_uuid=client_uuid, started_at=started_at)
            shift.save()
            post_orders.record_acknowledgements(shift, actor, read)
    except IntegrityError:
        # A retry raced this one (same UUID), or another device opened a shift first.
        if (existing := Shift.objects.filter(client_uuid=client_uuid).first()) is not None:
            return _same_start(existing, site, actor, started_at), False
        if (already := open_shift_for(actor, site)) is not None:
            raise _open_conflict(already) from None
        raise
    return shift, True


def _same_start(existing: Shift, site: Site, actor, started_at: datetime | None) -> Shift:
    same = (
        existing.site_id == site.pk
        and existing.guard_id == actor.pk
        and (started_at is None or existing.started_at == started_at)
    )
    if not same:
        raise IdempotencyConflict("This client_uuid was used for a different shift.")
    return existing


def add_shift_entry(
    shift: Shift,
    actor: AbstractBaseUser,
    *,
    client_uuid: uuid.UUID | str,
    kind: str,
    occurred_at: datetime,
    text: str,
    reason: str = "shift log entry",
) -> tuple[ShiftEntry, bool]:
    """Write one line of `shift`'s log and return `(entry, created)`. Only the shift's guard
    or a supervisor or manager of the site may write.

    `occurred_at` (device time) must lie within the shift: from a minute before its start,
    not in the future, and not after its end when it has ended (a tablet syncing late may
    still add what happened before the end). Entries are never changed: a correction is a
    new entry."""
    _check_may_write(actor, shift)
    client_uuid = _as_uuid(client_uuid)
    text = (text or "").strip()
    existing = ShiftEntry.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _same_entry(existing, shift, kind, occurred_at, text), False
    _validate_entry(shift, kind, occurred_at, text)
    try:
        with audited_change(actor, reason):
            entry = ShiftEntry(
                shift=shift,
                client_uuid=client_uuid,
                kind=kind,
                occurred_at=occurred_at,
                text=text,
                recorded_by=actor,
            )
            entry.save()
    except IntegrityError:
        if (existing := ShiftEntry.objects.filter(client_uuid=client_uuid).first()) is None:
            raise
        return _same_entry(existing, shift, kind, occurred_at, text), False
    return entry, True


def _validate_entry(shift: Shift, kind: str, occurred_at: datetime, text: str) -> None:
    if kind not in ShiftEntryKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(ShiftEntryKind.values)}."})
    if not text:
        raise ValidationError({"text": "Write what happened."})
    if len(text) > ENTRY_TEXT_MAX:
        raise ValidationError({"text": f"At most {ENTRY_TEXT_MAX} characters."})
    if occurred_at is None:
        raise ValidationError({"occurred_at": "This field is required."})
    refuse_implausible_time(occurred_at, "occurred_at")
    if occurred_at < shift.started_at - ENTRY_EARLY_ALLOWANCE:
        started = site_time(shift.started_at, shift.site)
        raise ValidationError(
            {"occurred_at": f"This is before the shift started ({started}); log it there."}
        )
    if shift.ended_at is not None and occurred_at > shift.ended_at:
        ended = site_time(shift.ended_at, shift.site)
        raise ValidationError(
            {"occurred_at": f"The shift ended at {ended}; this entry is after its end."}
        )


def _same_entry(existing: ShiftEntry, shift: Shift, kind, occurred_at, text) -> ShiftEntry:
    same = (
        existing.shift_id == shift.pk
        and existing.kind == kind
        and existing.occurred_at == occurred_at
        and existing.text == text
    )
    if not same:
        raise IdempotencyConflict("This client_uuid was used for a different entry.")
    return existing


def end_shift(
    shift: Shift,
    actor: AbstractBaseUser,
    *,
    ended_at: datetime | None = None,
    pass_down_notes: str = "",
    reason: str = "shift ended",
) -> tuple[Shift, bool]:
    """End `shift` at `ended_at` (device time, default now) leaving `pass_down_notes` for the
    next guard; returns `(shift, changed)`. The shift's guard or a supervisor or manager.

    Ending again with the same time (or none) and the same notes changes nothing; ending an
    ended shift otherwise raises ShiftConflict naming `ended_at`. The end may not be before
    the start, nor before an entry already logged."""
    _check_may_write(actor, shift)
    notes = (pass_down_notes or "").strip()
    if len(notes) > PASS_DOWN_MAX:
        raise ValidationError({"pass_down_notes": f"At most {PASS_DOWN_MAX} characters."})
    with audited_change(actor, reason):
        current = Shift.objects.select_for_update().get(pk=shift.pk)
        if current.ended_at is not None:
            _same_end(current, ended_at, notes)
            return current, False
        ended_at = ended_at or timezone.now()
        refuse_implausible_time(ended_at, "ended_at")
        if ended_at < current.started_at:
            raise ValidationError({"ended_at": "The shift cannot end before it started."})
        last = current.entries.order_by("-occurred_at").values_list("occurred_at", flat=True)
        if (last_entry := last.first()) is not None and ended_at < last_entry:
            when = site_time(last_entry, shift.site)
            raise ValidationError({"ended_at": f"An entry is logged later, at {when}."})
        current.ended_at, current.pass_down_notes = ended_at, notes
        current.save()
    shift.ended_at, shift.pass_down_notes = current.ended_at, current.pass_down_notes
    return shift, True


def _same_end(current: Shift, ended_at: datetime | None, notes: str) -> None:
    if (ended_at is None or ended_at == current.ended_at) and notes == current.pass_down_notes:
        return
    ended = site_time(current.ended_at, current.site)
    raise ShiftConflict(
        "ended_at", f"This shift already ended at {ended} with other pass-down notes or time."
    )


def previous_handover(
    site: Site, *, before: datetime | None = None, excluding: Shift | None = None
) -> Shift | None:
    """The latest ended shift at `site` (ended at or before `before`, when given): the one
    whose pass-down notes the next guard reads. `excluding` leaves out the shift asking."""
    shifts = Shift.objects.filter(site=site, ended_at__isnull=False).select_related("guard")
    if before is not None:
        shifts = shifts.filter(ended_at__lte=before)
    if excluding is not None:
        shifts = shifts.exclude(pk=excluding.pk)
    return shifts.order_by("-ended_at", "-pk").first()
