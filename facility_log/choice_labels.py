"""`get_FOO_display()` read from a table per field and language, not rebuilt on every call.

Django's `Model._get_FIELD_display` builds a dict of the field's choices on each call, hashing
every label, and hashing a lazily translated label translates it: ten gettext calls to show one
status. A 50-row list shows two or three labels a row, which was a quarter of the incident
list's time (docs/performance.md). `install()` gives each choice field of the app's models a
`get_FOO_display` that looks the value up in a table built once per field and language, with
Django's exact result (the label as text, else the value itself). A model's own
`get_FOO_display` is left alone, and so are fields whose choices come from a callable (they may
change while the server runs).
"""

from functools import partialmethod

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import get_language

_tables: dict[tuple, dict] = {}


def _table(field) -> dict:
    key = (field, get_language())
    table = _tables.get(key)
    if table is None:
        table = {
            make_hashable(value): force_str(label, strings_only=True)
            for value, label in field.flatchoices
        }
        _tables[key] = table
    return table


def _display(self, *, field):
    value = getattr(self, field.attname)
    return _table(field).get(make_hashable(value), force_str(value, strings_only=True))


def install(models) -> None:
    """Replace Django's `get_FOO_display` of every fixed-choice field of `models`."""
    for model in models:
        for field in model._meta.fields:
            if not isinstance(field.choices, list | tuple):
                continue
            name = f"get_{field.name}_display"
            if isinstance(model.__dict__.get(name), partialmethod):  # Django's, not the model's
                setattr(model, name, partialmethod(_display, field=field))


def labels(field) -> dict:
    """The field's labels in the active language, by value (`labels(field).get(v, v)` is what
    `get_FOO_display()` shows for a text value): for pages that read values, not instances."""
    return _table(field)
