"""API lists read as rows of plain values, sending the same JSON as the serializer would.

A list's serializer (a FastRepresentation, facility_log/api/representation.py) reads each
row of its page through a plan; for the lists most of that plan reads plain columns (text,
numbers, times, a related record's id or code). Building a model instance for each row and
each `select_related` relation costs more than the reading itself at 50 rows a page. Where
every field of the plan is such a column, `RowList` reads the page with `values_list`: only
the columns the serializer sends, no model instances, the same converters.

A relation that may be null is read with its own id column: when it is null, the field gets
what DRF gives an attribute it cannot reach (the field's default, null, or no key at all).
Method fields are read only where the serializer names them in `row_methods` (methods that
read nothing of the record but its `pk`, e.g. a URL): they get a stand-in with the row's id.
Any field the plan cannot read from columns (a nested serializer, a callable source, a
property) makes the list go through the serializer as before: the output never depends on
which way was taken, only the cost does (tests/api/test_row_lists.py).
"""

from django.core.exceptions import FieldDoesNotExist
from rest_framework import relations
from rest_framework.fields import empty

from facility_log.api.representation import (
    DRF,
    FAST,
    KEY,
    METHOD,
    TIME,
    current_zone,
)

# What an entry of a row plan does with its column (see _row_plan).
_VALUE, _TIME, _CONVERT, _DRF, _METHOD = range(5)
# What a field gets when a nullable relation on its path is null (DRF's Field.get_attribute
# on an AttributeError).
_DEFAULT, _NULL, _SKIP = range(3)


class _Pk:
    """The record as a `row_methods` method sees it: its id, nothing else."""

    __slots__ = ("pk",)

    def __init__(self, pk):
        self.pk = pk


def _path(model, attrs: list) -> tuple[str, list] | None:
    """The values_list path of `attrs` from `model` (forward relations, then a concrete
    column) and the paths of the nullable relations on the way; None when `attrs` is not
    such a path (a property, a reverse or many relation, a method)."""
    nullable = []
    for depth, attr in enumerate(attrs):
        try:
            field = model._meta.get_field(attr)
        except (FieldDoesNotExist, AttributeError):
            return None
        last = depth == len(attrs) - 1
        if not getattr(field, "concrete", False) or field.many_to_many or field.one_to_many:
            return None
        if last:
            if field.is_relation:
                return None
            return "__".join(attrs), nullable
        if not (field.many_to_one or field.one_to_one):
            return None
        if field.null:
            nullable.append("__".join([*attrs[:depth], field.attname]))
        model = field.related_model
    return None


def _when_missing(field):
    """DRF's answer for a field whose path meets a null relation, or None when it would be
    an error or a callable default (then the plan is not used)."""
    if field.default is not empty:
        return None if callable(field.default) else _DEFAULT
    if field.allow_null:
        return _NULL
    if not field.required:
        return _SKIP
    return None


def _entry(serializer_class, model, name, attrs, how, field, convert):
    """One field of the row plan: (name, path, nullable paths, kind, field, convert,
    missing), or None when it cannot be read from columns."""
    if how == METHOD:
        if name not in getattr(serializer_class, "row_methods", ()):
            return None
        return (name, "id", [], _METHOD, field, convert, None)
    if how == KEY:
        related = model._meta.get_field(field.source_attrs[0])
        if related.target_field.get_internal_type() not in (
            "AutoField",
            "BigAutoField",
            "IntegerField",
            "BigIntegerField",
        ):
            return None
        return (name, attrs[0], [], _VALUE, field, None, None)
    if how in (FAST, TIME):
        kind = _TIME if how == TIME else _CONVERT
        if isinstance(field, relations.SlugRelatedField):
            attrs = [*field.source_attrs, field.slug_field]
            kind = _VALUE
        else:
            attrs = list(attrs)
    elif how == DRF and not isinstance(field, relations.RelatedField):
        attrs, kind = list(field.source_attrs), _DRF
    else:
        return None
    found = _path(model, attrs)
    if found is None:
        return None
    path, nullable = found
    missing = None
    if nullable:
        missing = _when_missing(field)
        if missing is None:
            return None
    return (name, path, nullable, kind, field, convert, missing)


def row_plan(serializer_class):
    """(columns, entries) for reading `serializer_class`'s rows from `values_list`, or None
    when some field needs the model instance. Made once per class."""
    cached = serializer_class.__dict__.get("_row_plan")
    if cached is not None:
        return cached or None
    plan = _make_row_plan(serializer_class)
    serializer_class._row_plan = plan or ()
    return plan


def _make_row_plan(serializer_class):
    model = getattr(getattr(serializer_class, "Meta", None), "model", None)
    if model is None or not hasattr(serializer_class, "_representation_plan"):
        return None
    columns = ["id"]
    entries = []
    for name, attrs, how, field, convert in serializer_class._representation_plan():
        entry = _entry(serializer_class, model, name, attrs, how, field, convert)
        if entry is None:
            return None
        name, path, nullable, kind, field, convert, missing = entry
        for column in (path, *nullable):
            if column not in columns:
                columns.append(column)
        where = columns.index(path)
        nulls = tuple(columns.index(column) for column in nullable)
        entries.append((name, where, nulls, kind, field, convert, missing))
    return columns, entries


def represent_rows(serializer, entries, rows) -> list[dict]:
    """The serializer's representation of each row (a tuple in the plan's column order)."""
    zone = current_zone()
    sent = []
    for row in rows:
        ret = {}
        for name, where, nulls, kind, field, convert, missing in entries:
            if nulls and any(row[i] is None for i in nulls):
                if missing == _SKIP:
                    continue
                value = field.get_default() if missing == _DEFAULT else None
                ret[name] = None if value is None else field.to_representation(value)
                continue
            value = row[where]
            if kind == _METHOD:
                ret[name] = getattr(serializer, convert)(_Pk(value))
            elif value is None:
                ret[name] = None
            elif kind == _VALUE:
                ret[name] = value
            elif kind == _TIME:
                ret[name] = convert(value, zone)
            elif kind == _CONVERT:
                ret[name] = convert(value)
            else:
                ret[name] = field.to_representation(value)
        sent.append(ret)
    return sent


class RowList:
    """ViewSet mixin: `list` reads its page as rows of the columns the serializer sends
    (see the module's docstring), or as DRF's ListModelMixin does when it cannot."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        serializer_class = self.get_serializer_class()
        plan = row_plan(serializer_class) if self.paginator is not None else None
        if plan is None:
            page = self.paginate_queryset(queryset)
            if page is None:
                return self._list_response(self.get_serializer(queryset, many=True).data)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        columns, entries = plan
        time_field = getattr(self, "keyset_time_field", None)
        if time_field and time_field not in columns:
            columns = [*columns, time_field]
        rows = queryset.prefetch_related(None).values_list(*columns, named=bool(time_field))
        page = self.paginate_queryset(rows)
        serializer = serializer_class(context=self.get_serializer_context())
        return self.get_paginated_response(represent_rows(serializer, entries, page))

    def _list_response(self, data):
        from rest_framework.response import Response

        return Response(data)
