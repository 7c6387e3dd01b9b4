"""The purge removes a record with everything that points at it (services/retention_plans.py).
When a model gains a foreign key to a record the purge removes, this fails until the purge
knows what to do with it (remove it along, or keep the record while it is needed)."""

from facility_log.models import (
    AccessEvent,
    Alarm,
    Attachment,
    AttachmentThumbnail,
    Incident,
    IncidentSource,
    InvolvedPerson,
    LegalHold,
    PostOrderAck,
    PropertyItem,
    RecordView,
    Review,
    RoundException,
    Run,
    Scan,
    Shift,
    ShiftEntry,
    Supplement,
    Vehicle,
)

PURGED = (
    Incident,
    InvolvedPerson,
    Vehicle,
    PropertyItem,
    Attachment,
    AttachmentThumbnail,
    Supplement,
    Review,
    IncidentSource,
    LegalHold,
    AccessEvent,
    Alarm,
    Run,
    Scan,
    RoundException,
    Shift,
    ShiftEntry,
    PostOrderAck,
    RecordView,
)

# (purged model, model pointing at it, field) → how retention_plans handles it.
HANDLED = {
    ("Incident", "InvolvedPerson", "incident"): "removed with the incident",
    ("Incident", "Vehicle", "incident"): "removed with the incident",
    ("Incident", "PropertyItem", "incident"): "removed with the incident",
    ("Incident", "Attachment", "incident"): "removed with the incident",
    ("Incident", "Supplement", "incident"): "removed with the incident",
    ("Incident", "Review", "incident"): "removed with the incident",
    ("Incident", "IncidentSource", "incident"): "removed with the incident",
    ("Incident", "LegalHold", "incident"): "an active hold keeps it; released ones go with it",
    ("Attachment", "Attachment", "redacted_from"): "both removed with the incident",
    ("Attachment", "AttachmentThumbnail", "attachment"): "removed before its attachment",
    ("Alarm", "IncidentSource", "alarm"): "the alarm (and its event) stay with the incident",
    ("Scan", "IncidentSource", "scan"): "the scan (and its run) stay with the incident",
    ("AccessEvent", "Alarm", "event"): "the alarm is removed before its event",
    ("Run", "Scan", "run"): "removed with the run",
    ("Run", "RoundException", "run"): "removed with the run",
    ("Scan", "RoundException", "scan"): "removed with the scan's run",
    ("Shift", "ShiftEntry", "shift"): "removed with the shift",
    ("Shift", "PanicAlert", "shift"): "a shift with a panic press stays with it",
    ("Shift", "CheckIn", "shift"): "removed with the shift",
    ("Shift", "MissedCheckIn", "shift"): "a shift with a missed check-in stays with it",
    ("Incident", "FoundItem", "incident"): "an incident with a found item stays with it",
    ("Incident", "ProcedureTick", "incident"): "removed with the incident",
    ("Alarm", "ProcedureTick", "alarm"): "removed with the alarm",
    ("Shift", "PostOrderAck", "shift"): "removed with the shift",
}


def test_every_relation_to_a_purged_record_is_handled():
    found = {
        (model.__name__, relation.related_model.__name__, relation.field.name)
        for model in PURGED
        for relation in model._meta.related_objects
        if not relation.related_model.__name__.startswith("Historical")
    }
    assert found == set(HANDLED), (
        f"not handled by the purge: {sorted(found - set(HANDLED))}; "
        f"gone: {sorted(set(HANDLED) - found)}"
    )
