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

from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS
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
    the `post_save` receiver would have (`ledger.hold_insert`)."""
    model = type(instance)
    opts = model._meta
    fields = list(opts.concrete_fields)
    query = InsertQuery(model)
    query.insert_values(fields, [instance], raw=False)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = fields
    [(sql, params)] = compiler.as_sql()
    converters = compiler.get_converters([field.get_col(opts.db_table) for field in fields])
    sent = {f.attname: f.get_prep_value(getattr(instance, f.attname)) for f in fields}
    return HeldInsert(sql, params, [f.attname for f in fields], sent, compiler, converters)
