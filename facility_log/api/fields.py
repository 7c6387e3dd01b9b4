"""Serializer fields shared by the API modules."""

import re
from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's SlugRelatedField, refusing a NUL character before it reaches the database
    (PostgreSQL cannot even compare text containing one): the same "does not exist" error
    names the field."""

    def to_internal_value(self, data):
        if "\x00" in str(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value="(contains NUL)")
        return super().to_internal_value(data)


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A read-only choice the model stores as "" when there is none (an access event without a
    denial reason or direction): sent as null, so the value is always one of the enum or null,
    as the schema declares."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": LOCAL_TIME_PATTERN,
        "example": "22:00",
        "description": "A wall-clock time at the site, HH:MM or HH:MM:SS, without an offset.",
    }
)
class LocalTimeField(serializers.TimeField):
    """A site-local wall-clock time. OpenAPI's `format: time` is RFC 3339's full-time, which
    needs an offset this value never has; the schema states the real shape instead, and
    input is held to that same shape."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%H:%M:%S")
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(LOCAL_TIME_PATTERN, value):
            self.fail("invalid", format="HH:MM or HH:MM:SS")
        return super().to_internal_value(value)


# Serializer mixin: a field the operation does not take (a typo, or one only the server sets)
# is a 400 naming it, not silently dropped. The schema declares these bodies with
# `additionalProperties: false` (facility_log/api/schema.py), so both say the same. (A comment,
# not a docstring: serializers without their own would show it as their schema description.)
class RefuseUnknownFields:
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field; it cannot be set here."] for name in unknown}
                )
        return super().to_internal_value(data)
