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

from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from rest_framework import relations
from rest_framework.fields import ISO_8601, empty
from rest_framework.settings import api_settings

from facility_log.api.representation import (
    DRF,
    FAST,
    KEY,
    METHOD,
    TIME,
    current_zone,
)
from facility_log.db_times import times_read_natively

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


def _represent_row(serializer, entries, row, zone) -> dict:
    """One row's representation, entry by entry (the reference the generated reader
    follows, and its fallback)."""
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
    return ret


def _reader(serializer_class, entries):
    """A function reading a whole page of rows, generated once per serializer class from
    its entries: the same steps as `_represent_row`, without its loop and dispatch per
    field. Times in ISO 8601 (the common case, `iso` true) are converted inline as
    representation.py's `_datetime` converts them; anything else calls the field's
    converter. A row whose time falls off the calendar in the zone is read by
    `_represent_row` (its converter falls back to DRF's code)."""
    names = {"_represent_row": _represent_row, "_Pk": _Pk, "datetime": datetime}
    lines = [
        "def read(serializer, entries, rows, zone, iso):",
        "    out = []",
        "    for r in rows:",
        "        try:",
        "            d = {}",
    ]
    body = []
    for n, (name, where, nulls, kind, field, convert, _missing) in enumerate(entries):
        names[f"f{n}"], names[f"c{n}"], names[f"k{n}"] = field, convert, name
        key, v = f"k{n}", f"r[{where}]"
        if nulls:
            # A null relation on the way: the reference reading decides (rare fields).
            body.append(f"if {' or '.join(f'r[{i}] is None' for i in nulls)}:")
            body.append(f"    d.update(_represent_row(serializer, entries[{n}:{n + 1}], r, zone))")
            body.append("else:")
            indent = "    "
        else:
            indent = ""
        step = []
        if kind == _METHOD:
            step.append(f"d[{key}] = getattr(serializer, c{n})(_Pk({v}))")
        elif kind == _VALUE:
            step.append(f"d[{key}] = {v}")
        elif kind == _CONVERT:
            step.append(f"v = {v}")
            step.append(f"d[{key}] = None if v is None else c{n}(v)")
        elif kind == _DRF:
            step.append(f"v = {v}")
            step.append(f"d[{key}] = None if v is None else f{n}.to_representation(v)")
        elif hasattr(field, "format") or hasattr(field, "timezone"):
            step.append(f"v = {v}")
            step.append(f"d[{key}] = None if v is None else c{n}(v, zone)")
        else:
            step += [
                f"v = {v}",
                "if v is None:",
                f"    d[{key}] = None",
                "elif iso and type(v) is datetime and v.utcoffset() is not None:",
                "    t = v.astimezone(zone).isoformat()",
                f"    d[{key}] = t[:-6] + 'Z' if t.endswith('+00:00') else t",
                "else:",
                f"    d[{key}] = c{n}(v, zone)",
            ]
        body += [indent + line for line in step]
    lines += ["            " + line for line in body]
    lines += [
        "        except OverflowError:",
        "            d = _represent_row(serializer, entries, r, zone)",
        "        out.append(d)",
        "    return out",
    ]
    exec(compile("\n".join(lines), f"<rows of {serializer_class.__name__}>", "exec"), names)  # noqa: S102 - code made here from the plan, no input
    return names["read"]


def represent_rows(serializer, entries, rows) -> list[dict]:
    """The serializer's representation of each row (a tuple in the plan's column order)."""
    zone = current_zone()
    serializer_class = type(serializer)
    read = serializer_class.__dict__.get("_row_reader")
    if read is None:
        read = serializer_class._row_reader = _reader(serializer_class, entries)
    output_format = api_settings.DATETIME_FORMAT
    iso = zone is not None and output_format is not None and output_format.lower() == ISO_8601
    return read(serializer, entries, rows, zone, iso)


class RowList:
    """ViewSet mixin: `list` reads its page as rows of the columns the serializer sends
    (see the module's docstring), or as DRF's ListModelMixin does when it cannot."""

    def list(self, request, *args, **kwargs):
        serializer_class = self.get_serializer_class()
        plan = row_plan(serializer_class) if self.paginator is not None else None
        if plan is None:
            queryset = self.filter_queryset(self.get_queryset())
            page = self.paginate_queryset(queryset)
            if page is None:
                return self._list_response(self.get_serializer(queryset, many=True).data)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        columns, entries = plan
        time_field = getattr(self, "keyset_time_field", None)
        if time_field and time_field not in columns:
            columns = [*columns, time_field]
        # A view may read its page by a statement compiled once (services/keyset_rows.py); it
        # returns None where it cannot, and the page is read through the ORM.
        read_page = getattr(self, "read_compiled_page", None)
        page = None if read_page is None else read_page(columns)
        if page is None:
            queryset = self.filter_queryset(self.get_queryset())
            rows = queryset.prefetch_related(None).values_list(*columns, named=bool(time_field))
            with times_read_natively(rows.db):
                page = self.paginate_queryset(rows)
        serializer = serializer_class(context=self.get_serializer_context())
        return self.get_paginated_response(represent_rows(serializer, entries, page))

    def _list_response(self, data):
        from rest_framework.response import Response

        return Response(data)
