"""Creating an incident (idempotent on client_uuid) and editing it while it is a draft."""

import hashlib
import json
import uuid
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from facility_log.models import Incident, InvolvedPerson, PropertyItem, Site, Vehicle
from facility_log.scoping import REPORT_ROLES, require_role
from facility_log.services.audit import audited_change
from facility_log.services.incidents.rules import (
    DRAFT_FIELDS,
    NOT_IN_PLACE,
    IdempotencyConflict,
    _apply,
    _check_version,
    _locked,
    _require_author_or_reviewer,
    _validate,
)


def _payload_hash(site: Site, fields: dict, children: dict) -> str:
    """A stable fingerprint of what a client sent, to tell a retry from a different report."""

    def plain(value):
        if hasattr(value, "pk"):
            return value.pk
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value

    body = {
        "site": site.pk,
        "fields": {k: plain(v) for k, v in sorted(fields.items())},
        **{
            kind: [{k: plain(v) for k, v in sorted(row.items())} for row in rows]
            for kind, rows in children.items()
        },
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def create_incident(
    actor: AbstractBaseUser,
    *,
    site: Site,
    client_uuid: uuid.UUID | str | None = None,
    reason: str = "incident reported",
    persons: list[dict] | tuple = (),
    vehicles: list[dict] | tuple = (),
    property_items: list[dict] | tuple = (),
    **fields,
) -> tuple[Incident, bool]:
    """Create a draft incident with its persons, vehicles and property in one go, and return
    `(incident, created)`.

    Idempotent on `client_uuid`: the same payload again returns the stored incident with
    `created=False`; the same UUID with a different payload raises IdempotencyConflict."""
    require_role(actor, site, REPORT_ROLES)
    client_uuid = uuid.UUID(str(client_uuid)) if client_uuid else uuid.uuid4()
    children = {"persons": persons, "vehicles": vehicles, "property_items": property_items}
    fingerprint = _payload_hash(site, fields, children)
    existing = Incident.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _same_or_conflict(existing, fingerprint), False
    try:
        return _create(actor, site, client_uuid, fingerprint, reason, children, fields), True
    except IntegrityError:
        # A retry raced this one and won: answer like a retry.
        existing = Incident.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, fingerprint), False


def _same_or_conflict(existing: Incident, fingerprint: str) -> Incident:
    if existing.client_payload_sha256 != fingerprint:
        raise IdempotencyConflict(
            "This client_uuid was already used for a different incident; send a new UUID for a "
            "new report."
        )
    return existing


CHILD_MODELS = {"persons": InvolvedPerson, "vehicles": Vehicle, "property_items": PropertyItem}


def _create(actor, site, client_uuid, fingerprint, reason, children, fields) -> Incident:
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    with audited_change(actor, reason):
        incident = Incident(
            site=site,
            author=actor,
            client_uuid=client_uuid,
            client_payload_sha256=fingerprint,
            **fields,
        )
        _validate(incident)
        incident.save()
        for kind, rows in children.items():
            for index, row in enumerate(rows):
                _save_child(CHILD_MODELS[kind](incident=incident, **row), f"{kind}[{index}]")
    return incident


def _save_child(record, prefix: str = "") -> None:
    try:
        record.full_clean(exclude=["incident"])
    except ValidationError as error:
        if prefix:
            raise ValidationError(
                {f"{prefix}.{k}": v for k, v in error.message_dict.items()}
            ) from error
        raise
    record.save()


def update_draft(
    incident: Incident,
    actor: AbstractBaseUser,
    *,
    expected_version: int,
    reason: str = "draft edited",
    **changes,
) -> Incident:
    """Change a draft. Refused once submitted (NOT_IN_PLACE); refused with EditConflict when
    `expected_version` is not the stored version."""
    with audited_change(actor, reason):
        current = _locked(incident)
        if not current.is_draft:
            fields = sorted(changes) or ["status"]
            raise ValidationError(dict.fromkeys(fields, NOT_IN_PLACE))
        _require_author_or_reviewer(current, actor)
        _check_version(current, expected_version)
        _apply(current, changes, DRAFT_FIELDS)
    return current


def add_person(incident: Incident, actor: AbstractBaseUser, **fields) -> InvolvedPerson:
    """Add a person (their role in this incident only) to a draft."""
    return _add_to_draft(incident, actor, InvolvedPerson, fields, "person added")


def add_vehicle(incident: Incident, actor: AbstractBaseUser, **fields) -> Vehicle:
    """Add a vehicle to a draft."""
    return _add_to_draft(incident, actor, Vehicle, fields, "vehicle added")


def add_property_item(incident: Incident, actor: AbstractBaseUser, **fields) -> PropertyItem:
    """Add stolen, damaged, recovered or found property to a draft."""
    return _add_to_draft(incident, actor, PropertyItem, fields, "property added")


def _add_to_draft(incident, actor, model, fields, reason):
    with audited_change(actor, fields.pop("reason", "") or reason):
        current = _locked(incident)
        _require_author_or_reviewer(current, actor)
        if not current.is_draft:
            raise ValidationError({"status": NOT_IN_PLACE})
        record = model(incident=current, **fields)
        _save_child(record)
    return record
