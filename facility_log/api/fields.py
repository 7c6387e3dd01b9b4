"""Serializer fields shared by the API modules."""

import re
from collections.abc import Mapping
from datetime import timedelta

from django.db import models
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Error code of a value the schema allows but no record can hold (a time no clock shows): the
# exception handler answers 422 for it, as for a record that does not exist (api/errors.py).
IMPLAUSIBLE = "implausible_time"
# The offsets clocks on Earth use run from -12:00 to +14:00; RFC 3339 allows up to 23:59,
# which PostgreSQL cannot store (a DataError, a 500) and no device shows.
MAX_OFFSET = timedelta(hours=14)
# Years a record of this application can be dated in: outside them a time is a reset clock or
# a typo, and near year 1 or 9999 converting it to UTC or a site's zone overflows (a 500).
YEARS = range(1900, 3000)


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


# The range of a 64-bit id: a larger number is no record's (SQLite cannot even bind it: an
# OverflowError, a 500).
INT64_MAX = 2**63 - 1


class IdField(serializers.IntegerField):
    """A record's id in a body or a query: a whole number within 64 bits (a 400 beyond, as the
    schema's bounds say); one that matches nothing is the view's to answer."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", -INT64_MAX - 1)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)


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


class DateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, refusing what no clock shows before it reaches arithmetic or the
    database: an offset beyond -12:00..+14:00 (`+23:59`), a year outside 1900-2999 (year 1 or
    9999 with an offset overflowed in UTC). Refused with code `implausible_time` (a 422
    naming the field: the text is a valid RFC 3339 date-time). How far back or ahead a
    particular record may be dated is the service's rule (a plausible window)."""

    default_error_messages = {
        "offset": "No clock uses the offset {offset}: offsets run from -12:00 to +14:00.",
        "year": "The year {year} is outside 1900-2999 (a reset clock or a typo?).",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None  # left to DRF's own message
            if parsed is not None:
                self._check(parsed)
        return super().to_internal_value(value)

    def _check(self, parsed) -> None:
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_OFFSET:
            sign, size = ("-" if offset < timedelta(0) else "+"), abs(offset)
            text = f"{sign}{size.seconds // 3600:02d}:{size.seconds % 3600 // 60:02d}"
            raise serializers.ValidationError(
                self.error_messages["offset"].format(offset=text), code=IMPLAUSIBLE
            )
        if parsed.year not in YEARS:
            raise serializers.ValidationError(
                self.error_messages["year"].format(year=f"{parsed.year:04d}"), code=IMPLAUSIBLE
            )


# Serializer mixin: a field the operation does not take (a typo, or one only the server sets)
# is a 400 naming it, not silently dropped. The schema declares these bodies with
# `additionalProperties: false` (facility_log/api/schema.py), so both say the same. (A comment,
# not a docstring: serializers without their own would show it as their schema description.)
# Every write serializer uses it, so it is also where a model serializer's time fields become
# the strict DateTimeField above.
class NamedText(serializers.CharField):
    """A text that may not be blank: refused as empty ("", a 400 by the schema's minLength)
    or as white space only (U+0085 and tabs included: valid by the schema, a 422 for its
    content). The write serializers map the models' text fields onto it."""

    default_error_messages = {"spaces_only": "This field holds only white space."}

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str) and data and not data.strip() and not self.allow_blank:
            self.fail("spaces_only")
        return super().run_validation(data)


class RefuseUnknownFields:
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
        models.CharField: NamedText,
        models.TextField: NamedText,
    }

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field; it cannot be set here."] for name in unknown}
                )
        return super().to_internal_value(data)
