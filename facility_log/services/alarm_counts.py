"""The open alarms counted per (site, type, state): read for the console, checked by
`verify_audit`.

The counts are kept by the database (models/access/alarms.py `OpenAlarmCount`, triggers of
migration 0032) in the same transaction as each write of an alarm, so reading them costs a
few rows however many alarms are open; counting the open alarms on every console request
took 9 ms of database time at 100,000 of them (docs/performance.md). They are derived: the
alarms hold the truth, and `count_problems` recounts them and names every difference.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count

from facility_log.models import Alarm, AlarmState, OpenAlarmCount
from facility_log.services.ledger import Problem
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery

# The most sites one prepared read names; a user of more sites reads through the ORM.
PREPARED_SITES = 16
NO_SITE = -(2**31) + 2000  # stand-ins for the unused site slots: no site has a negative id


@dataclass(frozen=True)
class OpenCount:
    """How many alarms of a site and type are open in a state."""

    site_id: int
    event_type: str
    state: str
    count: int


def by_sites(model, field: str = "site", **options) -> PreparedQuery:
    """`model`'s rows of up to PREPARED_SITES sites (`site_slots(site_ids)`), unordered, with
    `filter` added: prepared once, whatever the number of sites."""

    def build(key, **sites):
        ids = [sites[f"site{n}"] for n in range(PREPARED_SITES)]
        rows = model.objects.filter(**{f"{field}__in": ids}, **options.get("filter", {}))
        return rows.order_by(*options.get("order", ()))

    target = model._meta.get_field(field) if field != "pk" else model._meta.pk
    return PreparedQuery(
        build, {f"site{n}": Slot(NO_SITE + n, target) for n in range(PREPARED_SITES)}
    )


def site_slots(site_ids: list[int]) -> dict[str, int] | None:
    """The values of `by_sites` slots for `site_ids` (the unused ones no site's id); None
    for more sites than one prepared read names."""
    if len(site_ids) > PREPARED_SITES:
        return None
    padded = [*site_ids, *(NO_SITE + n for n in range(len(site_ids), PREPARED_SITES))]
    return {f"site{n}": pk for n, pk in enumerate(padded)}


COUNTS = by_sites(OpenAlarmCount, filter={"count__gt": 0})


def open_counts(site_ids: list[int], rows: list[OpenAlarmCount] | None = None) -> list[OpenCount]:
    """The non-zero counts of open alarms of `site_ids`, in no particular order (of `rows`,
    read by `COUNTS` together with other reads, when given)."""
    if rows is None:
        slots = site_slots(site_ids)
        if not site_ids:
            rows = []
        elif slots is None:
            rows = OpenAlarmCount.objects.filter(site_id__in=site_ids, count__gt=0)
        else:
            rows = COUNTS.all(None, **slots)
    return [OpenCount(r.site_id, r.event_type, r.state, r.count) for r in rows]


def recount(site_ids: list[int] | None = None) -> dict[tuple[int, str, str], int]:
    """The open alarms counted from the alarms themselves, per (site, type, state)."""
    alarms = Alarm.objects.exclude(state=AlarmState.RESOLVED)
    if site_ids is not None:
        alarms = alarms.filter(site_id__in=site_ids)
    grouped = alarms.order_by().values_list("site_id", "event_type", "state")
    return {(site, kind, state): n for site, kind, state, n in grouped.annotate(n=Count("id"))}


def count_problems(high_water: dict | None = None) -> Iterator[Problem]:
    """Each (site, type, state) whose kept count differs from the alarms counted now. Always
    the whole table (a checkpoint does not bound it): one grouped count of the open alarms."""
    kept = {
        (site, kind, state): n
        for site, kind, state, n in OpenAlarmCount.objects.values_list(
            "site_id", "event_type", "state", "count"
        )
    }
    counted = recount()
    for key in sorted(set(kept) | set(counted)):
        have, want = kept.get(key, 0), counted.get(key, 0)
        if have != want:
            site, kind, state = key
            yield Problem(
                None,
                f"open alarm count (site {site}, {kind}, {state})",
                f"says {have}, the alarms hold {want} (changed behind the database's triggers)",
            )
