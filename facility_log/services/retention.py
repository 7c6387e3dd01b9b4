"""Retention: the period each kind of record is kept per site, legal holds on incidents, and
the purge that removes what has expired — the one path in facility_log that deletes audited
rows. Which records expire, kind by kind, is in services/retention_plans.py; docs/retention.md
tells users what goes when.

How the purge keeps the proof whole: each record goes in one transaction together with its
parts, their history rows and (after commit) their files. Before a row of a ledger-covered
table (a history row, an append-only record with its own entry) is deleted, its stored digest
is read, and a tombstone entry is appended for it: `verify_audit` then expects the row gone,
and still notices a row altered before its purge. Access events are chained per import batch:
after some of a batch's events go, a new batch entry carries the digest of what remains.
"""

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from facility_log.db_guards import purge_permit
from facility_log.models import (
    Incident,
    LegalHold,
    PurgeCount,
    PurgeRun,
    RecordKind,
    RetentionPolicy,
    Site,
)
from facility_log.models.retention import MAX_RETENTION_DAYS
from facility_log.scoping import MANAGE_ROLES, require_role
from facility_log.services import ledger
from facility_log.services.audit import audited_change, current_request_id
from facility_log.services.retention_plans import PLANNERS, Removal, Tally
from facility_log.services.verify import covered_models

# The order a purge run visits the kinds in: incidents first, so that an alarm or a scan an
# incident was opened from is free to go (with its events and run) in the same run.
PURGE_ORDER = (
    RecordKind.INCIDENTS,
    RecordKind.ACCESS_EVENTS,
    RecordKind.ROUNDS,
    RecordKind.SHIFTS,
    RecordKind.VIEW_LOG,
    RecordKind.VISITORS,
)
DELETE_CHUNK = 500


# --- periods ------------------------------------------------------------------------------


def default_days(kind: str) -> int:
    """The period for `kind` when a site has set none (settings, env-overridable)."""
    return settings.FACILITY_LOG["RETENTION_DAYS"][kind]


@dataclass
class Period:
    """The period that applies to one kind of record at one site."""

    kind: str
    label: str
    days: int
    default_days: int
    overridden: bool


def periods_for(site: Site) -> list[Period]:
    """Every kind's period at `site`: its own where set, else the default (one query)."""
    own = dict(RetentionPolicy.objects.filter(site=site).values_list("kind", "days"))
    return [
        Period(kind, label, own.get(kind, default_days(kind)), default_days(kind), kind in own)
        for kind, label in RecordKind.choices
    ]


def retention_days(site: Site, kind: str) -> int:
    policy = RetentionPolicy.objects.filter(site=site, kind=kind).values_list("days", flat=True)
    return policy.first() or default_days(kind)


def set_retention_period(
    site: Site, actor: AbstractBaseUser, *, kind: str, days: int, reason: str
) -> RetentionPolicy:
    """Set how many days `kind` records are kept at `site` (its managers only). The change
    and its reason are kept in the policy's history."""
    require_role(actor, site, MANAGE_ROLES)
    if kind not in RecordKind.values:
        raise ValidationError({"kind": f"{kind!r} is not a kind of record."})
    if not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValidationError({"days": f"A period is 1 to {MAX_RETENTION_DAYS} days."})
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the period changes."})
    with audited_change(actor, reason):
        existing = RetentionPolicy.objects.select_for_update().filter(site=site, kind=kind)
        policy = existing.first() or RetentionPolicy(site=site, kind=kind)
        if policy.pk and policy.days == days:
            raise ValidationError({"days": f"The period is already {days} days."})
        policy.days = days
        policy.save()
    return policy


# --- legal holds --------------------------------------------------------------------------


def active_hold(incident: Incident) -> LegalHold | None:
    return incident.legal_holds.filter(released_at__isnull=True).select_related("placed_by").first()


@contextmanager
def _hold_change(incident: Incident, actor, reason: str, verb: str, why_missing: str):
    """The incident locked (a purge deciding about it at the same moment waits), inside an
    audited change by a manager of its site, with the reason required; yields the reason,
    the locked incident and its active hold."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": why_missing})
    with audited_change(actor, f"legal hold {verb}: {reason}"):
        current = Incident.objects.select_for_update().select_related("site").get(pk=incident.pk)
        require_role(actor, current.site, MANAGE_ROLES)
        yield reason, current, active_hold(current)


def place_legal_hold(incident: Incident, actor: AbstractBaseUser, *, reason: str) -> LegalHold:
    """Keep `incident` past its retention period until the hold is released (managers)."""
    why_missing = "Say why the incident is held (e.g. the case)."
    with _hold_change(incident, actor, reason, "placed", why_missing) as (reason, current, hold):
        if hold is not None:
            raise ValidationError({"reason": "The incident is already on legal hold."})
        hold = LegalHold(incident=current, reason=reason, placed_by=actor)
        hold.placed_at = timezone.now()
        hold.save()
    return hold


def release_legal_hold(incident: Incident, actor: AbstractBaseUser, *, reason: str) -> LegalHold:
    """End the active hold on `incident` (managers); its retention period applies again."""
    why_missing = "Say why the hold ends."
    with _hold_change(incident, actor, reason, "released", why_missing) as (reason, _, hold):
        if hold is None:
            raise ValidationError({"reason": "The incident is not on legal hold."})
        hold.released_by, hold.released_at, hold.release_reason = actor, timezone.now(), reason
        hold.save()
    return hold


# --- the purge ----------------------------------------------------------------------------


@dataclass
class _Resolved:
    """A removal's rows as primary keys, read before anything is deleted."""

    rows: list[tuple[type[models.Model], list]] = field(default_factory=list)
    files: list[tuple[object, str]] = field(default_factory=list)


def _resolve(removal: Removal) -> _Resolved:
    resolved = _Resolved()
    for model, queryset in removal.rows:
        pks = list(queryset.order_by("pk").values_list("pk", flat=True))
        resolved.rows.append((model, pks))
        for name in removal.file_fields:
            if any(f.name == name for f in model._meta.fields):
                storage = model._meta.get_field(name).storage
                files = queryset.exclude(**{name: ""}).values_list(name, flat=True)
                resolved.files += [(storage, file_name) for file_name in files]
    return resolved


def _delete_for_purge(model: type[models.Model], pks: list) -> int:
    """THE one place that deletes rows of audited, history and append-only tables.

    Their querysets refuse delete() so that no other code path removes a record; the purge
    is the documented exception, so it goes around them here, on purpose: a plain QuerySet
    and a raw DELETE, which sends no signals (simple-history would otherwise write a
    "deleted" history row for a record that is meant to be gone). The history tables'
    triggers let this through only under `purge_permit()`; the callers leave a tombstone."""
    removed = 0
    for start in range(0, len(pks), DELETE_CHUNK):
        rows = models.QuerySet(model).filter(pk__in=pks[start : start + DELETE_CHUNK])
        removed += rows._raw_delete(rows.db)
    return removed


def _execute(removal: Removal, tally: Tally, actor: AbstractBaseUser, covered: frozenset) -> None:
    """Remove one record with everything of it, leaving tombstones, in one transaction.
    `covered`: the tables whose rows have their own ledger entry (and so get a tombstone)."""
    with purge_permit():
        if removal.check is not None and not removal.check():
            tally.held += 1  # a legal hold placed since the plan was made
            return
        resolved = _resolve(removal)
        # Digests first (the rows must still be there), deletions next, ledger entries last,
        # so the ledger's lock is held only for the appends at the end of the transaction.
        tombstones = [
            (model, pk, ledger.stored_row_digest(model, pk))
            for model, pks in resolved.rows
            if model in covered
            for pk in pks
        ]
        rows = sum(_delete_for_purge(model, pks) for model, pks in resolved.rows)
        for model, pk, digest in tombstones:
            ledger.record_tombstone(model=model, pk=pk, digest=digest, rule=tally.rule, actor=actor)
        if removal.after is not None:
            removal.after(actor, tally.rule)
        # Files go once the rows are gone for good: a rollback keeps both.
        for storage, name in resolved.files:
            transaction.on_commit(lambda s=storage, n=name: s.delete(n))
    tally.records += removal.records
    tally.rows += rows
    tally.files += len(resolved.files)


def _count(removal: Removal, tally: Tally) -> None:
    """What `_execute` would remove, for a dry run (reads only)."""
    resolved = _resolve(removal)
    tally.records += removal.records
    tally.rows += sum(len(pks) for _model, pks in resolved.rows)
    tally.files += len(resolved.files)


def purge_expired(
    actor: AbstractBaseUser,
    *,
    apply: bool = False,
    now: datetime | None = None,
    on_tally: Callable[[Tally], None] | None = None,
) -> PurgeRun:
    """Remove (with `apply`; otherwise only count) every record whose period has passed at
    its site, kind by kind, and record the run. Records an incident still needs stay, and so
    do incidents on legal hold. `on_tally` hears each site and kind as it is done."""
    if not actor.is_superuser:
        raise PermissionDenied("Only an administrator or the system account can purge.")
    started = timezone.now()
    now = now or started
    tallies: list[Tally] = []
    covered = frozenset(covered_models())
    outcome = "completed"
    try:
        for site in Site.objects.order_by("code"):
            for kind in PURGE_ORDER:
                days = retention_days(site, kind)
                tally = Tally(site, kind, days, now - timedelta(days=days))
                tallies.append(tally)
                for removal in PLANNERS[kind](tally):
                    if apply:
                        _execute(removal, tally, actor, covered)
                    else:
                        _count(removal, tally)
                if on_tally is not None:
                    on_tally(tally)
    except Exception as error:
        outcome = f"stopped: {type(error).__name__}: {error}"
        raise
    finally:
        run = _record_run(actor, apply, started, outcome, tallies)
    return run


def _record_run(actor, applied: bool, started: datetime, outcome: str, tallies: Iterable[Tally]):
    with audited_change(actor, "purge run recorded"):
        run = PurgeRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            actor=actor,
            actor_name=actor.get_username(),
            request_id=current_request_id(),
            applied=applied,
            outcome=outcome[:2000],
        )
        for t in tallies:
            PurgeCount.objects.create(
                run=run,
                site=t.site,
                kind=t.kind,
                days=t.days,
                cutoff=t.cutoff,
                records=t.records,
                rows=t.rows,
                files=t.files,
                held=t.held,
                kept=t.kept,
            )
    return run
