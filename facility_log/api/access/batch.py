"""The batch of access events an integration pushes: its item shape, the per-item checks
and the refusal that names each failing item."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from facility_log.api.fields import RefuseUnknownFields
from facility_log.services.access import IngestRefused, RowError
from facility_log.services.access_formats import GENERIC_COLUMNS, FormatError, Incoming

MAX_BATCH = 5000


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]})
class TextOrEpochField(serializers.Field):
    """A time as text (RFC 3339) or as epoch seconds/milliseconds (a whole number)."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class AccessEventItemSerializer(RefuseUnknownFields, serializers.Serializer):
    """One event of a batch, as the schema declares it (the generic CSV's columns)."""

    site = serializers.CharField(required=False, help_text="the site's code, unless ?site=")
    source = serializers.CharField(help_text="the controller or system that saw the event")
    external_id = serializers.CharField(help_text="the source's own event id (idempotency key)")
    occurred_at = TextOrEpochField(
        help_text="RFC 3339 time with its offset, or epoch seconds or milliseconds"
    )
    door = serializers.CharField(help_text="the door's code or one of its external ids")
    event_type = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True)
    credential = serializers.CharField(required=False, allow_blank=True)
    cardholder = serializers.CharField(required=False, allow_blank=True)
    direction = serializers.CharField(required=False, allow_blank=True)


class BatchItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate"])


class BatchResultSerializer(serializers.Serializer):
    site = serializers.CharField()
    batch = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    alarms = serializers.IntegerField()
    results = BatchItemResultSerializer(many=True)


def _text_or_epoch(name: str, value) -> bool:
    """Text, or for `occurred_at` also epoch seconds or milliseconds as a number."""
    if isinstance(value, str):
        return True
    is_number = isinstance(value, int) and not isinstance(value, bool)
    return name == "occurred_at" and is_number and value >= 0


def _check_item_shapes(items: list) -> None:
    """Items that do not match the schema (not an object, a field that is not text, a field
    the batch does not take) are a 400 naming each; what is left to refuse after this is
    content (an unknown door, a time without an offset): a 422."""
    known = {"site", *GENERIC_COLUMNS}
    errors = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors[index] = {"item": ["Not a JSON object."]}
            continue
        wrong = {
            str(name): ["Must be a string."]
            for name, value in item.items()
            if name in known and value is not None and not _text_or_epoch(name, value)
        }
        wrong.update({str(name): ["Unknown field."] for name in set(item) - known})
        if wrong:
            errors[index] = wrong
    if errors:
        raise serializers.ValidationError(
            {"detail": "Nothing stored: items do not match the schema.", "items": errors}
        )


def _item_incoming(item, index: int) -> Incoming:
    if not isinstance(item, dict):
        raise FormatError(f"Item {index} is not a JSON object.", index)
    values = {name: _value(item.get(name)) for name in GENERIC_COLUMNS}
    # `occurred_at` may be an RFC 3339 string or epoch seconds/milliseconds (string or number).
    return Incoming(line=index, epoch=True, **values)


def _value(value) -> str:
    return "" if value is None or value is False else str(value).strip()


def _flag(request, name: str) -> bool:
    """A boolean query parameter: `true` or `false`, as the schema declares it."""
    value = request.query_params.get(name, "false")
    if value not in ("true", "false"):
        raise serializers.ValidationError({name: ["Must be true or false."]})
    return value == "true"


def _errors_by_item(errors: list[RowError]) -> dict[int, dict[str, list[str]]]:
    grouped: dict[int, dict[str, list[str]]] = {}
    for error in errors:
        grouped.setdefault(error.line, {}).setdefault(error.column or "item", []).append(
            error.message
        )
    return grouped


def _refusal(refused: IngestRefused, count: int) -> Response:
    grouped = _errors_by_item(refused.errors)
    results = [
        {"index": i, "status": "error", "errors": grouped[i]}
        if i in grouped
        else {"index": i, "status": "not_stored"}
        for i in range(count)
    ]
    detail = f"Nothing stored: {len(grouped)} item(s) have errors."
    return Response(
        {"detail": detail, "results": results}, status=status.HTTP_422_UNPROCESSABLE_ENTITY
    )
