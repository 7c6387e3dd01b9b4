"""Filters shared by the API's lists."""

import re
from datetime import UTC
from typing import ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class _Rfc3339Field(IsoDateTimeField):
    """The schema says `date-time` (RFC 3339: date, time and offset); Django's ISO parser
    also takes a bare date or no offset, so the shape is checked first."""

    def to_python(self, value):
        if value not in self.empty_values and not RFC3339.fullmatch(str(value)):
            raise forms.ValidationError(
                "Give an RFC 3339 time with its offset, e.g. 2026-03-29T01:30:00+01:00.",
                code="invalid",
            )
        return super().to_python(value)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An RFC 3339 time in any offset, compared in UTC. Offsets the database cannot take
    (e.g. -21:32) and times that fall off the calendar are a 400 naming the parameter."""

    field_class = _Rfc3339Field

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except (OverflowError, ValueError):
                raise ValidationError({self.field_name: "This time is out of range."}) from None
        return super().filter(qs, value)


INT64 = 2**63 - 1


class _StrictBoolean(forms.Field):
    """`true` or `false`, nothing else: Django's NullBooleanField reads any other word as
    "no filter", which returns every row for a typo."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Give true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    field_class = _StrictBoolean


@extend_schema_field({"type": "integer", "minimum": -INT64 - 1, "maximum": INT64})
class IdFilter(django_filters.NumberFilter):
    """A related record's id. Any 64-bit whole number is a valid filter; one that matches
    nothing gives an empty page (django-filter's default, a choice among existing rows,
    answers 400 to a schema-valid id such as 0)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -INT64 - 1)
        kwargs.setdefault("max_value", INT64)
        super().__init__(*args, **kwargs)


class FilterSet(django_filters.FilterSet):
    """The API's filter sets: relations filtered by id, booleans strictly, and an empty value
    refused where the schema allows none (django-filter reads `?zone=` as "no filter")."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.BooleanField: {"filter_class": BooleanFilter},
    }

    def is_valid(self):
        valid = super().is_valid()
        for name, declared in self.filters.items():
            if isinstance(declared, django_filters.CharFilter) or name not in self.form.fields:
                continue
            if self.data.get(name) == "":
                self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        return valid


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend with the API's FilterSet. The filter set a view's
    `filterset_fields` make is built once per view's model and fields, not on every request
    (django-filter builds a new class, and maps every field, each time). A request that names
    none of the filters (a plain page) builds no filter set at all: every filter of an empty
    form leaves the queryset as it is, and its form finds no error in no data."""

    filterset_base = FilterSet
    _made: ClassVar[dict] = {}

    def get_filterset_class(self, view, queryset=None):
        fields = getattr(view, "filterset_fields", None)
        if (
            getattr(view, "filterset_class", None)
            or queryset is None
            or not isinstance(fields, (list, tuple))
            or not all(isinstance(name, str) for name in fields)
        ):
            return super().get_filterset_class(view, queryset)
        key = (self.filterset_base, queryset.model, tuple(fields))
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().get_filterset_class(view, queryset)
        return made

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        if (
            issubclass(filterset_class, FilterSet)
            and filterset_class.filter_queryset is django_filters.FilterSet.filter_queryset
            and not any(name in request.query_params for name in filterset_class.base_filters)
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
