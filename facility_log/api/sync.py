"""`POST /api/v1/sync/`: the tablet's outbox in one request (services/sync.py).

The body lists records in the order the guard made them: panic presses (which the tablet
puts first), lone-worker check-ins, round starts, scans, round finishes, shift-log entries,
incident submissions, procedure ticks, visitor sign-ins and sign-outs and found items, each
as its own endpoint takes it plus a `type`. A record names the run, shift, incident or visitor
it belongs to by id (`run`, `shift`, `incident`, `visitor`) or by the client_uuid the tablet gave it
(`run_uuid`, `shift_uuid`, `incident_uuid`, `visitor_uuid`), which may be a record earlier in
the same request (a panic press never waits for its shift: one the server does not have yet is
left out).

The answer is 200 with one result per record, in the same order: its status as its own
endpoint would answer (201 stored, 200 stored before or done, 400 a field refused, 403 not
allowed, 409 a clash with the record's state, 422 the client_uuid used for different
content) or 424 when what it belongs to is not on the server (yet): the tablet sends it
again once that record is accepted. Each record is stored in its own savepoint.

The whole request is refused (400, naming `records` → index → field; nothing stored) when it
does not match the schema: not a list of 1 to 100 records, or a record whose `type` is not one
of the eleven or whose fields are not as its type declares (missing, wrong type or format, too
long, outside an enum), as docs/api.md says of every operation. The tablet then sends its
records one by one to their own endpoints. What the schema cannot state is answered per
record: both or neither of `run`/`run_uuid`, a record that does not exist, a role too low.
"""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import api_view, parser_classes
from rest_framework.response import Response

from facility_log.api.errors import refused_for_content
from facility_log.api.fields import DateTimeField, RefuseUnknownFields
from facility_log.api.parsers import JSONParser
from facility_log.models import FoundItem, ScanMethod, ShiftEntryKind
from facility_log.models.shifts import ENTRY_TEXT_MAX
from facility_log.services.procedures import MAX_STEPS
from facility_log.services.sync import MAX_RECORDS, Outcome, SyncRecord, SyncResult, sync_records
from facility_log.services.visitors import TEXT_FIELDS

STATUS = {
    Outcome.CREATED: 201,
    Outcome.SAME: 200,
    Outcome.INVALID: 400,
    Outcome.FORBIDDEN: 403,
    Outcome.CONFLICT: 409,
    Outcome.IDEMPOTENCY: 422,
    Outcome.WAITING: 424,
}


MAX_ID = 2**63 - 1  # the largest id a BigAutoField holds


# DRF coerces: a number for a text, "12" for an id, an integer for a UUID. The schema says
# string / integer / uuid string, and a record that is not is refused with the request, so
# these fields take exactly the JSON types the schema declares.
class _Text(serializers.CharField):
    # The bounds hold for the text as sent, as the schema states them; the spaces around it
    # are trimmed in `_record`, where a text left blank is that record's refusal.
    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _Id(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class _Uuid(serializers.UUIDField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class _Bool(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _id(**kwargs) -> serializers.IntegerField:
    return _Id(min_value=1, max_value=MAX_ID, **kwargs)


def _type(name: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[name], help_text=f"Always `{name}`.")


def _ref(name: str, attrs: dict) -> dict:
    """Exactly one of `name` (an id) and `name_uuid` (the tablet's client_uuid of it)."""
    by_id, by_uuid = attrs.pop(name, None), attrs.pop(f"{name}_uuid", None)
    if (by_id is None) == (by_uuid is None):
        raise serializers.ValidationError({name: [f"Give either `{name}` or `{name}_uuid`."]})
    return {name: by_id if by_id is not None else by_uuid}


class SyncRunRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """Start a round (as `POST /runs/`)."""

    type = _type("run")
    client_uuid = _Uuid()
    route = _id()
    started_at = DateTimeField(required=False)

    @staticmethod
    def refs(attrs: dict) -> dict:
        return {"route": attrs.pop("route")}


class SyncScanRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """Record a scan (as `POST /scans/`, without a photo)."""

    type = _type("scan")
    run = _id(required=False, help_text="The run's id, or:")
    run_uuid = _Uuid(required=False, help_text="the run's client_uuid.")
    tag_code = _Text(max_length=40)
    client_uuid = _Uuid()
    method = serializers.ChoiceField(choices=ScanMethod.choices)
    device_time = DateTimeField()
    device_sent_at = DateTimeField(required=False, allow_null=True)
    note = _Text(required=False, allow_blank=True)

    @staticmethod
    def refs(attrs: dict) -> dict:
        return _ref("run", attrs)


class SyncRunFinishRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """Finish a round (as `POST /runs/{id}/finish/`)."""

    type = _type("run-finish")
    run = _id(required=False, help_text="The run's id, or:")
    run_uuid = _Uuid(required=False, help_text="the run's client_uuid.")
    finished_at = DateTimeField(required=False)

    @staticmethod
    def refs(attrs: dict) -> dict:
        return _ref("run", attrs)


class SyncShiftEntryRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """Write a shift-log entry (as `POST /shift-entries/`)."""

    type = _type("shift-entry")
    shift = _id(required=False, help_text="The shift's id, or:")
    shift_uuid = _Uuid(required=False, help_text="the shift's client_uuid.")
    client_uuid = _Uuid()
    kind = serializers.ChoiceField(choices=ShiftEntryKind.choices)
    occurred_at = DateTimeField()
    text = _Text(max_length=ENTRY_TEXT_MAX)

    @staticmethod
    def refs(attrs: dict) -> dict:
        return _ref("shift", attrs)


class SyncPanicRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """A press of the panic button: raises a duress alarm at once (the answer's `id` is the
    alarm's). No position: the last checkpoint scanned is the only "where"."""

    type = _type("panic")
    client_uuid = _Uuid()
    site = _Text(max_length=20, help_text="The site's code.")
    pressed_at = serializers.DateTimeField(help_text="The tablet's clock at the press.")
    shift = _id(required=False, help_text="The guard's open shift: its id, or:")
    shift_uuid = _Uuid(required=False, help_text="its client_uuid (left out if not known).")
    last_checkpoint = _id(
        required=False, allow_null=True, help_text="The last checkpoint the guard scanned."
    )
    last_scanned_at = serializers.DateTimeField(required=False, allow_null=True)
    silent = _Bool(
        required=False, default=False, help_text="Pressed in the mode that shows nothing."
    )

    @staticmethod
    def refs(attrs: dict) -> dict:
        by_id, by_uuid = attrs.pop("shift", None), attrs.pop("shift_uuid", None)
        if by_id is not None and by_uuid is not None:
            both = "Give `shift` or `shift_uuid`, not both."
            raise serializers.ValidationError({"shift": [both]})
        return {"shift": by_id if by_id is not None else by_uuid}


class SyncCheckInRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """A lone worker's "I'm OK" (as `POST /check-ins/`): the shift and the time, nothing
    else (no position)."""

    type = _type("check_in")
    client_uuid = _Uuid()
    shift = _id(required=False, help_text="The shift's id, or:")
    shift_uuid = _Uuid(required=False, help_text="the shift's client_uuid.")
    checked_in_at = DateTimeField(help_text="The tablet's clock at the tap.")

    @staticmethod
    def refs(attrs: dict) -> dict:
        return _ref("shift", attrs)


class SyncIncidentSubmitRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """Submit a draft the tablet made (as `POST /incidents/{id}/submit/`); one submitted before
    is answered 200 as done. Without a required-to-submit field: 400 naming each."""

    type = _type("incident-submit")
    incident = _id(required=False, help_text="The incident's id, or:")
    incident_uuid = _Uuid(required=False, help_text="the incident's client_uuid.")
    reason = _Text(required=False, allow_blank=True, max_length=500)

    @staticmethod
    def refs(attrs: dict) -> dict:
        return _ref("incident", attrs)


class SyncProcedureTickRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """Tick a step of the procedure of the incident being reported (as the incident page's
    tick); a step already ticked is 409. The incident may be a draft earlier in the batch."""

    type = _type("procedure-tick")
    client_uuid = _Uuid()
    incident = _id(required=False, help_text="The incident's id, or:")
    incident_uuid = _Uuid(required=False, help_text="the incident's client_uuid.")
    step = _Id(min_value=1, max_value=MAX_STEPS, help_text="The step's number, from 1.")
    undo = _Bool(required=False, default=False, help_text="Take a tick back (with `reason`).")
    reason = _Text(required=False, allow_blank=True, max_length=500)

    @staticmethod
    def refs(attrs: dict) -> dict:
        return _ref("incident", attrs)


class SyncVisitorInRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """Sign a visitor in at the gate (as `POST /visitors/`), on the sheet of the local day of
    `signed_in_at`."""

    type = _type("visitor-in")
    client_uuid = _Uuid()
    site = _Text(max_length=20, help_text="The site's code.")
    name = _Text(max_length=TEXT_FIELDS["name"])
    host = _Text(max_length=TEXT_FIELDS["host"])
    company = _Text(required=False, allow_blank=True, max_length=TEXT_FIELDS["company"])
    badge_number = _Text(required=False, allow_blank=True, max_length=TEXT_FIELDS["badge_number"])
    signed_in_at = DateTimeField(help_text="The tablet's clock at the sign-in.")


class SyncVisitorOutRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """Sign a visitor out (as `POST /visitors/{id}/sign-out/`); one signed out before by
    another sign-out is 409."""

    type = _type("visitor-out")
    client_uuid = _Uuid()
    visitor = _id(required=False, help_text="The visitor's id, or:")
    visitor_uuid = _Uuid(required=False, help_text="the client_uuid of their sign-in.")
    signed_out_at = DateTimeField(help_text="The tablet's clock at the sign-out.")

    @staticmethod
    def refs(attrs: dict) -> dict:
        return _ref("visitor", attrs)


class SyncFoundItemRecordSerializer(RefuseUnknownFields, serializers.Serializer):
    """Record an item found at the site (as `POST /found-items/`, without a photo: the photo
    is added on the item's page or through its own endpoint). The site is `site` (its code)
    or, without it, the site of the guard's shift."""

    type = _type("found-item")
    client_uuid = _Uuid()
    site = _Text(required=False, max_length=20, help_text="The site's code, or:")
    shift = _id(required=False, help_text="the guard's shift: its id, or:")
    shift_uuid = _Uuid(required=False, help_text="its client_uuid.")
    description = _Text(max_length=2000)
    found_at = DateTimeField(help_text="The tablet's clock when the item was found.")
    found_by = _Text(max_length=FoundItem._meta.get_field("found_by").max_length)
    storage_location = _Text(max_length=FoundItem._meta.get_field("storage_location").max_length)
    zone = _id(required=False, allow_null=True, help_text="A zone of the site, by id.")

    @staticmethod
    def refs(attrs: dict) -> dict:
        by_id, by_uuid = attrs.pop("shift", None), attrs.pop("shift_uuid", None)
        if by_id is not None and by_uuid is not None:
            both = "Give `shift` or `shift_uuid`, not both."
            raise serializers.ValidationError({"shift": [both]})
        return {"shift": by_id if by_id is not None else by_uuid}


RECORD_SERIALIZERS = {
    "panic": SyncPanicRecordSerializer,
    "check_in": SyncCheckInRecordSerializer,
    "run": SyncRunRecordSerializer,
    "scan": SyncScanRecordSerializer,
    "run-finish": SyncRunFinishRecordSerializer,
    "shift-entry": SyncShiftEntryRecordSerializer,
    "incident-submit": SyncIncidentSubmitRecordSerializer,
    "procedure-tick": SyncProcedureTickRecordSerializer,
    "visitor-in": SyncVisitorInRecordSerializer,
    "visitor-out": SyncVisitorOutRecordSerializer,
    "found-item": SyncFoundItemRecordSerializer,
}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="SyncRecord",
        serializers=RECORD_SERIALIZERS,
        resource_type_field_name="type",
        many=True,
    )
)
class RecordsField(serializers.ListField):
    """The records, each read by its type's serializer in the view (one bad record is that
    record's 400, not the request's)."""

    child = serializers.DictField()


class SyncRequestSerializer(RefuseUnknownFields, serializers.Serializer):
    records = RecordsField(min_length=1, max_length=MAX_RECORDS)


class SyncResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The record's place in the request, from 0.")
    type = serializers.CharField()
    status = serializers.IntegerField(
        help_text="As the record's own endpoint would answer: 201 stored, 200 stored before "
        "(or, for a finish, done), 400 a field refused, 403 not allowed, 409 a clash with the "
        "record's state, 422 the client_uuid used for different content; 424 what it belongs "
        "to is not on the server (yet): send it again once that is accepted."
    )
    id = serializers.IntegerField(allow_null=True, help_text="The stored record's id (2xx).")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="One list of messages per field name (or `detail`), when refused.",
    )


class SyncResponseSerializer(serializers.Serializer):
    results = SyncResultSerializer(many=True)


def _validated(raw: dict) -> tuple[dict | SyncResult | None, dict | None]:
    """One record read by its type's serializer: (its fields, None) when it matches its
    schema, (None, what does not) otherwise. A record refused only for what the schema cannot
    state (a time no clock shows) is that record's answer, not the request's: (its
    result, None)."""
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in RECORD_SERIALIZERS:
        return None, {"type": [f"Choose one of: {', '.join(RECORD_SERIALIZERS)}."]}
    serializer = RECORD_SERIALIZERS[kind](data=raw)
    if not serializer.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in serializer.errors.items()}
        if refused_for_content(serializer.errors):
            return SyncResult(Outcome.INVALID, errors=errors), None
        return None, errors
    return dict(serializer.validated_data), None


def _record(data: dict | SyncResult, fields_of: dict) -> SyncRecord | SyncResult:
    """A record that matches its schema; a rule the schema cannot state (both or neither of
    `run` and `run_uuid`, a text of spaces only) is that record's answer, not the request's.
    `fields_of`: the serializers' fields by type, built once a request (not once a record)."""
    if isinstance(data, SyncResult):
        return data
    kind = data.pop("type")
    if kind not in fields_of:
        fields_of[kind] = RECORD_SERIALIZERS[kind]().fields
    fields = fields_of[kind]
    for name, value in data.items():
        if isinstance(fields.get(name), _Text):
            data[name] = value.strip()
            if not data[name] and not fields[name].allow_blank:
                return SyncResult(Outcome.INVALID, errors={name: ["This field may not be blank."]})
    try:
        refs_of = getattr(RECORD_SERIALIZERS[kind], "refs", None)
        refs = refs_of(data) if refs_of else {}
    except serializers.ValidationError as refused:
        errors = {name: [str(m) for m in messages] for name, messages in refused.detail.items()}
        return SyncResult(Outcome.INVALID, errors=errors)
    return SyncRecord(type=kind, fields=data, refs=refs)


@extend_schema(
    request=SyncRequestSerializer,
    responses={200: SyncResponseSerializer},
    summary="Send the tablet's outbox: panic presses, check-ins, round starts, scans, round "
    "finishes, log entries, incident submissions, procedure ticks, visitor sign-ins/outs, "
    "found items",
)
@api_view(["POST"])
@parser_classes([JSONParser])
def sync(request):
    serializer = SyncRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    raw = serializer.validated_data["records"]
    read = [_validated(item) for item in raw]
    refused = {index: errors for index, (_data, errors) in enumerate(read) if errors}
    if refused:
        # Nothing is stored from a request that does not match the schema.
        raise serializers.ValidationError({"records": refused})
    fields_of: dict = {}
    results = sync_records(request.user, [_record(data, fields_of) for data, _errors in read])
    body = [
        {
            "index": index,
            "type": item["type"],
            "status": STATUS[result.outcome],
            "id": result.id,
            "errors": result.errors,
        }
        for index, (item, result) in enumerate(zip(raw, results, strict=True))
    ]
    return Response({"results": body})
