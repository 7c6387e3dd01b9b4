"""Querysets compiled to SQL once per process, then run with new values.

Django builds and compiles a queryset's SQL on every call: for the one read a checkpoint scan
makes of its run (locked, with its site, route and schedule, the caller's role checked and the
client_uuid looked up, in one statement) that costs more Python time than the database takes
to answer it. The shape of that SQL never changes, only the values in it do. A
`PrecompiledQuery` builds the queryset once with sentinel values in the places of the
variable ones (`Slot`s), keeps the compiled SQL and the positions of the sentinels among its
parameters, and from then on puts the real values there and runs it: the same statement, the
same rows, read into model instances (with select_related and annotations) exactly as the
queryset would have.

Only for a queryset whose shape depends on nothing but the key it is cached under (the
builder receives the sentinels and must not read the database or any state that varies).
"""

import copy
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.constants import MULTI


@dataclass(frozen=True)
class Slot:
    """A variable value of a precompiled query: its sentinel (a value no real one equals,
    found among the compiled parameters) and the field that prepares a real value for the
    database as the ORM would have (a UUID as text on SQLite, for instance)."""

    sentinel: Any
    field: Field

    def prepared(self, value, connection):
        if value is None:
            # The compiled SQL says `= %s`; the ORM would have written IS NULL for None.
            raise ValueError("a precompiled query's slot cannot take None")
        return self.field.get_db_prep_value(value, connection, prepared=False)


@dataclass
class _Compiled:
    compiler: Any
    sql: str
    params: tuple
    positions: list[tuple[int, str]]
    placed: frozenset[str]
    # Per connection: the compiler's `get_converters` of its select list (see `_converters`).
    converters: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)
    # Per database alias: the related populators of its select_related (see `_instances`).
    populators: dict[str, list] = field(default_factory=dict)


class PrecompiledQuery:
    """`build(key, **sentinels)` returns the queryset; `first(key, **values)` runs it with
    `values` in the slots' places (see the module docstring). `key` names everything the
    queryset's shape depends on besides the database (for instance whether the actor is a
    superuser, whom scoping leaves unfiltered); `build(key, **sentinels)` is given it."""

    def __init__(
        self, build: Callable[..., QuerySet], slots: dict[str, Slot], *, strict: bool = False
    ):
        # `strict`: every value given must have its place in the compiled SQL (for a caller
        # that gives exactly the values its shape uses, as the compiled lists do); otherwise
        # values a key's shape does not use may be given and are ignored.
        self._build, self._slots, self._strict = build, slots, strict
        self._compiled: dict[tuple, _Compiled] = {}

    def first(self, key, *, using: str = "default", **values) -> Model | None:
        """The first row as a model instance (None if none). A slot this key's shape does not
        use (a superuser's scoping has no user id) is left out of `values`."""
        for obj in _instances(self._compiler(key, using, values), using):
            return obj
        return None

    def all(self, key, *, using: str = "default", **values) -> list[Model]:
        """Every row as a model instance, in the queryset's order."""
        return list(_instances(self._compiler(key, using, values), using))

    def rows(self, key, *, using: str = "default", **values) -> list[dict]:
        """The rows of a `values()` queryset, as dicts named as `values()` names them."""
        return self.rows_of(self._compiler(key, using, values))

    @staticmethod
    def rows_of(compiler, rows: list | None = None) -> list[dict]:
        """The rows of a `values()` query's compiler as `rows()` gives them (of `rows`
        fetched with `statement()`'s SQL when given, else run here)."""
        query = compiler.query
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        found = compiler.results_iter() if rows is None else compiler.results_iter([rows])
        return [dict(zip(names, row, strict=True)) for row in found]

    def statement(self, key, *, using: str = "default", **values):
        """The compiler, SQL and parameters of this query with `values`, for a caller that
        sends it together with other statements in one round trip; read its rows back with
        `instances_of(compiler, rows)`, or the compiler's `results_iter([rows])`."""
        compiler = self._compiler(key, using, values)
        sql, params = compiler.as_sql()
        return compiler, sql, params

    @staticmethod
    def instances_of(compiler, rows: list, using: str = "default") -> list[Model]:
        """Model instances of `rows` fetched with `statement()`'s SQL, as `first()` makes them."""
        return list(_instances(compiler, using, [rows]))

    def forget(self, key) -> None:
        """Drop what was compiled for `key` (on every database)."""
        for cached in [cached for cached in self._compiled if cached[1] == key]:
            self._compiled.pop(cached, None)

    def _compiler(self, key, using: str, values: dict):
        """A copy of the compiler that compiled the query, answering with its SQL and these
        values: its select list, converters and related populators are the query's."""
        compiled = self._compiled.get((using, key))
        if compiled is None:
            compiled = self._compiled[(using, key)] = self._compile(key, using)
        if self._strict and not values.keys() <= compiled.placed:
            # A value whose sentinel is not among the compiled parameters would be dropped,
            # and with it its condition (a site's, say): refuse rather than widen the read.
            missing = sorted(values.keys() - compiled.placed)
            raise ValueError(f"slots {missing} are not parameters of the compiled query")
        connection = connections[using]
        params = list(compiled.params)
        for position, name in compiled.positions:
            params[position] = self._slots[name].prepared(values[name], connection)
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connection  # this thread's, not the one that compiled it
        compiler.as_sql = lambda *args, **kwargs: (compiled.sql, tuple(params))
        compiler.get_converters = _converters(compiled, compiler)
        compiler.precompiled = compiled
        return compiler

    def _compile(self, key, using: str) -> _Compiled:
        queryset = self._build(key, **{name: s.sentinel for name, s in self._slots.items()})
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        connection = connections[using]
        positions = []
        for name, slot in self._slots.items():
            sentinel = slot.prepared(slot.sentinel, connection)
            found = [i for i, p in enumerate(params) if type(p) is type(sentinel) and p == sentinel]
            if str(sentinel) in sql:
                raise ValueError(f"slot {name!r} is written into the SQL, not a parameter")
            positions += [(i, name) for i in found]
        placed = frozenset(name for _position, name in positions)
        return _Compiled(compiler, sql, tuple(params), positions, placed)


def _converters(compiled: _Compiled, compiler) -> Callable:
    """`compiler.get_converters`, answering for the compiled select list from what was found
    for it once per connection. Django asks for the converters of every column on each read
    (`results_iter`: the backend's and each field's, a few calls per column); the select
    list of a compiled query never changes, so neither do they. Any other list of
    expressions is asked of Django as usual."""
    own = compiler.__class__.get_converters.__get__(compiler)
    select = [s[0] for s in compiler.select[0 : compiler.col_count]]

    def get_converters(expressions):
        if len(expressions) != len(select) or any(
            a is not b for a, b in zip(expressions, select, strict=True)
        ):
            return own(expressions)
        found = compiled.converters.get(compiler.connection)
        if found is None:
            found = compiled.converters[compiler.connection] = own(expressions)
        return found

    return get_converters


class CompiledShapes(OrderedDict):
    """The keys (shapes) a list has compiled, least recently used first: a list whose shapes
    vary with its filters keeps the `limit` most recent, so a worker that has seen many
    combinations still compiles the ones in use instead of sending them the ORM way."""

    def admit(self, shape, limit: int, query: PrecompiledQuery) -> bool:
        """Whether `shape` may be read compiled; makes room by forgetting the least recently
        used shape. A limit of 0 compiles nothing."""
        if shape in self:
            self.move_to_end(shape)
            return True
        if limit <= 0:
            return False
        while len(self) >= limit:
            oldest, _ = self.popitem(last=False)
            query.forget(oldest)
        self[shape] = None
        return True


def all_together(reads: list[tuple["PrecompiledQuery", Any, dict]], using: str = "default"):
    """The rows of several precompiled queries (`(query, key, values)` each) as model
    instances, one list per query: on PostgreSQL their statements go as one simple-protocol
    query (psycopg's client-side cursor, Django's default; services/ledger.py sends its lock
    and head so), one round trip for all, each read as it would have been alone."""
    compilers = [query._compiler(key, using, values) for query, key, values in reads]
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    ):
        return [list(_instances(compiler, using)) for compiler in compilers]
    statements, params = [], []
    for compiler in compilers:
        sql, compiled_params = compiler.as_sql()
        statements.append(sql)
        params.extend(compiled_params)
    answers = []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(statements), params)
        for n, compiler in enumerate(compilers):
            if n:
                cursor.nextset()
            answers.append(list(_instances(compiler, using, [cursor.fetchall()])))
    return answers


def _instances(compiler, using: str, results=None):
    """Model instances of the compiler's rows, as Django's ModelIterable makes them (of
    `results`, chunks of rows already read, when given)."""
    if results is None:
        results = compiler.execute_sql(MULTI)
    select, klass_info = compiler.select, compiler.klass_info
    annotation_col_map = compiler.annotation_col_map
    model_cls = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    compiled = getattr(compiler, "precompiled", None)
    if compiled is None:
        related_populators = get_related_populators(klass_info, select, using)
    else:
        # Built once per query and database: a populator keeps no state between rows (it
        # makes each related object from the row it is given), and the select list is fixed.
        related_populators = compiled.populators.get(using)
        if related_populators is None:
            related_populators = compiled.populators[using] = get_related_populators(
                klass_info, select, using
            )
    for row in compiler.results_iter(results):
        obj = model_cls.from_db(using, init_list, row[start:end])
        for populator in related_populators:
            populator.populate(row, obj)
        for attr_name, col_pos in (annotation_col_map or {}).items():
            setattr(obj, attr_name, row[col_pos])
        yield obj
