"""`scoping.get_scoped_with_roles` of one record by its id, its read compiled once per process.

A detail page reads its record scoped to the reader's sites, with the related records it
shows (select_related), and the roles the reader holds at its site. Django builds and
compiles that read on every request, which costs more Python time than the database takes to
answer it. A `ScopedGet` compiles it once per shape (services/precompiled.py): the scoping
is `scoping.scoped()`'s own, applied to a stand-in user with a sentinel id, as a superuser
("all": unfiltered) or a member of sites ("member": the memberships subquery, the reader's
id in the sentinel's place); the answers are those of `get_scoped_with_roles`: 404 unless the
reader holds a role at the record's site (or cannot act at all), 403 unless one of `roles`.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.http import Http404

from facility_log.scoping import (
    ANY_ROLE,
    can_act,
    is_unrestricted,
    require_role,
    roles_at,
    scoped,
    site_of,
)
from facility_log.services import read_together
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery

# Sentinels no real id equals, within a 32-bit id's range (Django compiles them to parameters).
_PK_SENTINEL = -(2**31) + 61
_USER_SENTINEL = -(2**31) + 62
# Beyond a bigint no record's id: answered as any unknown id (the ORM sends no query).
_ID_LIMIT = 2**63


class ScopedGet:
    """`get(user, pk, roles)`: the record of `queryset()` with primary key `pk`, scoped
    through its `site_field`, and the roles `user` holds at its site. `queryset` builds the
    same queryset on every call (the shape compiled once per process)."""

    def __init__(self, queryset: Callable[[], QuerySet], site_field: str = "site"):
        self._site_field = site_field
        model = queryset().model
        self._model = model

        def build(key: str, *, pk, user_id) -> QuerySet:
            stand_in = get_user_model()(pk=user_id, is_active=True, is_superuser=key == "all")
            rows = scoped(queryset().filter(pk=pk), stand_in, ANY_ROLE, site_field)
            return rows.order_by()[:2]

        self._query = PreparedQuery(
            build,
            {
                "pk": Slot(_PK_SENTINEL, model._meta.pk),
                "user_id": Slot(_USER_SENTINEL, get_user_model()._meta.pk),
            },
        )

    def get(self, user, pk: int, roles) -> tuple[Model, set[str]]:
        found, held, _row = self.get_with(user, pk, roles)
        return found, held

    def get_with(
        self, user, pk: int, roles, tail: tuple[str, list] | None = None
    ) -> tuple[Model, set[str], tuple | None]:
        """`get`, and the row of `tail`, (sql, params) of one more statement returning one
        row, sent in the same round trip as the record's read on PostgreSQL
        (`read_together.fetch`); None elsewhere, or if no read was sent. Sent only with the
        read: for no one who cannot act, whatever the answer."""
        key = "all" if is_unrestricted(user) else "member" if can_act(user) else None
        found, row = None, None
        if key is not None and -_ID_LIMIT <= pk < _ID_LIMIT:
            values = {"pk": pk} if key == "all" else {"pk": pk, "user_id": user.pk}
            if tail is None:
                found = self._query.first(key, **values)
            else:
                statement = self._query.statement(key, **values)
                fetched, row = read_together.fetch({"record": statement}, tail=tail)
                rows = self._query.instances_of(statement[0], fetched["record"])
                found = rows[0] if rows else None
        if found is None:
            raise Http404(f"No {self._model._meta.verbose_name} found.")
        site = site_of(found, self._site_field)
        held = roles_at(user, site)
        if not held & set(roles):
            require_role(user, site, roles)  # refuses, naming the roles wanted
        return found, held, row
