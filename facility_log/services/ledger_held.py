"""A row held back to be inserted in the same round trip as its ledger entry (PostgreSQL).

A plain checkpoint scan writes one row and its one ledger entry. Sent apart, the row's INSERT
and the entry's statement (the ledger's lock, the head, the entry:
`ledger_statements.chain_one`) are two round trips; held back until the entry is chained,
the INSERT goes first in the same request, and the scan costs one round trip fewer. Only a
row that nothing reads or refers to before its transaction ends is held (`ledger.hold_insert`
checks the writer is the outermost block and the database PostgreSQL).

The entry's digest is then taken before the row is stored: from the values sent. The INSERT
returns every column as the database stored it, and the digest of that (the row as
`values()` would read it back) is compared in the same step: if it differs (a value the
database keeps otherwise than Python holds it), `StoredRowDiffers` is raised before the
commit, the whole transaction rolls back, and the caller writes the row the ordinary way.
So an entry's digest still covers the row as the database holds it (docs/ledger.md).
"""

import copy
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.sql import InsertQuery


class StoredRowDiffers(Exception):
    """A held row came back from its INSERT with other values than were sent: its entry's
    digest, taken from the values sent, would not cover it. The transaction must not
    commit; the caller writes the row again the ordinary way."""


@dataclass(frozen=True)
class HeldInsert:
    """The INSERT of one row with its primary key given, returning every column; `sent` is
    the row as sent, named as `values()` names its columns."""

    sql: str
    params: tuple
    names: list[str]
    sent: dict
    compiler: Any
    converters: dict

    def stored(self, row) -> dict:
        """A row returned by the INSERT, as `values()` reads it (the columns' converters)."""
        if self.converters:
            row = next(iter(self.compiler.apply_converters([row], self.converters)))
        return dict(zip(self.names, row, strict=True))


def held_insert(instance: Model, using: str = DEFAULT_DB_ALIAS) -> HeldInsert:
    """The ORM's INSERT of `instance` (its primary key set by the caller), every field
    prepared as `save()` prepares it (`pre_save`, then the database's preparation), with
    RETURNING of every column. No signal is sent: the caller appends the ledger entry
    the `post_save` receiver would have (`ledger.hold_insert`).

    The INSERT's SQL depends on the model alone (a held row's values are plain values, as
    its `sent` digest requires): it is compiled once per model and database (a page
    writing its view-log row compiled it on every request), and later rows only have their
    values prepared as the compiler prepares them (`_params`; checked against the
    compiler's own on the first row)."""
    model = type(instance)
    template = _TEMPLATES.get((model, using))
    if template is None:
        held = _compiled_insert(instance, using)
        fields = list(model._meta.concrete_fields)
        if _params(instance, fields, using) == held.params:
            _TEMPLATES[(model, using)] = _Template(
                held.sql, fields, held.names, held.compiler, held.converters
            )
        return held
    for field in template.fields:
        field.pre_save(instance, True)  # as the compiler does (a time stamp set on insert)
    compiler = copy.copy(template.compiler)
    compiler.connection = connections[using]  # this thread's, not the one that compiled it
    return HeldInsert(
        template.sql,
        _params(instance, template.fields, using),
        template.names,
        _sent(instance, template.fields),
        compiler,
        template.converters,
    )


@dataclass(frozen=True)
class _Template:
    """What a model's held INSERT keeps from one row to the next (`held_insert`)."""

    sql: str
    fields: list
    names: list[str]
    compiler: Any
    converters: dict


# Per (model, database alias): the INSERT compiled for its first row.
_TEMPLATES: dict[tuple, _Template] = {}


def _params(instance: Model, fields: list, using: str) -> tuple:
    """The INSERT's parameters of `instance`, its fields already `pre_save`d: each value
    prepared by its field for the database, as the compiler's `prepare_value` does."""
    connection = connections[using]
    return tuple(
        field.get_db_prep_save(getattr(instance, field.attname), connection=connection)
        for field in fields
    )


def _sent(instance: Model, fields: list) -> dict:
    return {f.attname: f.get_prep_value(getattr(instance, f.attname)) for f in fields}


def _compiled_insert(instance: Model, using: str) -> HeldInsert:
    """`held_insert` compiled by the ORM for this row."""
    model = type(instance)
    opts = model._meta
    fields = list(opts.concrete_fields)
    query = InsertQuery(model)
    query.insert_values(fields, [instance], raw=False)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = fields
    [(sql, params)] = compiler.as_sql()
    converters = compiler.get_converters([field.get_col(opts.db_table) for field in fields])
    return HeldInsert(
        sql, params, [f.attname for f in fields], _sent(instance, fields), compiler, converters
    )
