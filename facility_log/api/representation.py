"""A cheaper `to_representation` for the API's read serializers, sending the same JSON.

DRF builds every serializer's fields again for each request (deep copies of the declared
fields, the model's fields mapped one by one) and, for each row, walks them through a
generator, `get_attribute` with its callable checks and each field's `to_representation`,
asking for the current time zone once per time field. On a 50-row list that is most of the
request's CPU.

`FastRepresentation` reads each row through a plan made once per serializer class: for the
plain fields (text, numbers, UUIDs, choices, times, slugs) the attribute is read directly
and converted as DRF's own field would convert it; anything the plan cannot read that way
(a missing relation, a callable, an unusual value) goes through the field's own DRF code,
so the result is the same. Fields that depend on the serializer instance (method fields,
nested serializers, files, hyperlinks, anything not known here) are always read through
the instance's own fields, as DRF does. The fields and the schema are untouched: only the
reading is faster.
"""

import copy
from datetime import datetime

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.fields import ISO_8601, SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import BindingDict

# How a field of the plan is read: LIVE through the instance's own field (DRF's code, with
# the instance's context); DRF through the class's field (DRF's code; these fields need no
# context); FAST directly, falling back to DRF's code when the direct read does not apply
# (TIME: a time, converted in the zone of the list; KEY: a related record's id, read from
# the row's own column as DRF's PrimaryKeyRelatedField reads it).
# METHOD: a SerializerMethodField, whose method is called on the serializer as DRF does.
LIVE, DRF, FAST, TIME, KEY, METHOD = range(6)

_MISSING = object()


def _char(field):
    return str


def _integer(field):
    return int


def _big_integer(field):
    def convert(value):
        if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING):
            return str(value)
        return int(value)

    return convert


def _boolean(field):
    slow = field.to_representation

    def convert(value):
        return value if type(value) is bool else slow(value)

    return convert


def _uuid(field):
    if field.uuid_format == "hex_verbose":
        return str
    return field.to_representation


def _choice(field):
    def convert(value):
        if value in ("", None):
            return value
        return field.choice_strings_to_values.get(str(value), value)

    return convert


def _blank_as_null_choice(field):
    def convert(value):
        if value in ("", None):
            return None
        return field.choice_strings_to_values.get(str(value), value)

    return convert


def _datetime(field):
    slow = field.to_representation

    def convert(value, zone):
        # DRF's DateTimeField.to_representation for an aware datetime in ISO 8601, the
        # common case, in `zone` (the current time zone, read once per list); anything else
        # (another format, a naive or out-of-range time) is DRF's own code.
        output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
        if (
            type(value) is not datetime
            or output_format is None
            or output_format.lower() != ISO_8601
            or value.utcoffset() is None
        ):
            return slow(value)
        if hasattr(field, "timezone"):
            zone = field.timezone
        if zone is None:
            return slow(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return slow(value)
        if text.endswith("+00:00"):
            text = text[:-6] + "Z"
        return text

    return convert


def current_zone():
    """DateTimeField.default_timezone(): the zone times are sent in."""
    return timezone.get_current_timezone() if settings.USE_TZ else None


def _slug(field):
    slug_field = field.slug_field
    if "__" in slug_field:
        return field.to_representation

    def convert(value):
        return getattr(value, slug_field)

    return convert


def _converter(field):
    """The direct converter of `field` (same output as its `to_representation`), or None
    when it has none here. Only exact classes whose reading this module has checked: a
    subclass may read differently."""
    from facility_log.api import fields as ours

    kind = type(field)
    table = {
        drf_fields.CharField: _char,
        drf_fields.EmailField: _char,
        ours.NamedText: _char,
        drf_fields.IntegerField: _integer,
        drf_fields.BigIntegerField: _big_integer,
        drf_fields.BooleanField: _boolean,
        ours.IdField: _integer,
        drf_fields.UUIDField: _uuid,
        drf_fields.ChoiceField: _choice,
        ours.BlankAsNullChoiceField: _blank_as_null_choice,
        drf_fields.DateTimeField: _datetime,
        ours.DateTimeField: _datetime,
        relations.SlugRelatedField: _slug,
        ours.SlugRelatedField: _slug,
    }
    make = table.get(kind)
    return make(field) if make else None


# Fields whose DRF reading needs nothing of the serializer instance (no context, no
# parent): read through the class's copy. Any other field is read LIVE.
_CONTEXT_FREE = (
    drf_fields.BooleanField,
    drf_fields.FloatField,
    drf_fields.DecimalField,
    drf_fields.DateField,
    drf_fields.TimeField,
    drf_fields.DurationField,
    drf_fields.JSONField,
    drf_fields.ReadOnlyField,
    relations.PrimaryKeyRelatedField,
)


_PrimaryKey = relations.PrimaryKeyRelatedField


def _key_column(serializer_class, field) -> str | None:
    """The column DRF's PrimaryKeyRelatedField reads `field`'s id from (its
    `serializable_value`), or None when this field is read some other way."""
    kind = type(field)
    if not (
        isinstance(field, relations.PrimaryKeyRelatedField)
        and kind.get_attribute is relations.RelatedField.get_attribute
        and kind.use_pk_only_optimization is _PrimaryKey.use_pk_only_optimization
        and kind.to_representation is _PrimaryKey.to_representation
        and field.pk_field is None
        and len(field.source_attrs) == 1
    ):
        return None
    model = getattr(getattr(serializer_class, "Meta", None), "model", None)
    try:
        return model._meta.get_field(field.source_attrs[0]).attname
    except (AttributeError, FieldDoesNotExist):
        return None


def _plan(serializer_class) -> list:
    template = serializer_class()
    plan = []
    for field in template._readable_fields:
        name = field.field_name
        convert = _converter(field) if field.source != "*" else None
        column = _key_column(serializer_class, field)
        if convert is not None:
            how = TIME if isinstance(field, drf_fields.DateTimeField) else FAST
            plan.append((name, tuple(field.source_attrs), how, field, convert))
        elif column is not None:
            plan.append((name, (column,), KEY, field, None))
        elif type(field) is drf_fields.SerializerMethodField:
            plan.append((name, (), METHOD, field, field.method_name))
        elif (
            isinstance(field, _CONTEXT_FREE)
            and field.source != "*"
            and type(field).get_attribute
            in (drf_fields.Field.get_attribute, relations.RelatedField.get_attribute)
            and not isinstance(field, relations.HyperlinkedRelatedField)
        ):
            plan.append((name, (), DRF, field, None))
        else:
            plan.append((name, (), LIVE, None, None))
    return plan


def _drf_read(field, instance, ret: dict) -> None:
    """Serializer.to_representation's reading of one field."""
    try:
        attribute = field.get_attribute(instance)
    except SkipField:
        return
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    if check_for_none is None:
        ret[field.field_name] = None
    else:
        ret[field.field_name] = field.to_representation(attribute)


_UNSET = object()


class FastListSerializer(serializers.ListSerializer):
    """DRF's ListSerializer, reading the current time zone once for the whole list."""

    def to_representation(self, data):
        child = self.child
        if type(child).to_representation is not FastRepresentation.to_representation:
            return super().to_representation(data)
        iterable = data.all() if isinstance(data, models.manager.BaseManager) else data
        zone = current_zone()
        return [child.represent(item, zone) for item in iterable]


# Serializer mixin: `to_representation` through a plan made once per class (see the module's
# docstring). For serializers whose fields do not depend on the request (no `get_fields`
# override, no fields added or removed per instance). (A comment, not a docstring: serializers
# without their own would show it as their schema description.)
class FastRepresentation:
    @classmethod
    def many_init(cls, *args, **kwargs):
        """DRF's many_init, with FastListSerializer as the default list class."""
        list_kwargs = {}
        for key in serializers.LIST_SERIALIZER_KWARGS_REMOVE:
            value = kwargs.pop(key, None)
            if value is not None:
                list_kwargs[key] = value
        list_kwargs["child"] = cls(*args, **kwargs)
        list_kwargs.update(
            {k: v for k, v in kwargs.items() if k in serializers.LIST_SERIALIZER_KWARGS}
        )
        meta = getattr(cls, "Meta", None)
        list_serializer_class = getattr(meta, "list_serializer_class", FastListSerializer)
        return list_serializer_class(*args, **list_kwargs)

    @classmethod
    def _representation_plan(cls) -> list:
        plan = cls.__dict__.get("_fast_plan")
        if plan is None:
            plan = _plan(cls)
            cls._fast_plan = plan
        return plan

    def to_representation(self, instance):
        return self.represent(instance, _UNSET)

    def _live_fields(self):
        """The fields read LIVE, bound to this serializer. When they are all declared on the
        class, only they are built (a copy of each, bound, as ModelSerializer.get_fields
        and Serializer.fields make them) instead of every field of the serializer; once per
        serializer (for a list, once per request)."""
        built = self.__dict__.get("fields") or self.__dict__.get("_fast_live_fields")
        if built is not None:
            return built
        names = [name for name, _a, how, _f, _c in self._representation_plan() if how == LIVE]
        declared = self._declared_fields
        if not all(name in declared for name in names):
            return self.fields
        built = BindingDict(self)
        for name in names:
            built[name] = copy.deepcopy(declared[name])
        self._fast_live_fields = built
        return built

    def represent(self, instance, zone) -> dict:
        ret = {}
        live = None
        for name, attrs, how, field, convert in self._representation_plan():
            if how == DRF:
                _drf_read(field, instance, ret)
                continue
            if how == METHOD:
                ret[name] = None if instance is None else getattr(self, convert)(instance)
                continue
            if how == LIVE:
                if live is None:
                    live = self._live_fields()
                _drf_read(live[name], instance, ret)
                continue
            value = instance
            try:
                for attr in attrs:
                    value = getattr(value, attr)
            except Exception:  # noqa: BLE001 - DRF's own reading decides
                value = _MISSING
            if value is None:
                ret[name] = None
            elif how == KEY:
                if type(value) is int:
                    ret[name] = value
                else:
                    _drf_read(field, instance, ret)
            elif value is _MISSING or callable(value):
                _drf_read(field, instance, ret)
            elif how == TIME:
                if zone is _UNSET:
                    zone = current_zone()
                ret[name] = convert(value, zone)
            else:
                ret[name] = convert(value)
        return ret
