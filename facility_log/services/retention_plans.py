"""What expires, kind by kind: each planner takes a site's `Tally` (kind, period, cutoff) and
yields the `Removal`s that services/retention.py carries out (or, dry, counts). Planners only
read; the deleting is done by services/retention.py alone.

When a record's time is counted from, and what goes with it:

* incidents (closed or void): from the first history row that shows it closed or void. Goes
  with its persons, vehicles, property, attachments (their files and thumbnails),
  supplements, reviews, sources, released legal holds and every history row of these. An
  incident on legal hold stays, and so does one a found item is linked to (lost and found
  keeps its items). Disclosures (who exported it to whom) stay: they account for evidence
  that left.
* access events: from when the event occurred. Its alarm goes with it, with the alarm's
  history, unless the alarm opened an incident: then event and alarm stay as long as that
  incident does (they are its evidence) and go at the first purge after it. Import batches
  stay (counts, no personal data), re-chained with the digest of what remains.
* rounds: a run from its start, with its scans (and photos) and its round exceptions; a run
  one of whose scans opened an incident stays with that incident. A round exception of no
  run (a missed round) from when it was detected.
* shifts: from the shift's end (an open shift stays), with its log entries and lone-worker
  check-ins; the pass-down notes are part of the shift, and so are the post order
  acknowledgements given at its start. A shift with a panic press or a missed check-in stays
  with it (and its alarm).
* view log: a record view from when it happened.
* visitors: a day sheet from the end of its local day at the site: a sheet whose day is
  before the cutoff's local date goes whole (its rows and their history), one sheet per
  transaction. A visitor never signed out goes with the sheet all the same.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from facility_log.models import (
    AccessEvent,
    Alarm,
    Attachment,
    AttachmentThumbnail,
    CheckIn,
    ImportBatch,
    Incident,
    IncidentSource,
    InvolvedPerson,
    LegalHold,
    PostOrderAck,
    ProcedureTick,
    PropertyItem,
    RecordKind,
    RecordView,
    Review,
    RoundException,
    Run,
    Scan,
    Shift,
    ShiftEntry,
    Site,
    Supplement,
    Vehicle,
    Visitor,
)
from facility_log.models.incidents import Status
from facility_log.services import ledger


@dataclass
class Removal:
    """Rows that go together in one transaction: a record with its parts and their history
    rows, listed children first. `check` runs inside the transaction and may call the removal
    off (a hold placed meanwhile); `after` runs last (the batch entry of access events)."""

    records: int
    rows: list[tuple[type[models.Model], models.QuerySet]]
    file_fields: tuple[str, ...] = ()
    check: Callable[[], bool] | None = None
    after: Callable[[AbstractBaseUser, str], None] | None = None


@dataclass
class Tally:
    """What one run removed (or would remove) of one kind at one site."""

    site: Site
    kind: str
    days: int
    cutoff: datetime
    records: int = 0
    rows: int = 0
    files: int = 0
    held: int = 0
    kept: int = 0

    @property
    def rule(self) -> str:
        """How a tombstone names the rule it was purged under."""
        return f"{self.kind} after {self.days} days at {self.site.code}"


TERMINAL = (Status.CLOSED, Status.VOID)
# Records removed together in one transaction when they are independent of each other
# (record views, alarms, round exceptions of no run): small, so no transaction is long.
CHUNK = 200


def _history(model):
    return model.history.model.objects


def _with_history(model, queryset) -> list[tuple]:
    """The history rows of `queryset`'s records, then the records (children first)."""
    return [
        (model.history.model, _history(model).filter(id__in=queryset.values("pk"))),
        (model, queryset),
    ]


def _chunks(queryset, size: int = CHUNK) -> Iterator[list]:
    pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), size):
        yield pks[start : start + size]


# --- incidents ----------------------------------------------------------------------------


def closed_at():
    """When an incident was closed or voided: its first history row in that state (both are
    final, so no later row leaves it)."""
    rows = _history(Incident).filter(id=OuterRef("pk"), status__in=TERMINAL)
    return Subquery(rows.order_by("history_date").values("history_date")[:1])


def _on_hold():
    return Exists(LegalHold.objects.filter(incident=OuterRef("pk"), released_at__isnull=True))


def expired_incidents(tally: Tally):
    return (
        Incident.objects.filter(site=tally.site, status__in=TERMINAL)
        # A found item points at its incident: the incident stays with it.
        .exclude(found_items__isnull=False)
        .annotate(closed_at=closed_at(), on_hold=_on_hold())
        .filter(closed_at__lt=tally.cutoff)
    )


def _incident_rows(pk: int) -> list[tuple]:
    mine = {"incident_id": pk}
    rows = [
        (IncidentSource, IncidentSource.objects.filter(**mine)),
        *_with_history(LegalHold, LegalHold.objects.filter(**mine)),
        # Thumbnails before their attachments, redacted copies before their originals (each
        # points at the other).
        (AttachmentThumbnail, AttachmentThumbnail.objects.filter(attachment__incident_id=pk)),
        (Attachment, Attachment.objects.filter(**mine, redacted_from__isnull=False)),
        (Attachment, Attachment.objects.filter(**mine, redacted_from__isnull=True)),
        (Supplement, Supplement.objects.filter(**mine)),
        (Review, Review.objects.filter(**mine)),
        (ProcedureTick, ProcedureTick.objects.filter(**mine)),
    ]
    for part in (InvolvedPerson, Vehicle, PropertyItem):
        rows += _with_history(part, part.objects.filter(**mine))
    return rows + _with_history(Incident, Incident.objects.filter(pk=pk))


def _still_expired(tally: Tally, pk: int):
    def check() -> bool:
        # Inside the purge's transaction, with the incident locked: a hold placed since the
        # plan was made keeps it.
        Incident.objects.select_for_update().filter(pk=pk).first()
        incident = expired_incidents(tally).filter(pk=pk).first()
        return incident is not None and not incident.on_hold

    return check


def plan_incidents(tally: Tally) -> Iterator[Removal]:
    for pk, on_hold in expired_incidents(tally).order_by("pk").values_list("pk", "on_hold"):
        if on_hold:
            tally.held += 1
            continue
        yield Removal(
            records=1,
            rows=_incident_rows(pk),
            file_fields=("file",),
            check=_still_expired(tally, pk),
        )


# --- access events ------------------------------------------------------------------------


def _opened_an_incident():
    return Exists(IncidentSource.objects.filter(alarm__event=OuterRef("pk")))


def _rechain(batch_pk: int, removed: int):
    """The batch's new ledger entry: the digest of the events it still holds (the verifier
    reads each batch's latest entry; a batch purged to nothing has the empty digest)."""

    def after(actor, rule: str) -> None:
        batch = ImportBatch.objects.get(pk=batch_pk)
        remaining = AccessEvent.objects.filter(batch=batch)
        ledger.record_batch(
            batch,
            ledger.batch_digest(remaining),
            actor=actor,
            label=f"import batch #{batch.pk} after purge of {removed} events ({rule})",
        )

    return after


def plan_access_events(tally: Tally) -> Iterator[Removal]:
    expired = AccessEvent.objects.filter(site=tally.site, occurred_at__lt=tally.cutoff).annotate(
        needed=_opened_an_incident()
    )
    tally.kept += expired.filter(needed=True).count()
    going = expired.filter(needed=False)
    # Alarms first, a few at a time; then each batch's events with the batch's new entry.
    for pks in _chunks(Alarm.objects.filter(event__in=going.values("pk"))):
        ticks = (ProcedureTick, ProcedureTick.objects.filter(alarm_id__in=pks))
        yield Removal(
            records=0, rows=[ticks, *_with_history(Alarm, Alarm.objects.filter(pk__in=pks))]
        )
    batches = going.order_by().values_list("batch_id", flat=True).distinct()
    for batch_pk in sorted(batches):
        events = going.filter(batch_id=batch_pk)
        count = events.count()
        yield Removal(
            records=count,
            rows=[(AccessEvent, events)],
            after=_rechain(batch_pk, count),
        )


# --- rounds -------------------------------------------------------------------------------


def _run_rows(pk: int) -> list[tuple]:
    exceptions = RoundException.objects.filter(Q(run_id=pk) | Q(scan__run_id=pk))
    return [
        *_with_history(RoundException, exceptions),
        (Scan, Scan.objects.filter(run_id=pk)),
        *_with_history(Run, Run.objects.filter(pk=pk)),
    ]


def plan_rounds(tally: Tally) -> Iterator[Removal]:
    runs = Run.objects.filter(site=tally.site, started_at__lt=tally.cutoff).annotate(
        needed=Exists(IncidentSource.objects.filter(scan__run=OuterRef("pk")))
    )
    for pk, needed in runs.order_by("pk").values_list("pk", "needed"):
        if needed:
            tally.kept += 1
            continue
        yield Removal(records=1, rows=_run_rows(pk), file_fields=("photo",))
    exceptions = RoundException.objects.annotate(at=Coalesce("window_start", "detected_at"))
    of_no_run = exceptions.filter(
        site=tally.site, run__isnull=True, scan__isnull=True, at__lt=tally.cutoff
    )
    for pks in _chunks(of_no_run):
        exceptions = RoundException.objects.filter(pk__in=pks)
        yield Removal(records=len(pks), rows=_with_history(RoundException, exceptions))


# --- shifts and the view log --------------------------------------------------------------


def plan_shifts(tally: Tally) -> Iterator[Removal]:
    shifts = Shift.objects.filter(site=tally.site, ended_at__lt=tally.cutoff)
    # A shift in which the panic button was pressed stays with that press (and its duress
    # alarm): the alarm names the shift, and neither has a purge period yet.
    shifts = shifts.exclude(panic_alerts__isnull=False)
    # The same for a missed check-in's alarm; the shift's check-ins go with the shift.
    shifts = shifts.exclude(missed_check_ins__isnull=False)
    for pk in shifts.order_by("pk").values_list("pk", flat=True):
        yield Removal(
            records=1,
            rows=[
                (ShiftEntry, ShiftEntry.objects.filter(shift_id=pk)),
                (CheckIn, CheckIn.objects.filter(shift_id=pk)),
                # What its guard acknowledged reading at its start goes with it.
                (PostOrderAck, PostOrderAck.objects.filter(shift_id=pk)),
                *_with_history(Shift, Shift.objects.filter(pk=pk)),
            ],
        )


def plan_view_log(tally: Tally) -> Iterator[Removal]:
    views = RecordView.objects.filter(site=tally.site, viewed_at__lt=tally.cutoff)
    for pks in _chunks(views):
        yield Removal(records=len(pks), rows=[(RecordView, RecordView.objects.filter(pk__in=pks))])


def plan_visitors(tally: Tally) -> Iterator[Removal]:
    # A sheet is a local day at the site: it expires whole, once every moment of it is older
    # than the period (the day of 31 days ago goes with a 30-day period, not the day of 30).
    last_day = tally.cutoff.astimezone(tally.site.tzinfo).date()
    sheets = Visitor.objects.filter(site=tally.site, day__lt=last_day)
    for day in sheets.order_by("day").values_list("day", flat=True).distinct():
        sheet = Visitor.objects.filter(site=tally.site, day=day)
        yield Removal(records=sheet.count(), rows=_with_history(Visitor, sheet))


PLANNERS = {
    RecordKind.INCIDENTS: plan_incidents,
    RecordKind.ACCESS_EVENTS: plan_access_events,
    RecordKind.ROUNDS: plan_rounds,
    RecordKind.SHIFTS: plan_shifts,
    RecordKind.VIEW_LOG: plan_view_log,
    RecordKind.VISITORS: plan_visitors,
}
