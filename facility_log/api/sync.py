"""`POST /api/v1/sync/`: the tablet's outbox in one request (services/sync.py).

The body lists records in the order the guard made them: round starts, scans, round
finishes and shift-log entries, each as its own endpoint takes it plus a `type`. A record
names the run or shift it belongs to by id (`run`, `shift`) or by the client_uuid the tablet
gave it (`run_uuid`, `shift_uuid`), which may be a record earlier in the same request.

The answer is 200 with one result per record, in the same order: its status as its own
endpoint would answer (201 stored, 200 stored before or done, 400 a field refused, 403 not
allowed, 409 a clash with the record's state, 422 the client_uuid used for different
content) or 424 when what it belongs to is not on the server (yet): the tablet sends it
again once that record is accepted. Each record is stored in its own savepoint; the whole
request is refused (400) only when its body is not a list of at most 100 records.
"""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from facility_log.models import ScanMethod, ShiftEntryKind
from facility_log.models.shifts import ENTRY_TEXT_MAX
from facility_log.services.sync import MAX_RECORDS, Outcome, SyncRecord, SyncResult, sync_records

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


def _id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _type(name: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[name], help_text=f"Always `{name}`.")


def _ref(name: str, attrs: dict) -> dict:
    """Exactly one of `name` (an id) and `name_uuid` (the tablet's client_uuid of it)."""
    by_id, by_uuid = attrs.pop(name, None), attrs.pop(f"{name}_uuid", None)
    if (by_id is None) == (by_uuid is None):
        raise serializers.ValidationError({name: f"Give either `{name}` or `{name}_uuid`."})
    return {name: by_id if by_id is not None else by_uuid}


class SyncRunRecordSerializer(serializers.Serializer):
    """Start a round (as `POST /runs/`)."""

    type = _type("run")
    client_uuid = serializers.UUIDField()
    route = _id()
    started_at = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        attrs["refs"] = {"route": attrs.pop("route")}
        return attrs


class SyncScanRecordSerializer(serializers.Serializer):
    """Record a scan (as `POST /scans/`, without a photo)."""

    type = _type("scan")
    run = _id(required=False, help_text="The run's id, or:")
    run_uuid = serializers.UUIDField(required=False, help_text="the run's client_uuid.")
    tag_code = serializers.CharField(max_length=40)
    client_uuid = serializers.UUIDField()
    method = serializers.ChoiceField(choices=ScanMethod.choices)
    device_time = serializers.DateTimeField()
    device_sent_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs):
        attrs["refs"] = _ref("run", attrs)
        return attrs


class SyncRunFinishRecordSerializer(serializers.Serializer):
    """Finish a round (as `POST /runs/{id}/finish/`)."""

    type = _type("run-finish")
    run = _id(required=False, help_text="The run's id, or:")
    run_uuid = serializers.UUIDField(required=False, help_text="the run's client_uuid.")
    finished_at = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        attrs["refs"] = _ref("run", attrs)
        return attrs


class SyncShiftEntryRecordSerializer(serializers.Serializer):
    """Write a shift-log entry (as `POST /shift-entries/`)."""

    type = _type("shift-entry")
    shift = _id(required=False, help_text="The shift's id, or:")
    shift_uuid = serializers.UUIDField(required=False, help_text="the shift's client_uuid.")
    client_uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ShiftEntryKind.choices)
    occurred_at = serializers.DateTimeField()
    text = serializers.CharField(max_length=ENTRY_TEXT_MAX)

    def validate(self, attrs):
        attrs["refs"] = _ref("shift", attrs)
        return attrs


RECORD_SERIALIZERS = {
    "run": SyncRunRecordSerializer,
    "scan": SyncScanRecordSerializer,
    "run-finish": SyncRunFinishRecordSerializer,
    "shift-entry": SyncShiftEntryRecordSerializer,
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


class SyncRequestSerializer(serializers.Serializer):
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


def _read(index: int, raw) -> SyncRecord | SyncResult:
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in RECORD_SERIALIZERS:
        choices = ", ".join(RECORD_SERIALIZERS)
        return SyncResult(Outcome.INVALID, errors={"type": [f"Choose one of: {choices}."]})
    serializer = RECORD_SERIALIZERS[kind](data=raw)
    if not serializer.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in serializer.errors.items()}
        return SyncResult(Outcome.INVALID, errors=errors)
    data = dict(serializer.validated_data)
    refs = data.pop("refs")
    data.pop("type")
    return SyncRecord(type=kind, fields=data, refs=refs)


@extend_schema(
    request=SyncRequestSerializer,
    responses={200: SyncResponseSerializer},
    summary="Send the tablet's outbox: round starts, scans, round finishes, log entries",
)
@api_view(["POST"])
@parser_classes([JSONParser])
def sync(request):
    serializer = SyncRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    raw = serializer.validated_data["records"]
    records = [_read(index, item) for index, item in enumerate(raw)]
    results = sync_records(request.user, records)
    body = [
        {
            "index": index,
            "type": item["type"] if isinstance(item.get("type"), str) else "",
            "status": STATUS[result.outcome],
            "id": result.id,
            "errors": result.errors,
        }
        for index, (item, result) in enumerate(zip(raw, results, strict=True))
    ]
    return Response({"results": body})
