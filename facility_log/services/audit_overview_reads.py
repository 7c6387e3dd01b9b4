"""The audit overview's reads, in one round trip, by statements compiled once per process.

The overview shows the latest check, the ledger's head, the last checkpoint, and the latest
disclosures and record views of the auditor's sites: five small reads, each built and
compiled through the ORM and sent on its own on every request. Here each is compiled once
(services/precompiled.py; the two lists once per number of sites, with sentinels in the
places of the site ids) and the five go together (services/read_together.py: one request
on PostgreSQL, one after the other elsewhere). The rows are the ORM's: the same statements
with the request's values.

The site ids are the caller's, from scoping.site_id_list, put in the statements through
`scoping.scoped_to_ids`; nothing here knows the user. Over MAX_SITES sites (a superuser at a
large installation) the lists are read through the ORM as before.
"""

from dataclasses import dataclass

from django.db import router
from django.db.models import QuerySet

from facility_log.models import AuditCheck, Disclosure, LedgerCheckpoint, LedgerEntry, RecordView
from facility_log.scoping import scoped_to_ids
from facility_log.services import read_together
from facility_log.services.ledger import GENESIS_HASH
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery

MAX_SITES = 16
DISCLOSURES = 50
VIEWS = 20

# Within 32 bits and negative: no site's id (Django compiles an out-of-range integer to no
# query); distinct from the other precompiled statements' sentinels.
_SITE_SLOTS = {
    f"site{n}": Slot(-(2**31) + 12_000 + n, RecordView._meta.get_field("site"))
    for n in range(MAX_SITES)
}


@dataclass(frozen=True)
class Overview:
    """What the overview shows besides its form: lists of tuples of the asked columns."""

    check: AuditCheck | None
    checkpoint: LedgerCheckpoint | None
    head: tuple[int, str]
    disclosures: list
    views: list


def _disclosures(site_ids: list, columns: tuple) -> QuerySet:
    """The latest disclosures at `site_ids` (Disclosure's order: newest first)."""
    rows = scoped_to_ids(Disclosure.objects.all(), site_ids).values_list(*columns)
    return rows[:DISCLOSURES]


def _views(site_ids: list, columns: tuple) -> QuerySet:
    """The latest record views at `site_ids`, by id."""
    rows = scoped_to_ids(RecordView.objects.all(), site_ids).values_list(*columns)
    return rows.order_by("-pk")[:VIEWS]


def _listed(build):
    """A precompiled list keyed by (number of sites, columns)."""

    def compile_with(key, **sentinels):
        count, columns = key
        return build([sentinels[f"site{n}"] for n in range(count)], columns)

    return PreparedQuery(compile_with, _SITE_SLOTS)


_CHECK = PreparedQuery(lambda key: AuditCheck.objects.select_related("requested_by")[:1], {})
_CHECKPOINT = PreparedQuery(lambda key: LedgerCheckpoint.objects.order_by("-seq", "-pk")[:1], {})
_HEAD = PreparedQuery(
    lambda key: LedgerEntry.objects.order_by("-seq").values_list("seq", "hash")[:1], {}
)
_DISCLOSURES = _listed(_disclosures)
_VIEWS = _listed(_views)


def overview(site_ids: list, disclosure_columns: tuple, view_columns: tuple) -> Overview:
    """The overview's reads for the sites of `site_ids` (scoping.site_id_list's, not empty):
    the latest check (as audit_checks.latest_check), the last checkpoint (as
    ledger_seal.latest_checkpoint), the head (as ledger.ledger_head), the latest disclosures
    and record views as tuples of the given columns."""
    using = router.db_for_read(RecordView)
    statements = {
        "check": _CHECK.statement(None, using=using),
        "checkpoint": _CHECKPOINT.statement(None, using=using),
        "head": _HEAD.statement(None, using=using),
    }
    compiled = len(site_ids) <= MAX_SITES
    if compiled:
        ids = {f"site{n}": site_id for n, site_id in enumerate(site_ids)}
        statements["disclosures"] = _DISCLOSURES.statement(
            (len(site_ids), disclosure_columns), using=using, **ids
        )
        statements["views"] = _VIEWS.statement((len(site_ids), view_columns), using=using, **ids)
    fetched, _tail = read_together.fetch(statements, using)

    def first(name):
        found = PrecompiledQuery.instances_of(statements[name][0], fetched[name], using)
        return found[0] if found else None

    def tuples(name):
        return list(statements[name][0].results_iter([fetched[name]], tuple_expected=True))

    head = tuples("head")
    if compiled:
        disclosures, views = tuples("disclosures"), tuples("views")
    else:
        disclosures = list(_disclosures(site_ids, disclosure_columns))
        views = list(_views(site_ids, view_columns))
    return Overview(
        check=first("check"),
        checkpoint=first("checkpoint"),
        head=head[0] if head else (0, GENESIS_HASH),
        disclosures=disclosures,
        views=views,
    )
