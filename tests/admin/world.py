"""A small world with at least one record of every model the admin shows, built through the
real services, and the snapshot of what the admin must never change.

Protected (the admin only shows them): submitted/approved/closed incidents and their parts,
every alarm, revoked API tokens, the incident counters, everything append-only (events,
batches, ledger, attachments, supplements, reviews, scans, view and disclosure logs),
runs, round exceptions, shifts and their entries, and the history rows of all of these.
"""

import uuid
from types import SimpleNamespace

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model
from simple_history.models import registered_models

from facility_log.models import (
    Alarm,
    ApiToken,
    AuditCheck,
    ImportJob,
    Incident,
    IncidentCounter,
    InvolvedPerson,
    LedgerEntry,
    PropertyItem,
    RoundException,
    Run,
    Shift,
    Vehicle,
)
from facility_log.models.base import AppendOnlyModel
from facility_log.models.incidents import Status
from facility_log.services import (
    access,
    accounts,
    audit_checks,
    disclosures,
    links,
    retention,
    view_log,
)
from facility_log.services import incidents as svc
from facility_log.services.verify import verify_audit
from tests.access.helpers import door, forced_open_at, site_a_import_job
from tests.incident_factories import category, photo
from tests.rounds_helpers import site_a_rounds
from tests.shifts_helpers import site_a_shifts

WHY = "admin test world"


def _incident(p, *, approve: bool, narrative: str) -> Incident:
    incident, _ = svc.create_incident(
        p.guard_a,
        site=p.site_a,
        client_uuid=uuid.uuid4(),
        category=category("Theft"),
        zone=p.zone_a,
        title="Laptop missing",
        narrative=narrative,
        persons=[{"role": "witness", "name": "Walt Witness", "statement": "Saw a man leave."}],
        vehicles=[{"registration": "AB-123", "make_model": "Van"}],
        property_items=[{"kind": "stolen", "description": "Laptop"}],
    )
    if not approve:
        return incident
    svc.add_attachment(incident, p.guard_a, upload=photo("desk.png"), description="the desk")
    incident = svc.submit_incident(incident, p.guard_a)
    svc.add_supplement(incident, p.guard_a, text="Serial 123.", reason="found the serial")
    return svc.approve_incident(incident, p.supervisor_a, comment="complete")


def build_world(p) -> SimpleNamespace:
    """One or more records of every registered model; `instances[model]` lists them."""
    approved = _incident(p, approve=True, narrative="A laptop was taken from the desk.")
    draft = _incident(p, approve=False, narrative="Draft: a door was found open.")
    event = forced_open_at(p.site_a, p.zone_a)
    alarm = access.acknowledge_alarm(event.alarm, p.supervisor_a, note="guard sent")
    links.open_incident_from_alarm(alarm, p.supervisor_a)
    front = door(p.site_a, p.zone_a, "D-1")
    access.add_door_external_id(
        front, p.manager_ab, source="gallagher", external_id="g-1", reason=WHY
    )
    access.set_alarm_rule(p.site_a, p.manager_ab, event_type="held_open", reason=WHY)
    access.set_webhook_secret(p.site_a, p.manager_ab, secret="s3cret-value", reason=WHY)
    access.ensure_vendor_mappings("kisi", p.manager_ab)
    rounds = site_a_rounds(p)
    site_a_shifts(p)
    site_a_import_job(p)
    active, _key = accounts.issue_api_token(p.guard_a, p.admin, reason=WHY)
    revoked, _key = accounts.issue_api_token(p.guard_a, p.admin, reason=WHY)
    accounts.revoke_api_token(revoked, p.admin, reason=WHY)
    view_log.record_view(p.manager_ab, approved, site=p.site_a, label=approved.label)
    disclosures.record_disclosure(
        p.manager_ab,
        approved,
        site=p.site_a,
        label=approved.label,
        recipient="City police",
        reason="case opened",
    )
    retention.set_retention_period(
        p.site_a, p.manager_ab, kind="access_events", days=60, reason=WHY
    )
    retention.place_legal_hold(approved, p.manager_ab, reason="case 2026/114 open")
    retention.purge_expired(p.admin)  # a dry run: its record and counts
    verify_audit(record_checkpoint=True)
    audit_checks.run_audit_check(audit_checks.request_audit_check(p.auditor_a, "since").check)
    assert rounds.exception is not None, "the world needs a round exception"
    overrides = {
        Incident: [approved, draft],
        Alarm: [alarm],
        ApiToken: [active, revoked],
        get_user_model(): [p.guard_a],
    }
    instances = {}
    for model in admin.site._registry:
        instances[model] = overrides.get(model) or list(model._base_manager.order_by("pk")[:1])
        assert instances[model], f"the world has no {model.__name__}"
    return SimpleNamespace(instances=instances, approved=approved, draft=draft, alarm=alarm)


# --- what the admin must never change ----------------------------------------------------------


# Audited models that change only through their services (each step with its own rules and
# note): the admin shows them and nothing more.
SERVICE_ONLY = {Alarm, AuditCheck, ImportJob, IncidentCounter, Run, RoundException, Shift}


def _fully_protected(model) -> bool:
    return issubclass(model, AppendOnlyModel) or model in SERVICE_ONLY


def protected_querysets() -> dict[type[Model], object]:
    """Model → the rows of it that the admin must leave exactly as they are."""
    submitted = Incident.objects.exclude(status=Status.DRAFT)
    found = {
        model: model._base_manager.all()
        for model in {*admin.site._registry, LedgerEntry, InvolvedPerson, Vehicle, PropertyItem}
        if _fully_protected(model)
    }
    found[Incident] = submitted
    for part in (InvolvedPerson, Vehicle, PropertyItem):
        found[part] = part._base_manager.filter(incident__in=submitted)
    found[ApiToken] = ApiToken._base_manager.exclude(revoked_at=None)
    return found


def snapshot() -> dict:
    """Every protected row's values, and how many history rows each protected record has."""
    rows, history = {}, {}
    for model, queryset in protected_querysets().items():
        rows[model.__name__] = list(queryset.order_by("pk").values())
        if model in registered_models.values() or hasattr(model, "history"):
            pks = list(queryset.values_list("pk", flat=True))
            history[model.__name__] = model.history.filter(id__in=pks).count()
    return {"rows": rows, "history": history}


def ledger_state() -> tuple[int, str]:
    last = LedgerEntry.objects.order_by("-seq").first()
    return (last.seq, last.hash) if last else (0, "")


def history_high_water() -> dict[str, int]:
    """The last history id of every history table (to find the rows written after it)."""
    return {
        model.__name__: (
            model.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0
        )
        for model in registered_models.values()
    }


def history_rows_since(marks: dict[str, int]) -> list:
    rows = []
    for model in registered_models.values():
        rows.extend(model.history.filter(history_id__gt=marks[model.__name__]))
    return rows
