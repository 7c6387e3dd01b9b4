"""The alarm console's reads (views/alarm_console.py): how many alarms are open per (site,
type), and which CONSOLE_LIMIT of them are the most urgent.

The console shows at most CONSOLE_LIMIT open alarms, by their live priority
(services/alarm_priorities.py), then newest; the counts above the list cover every open alarm
the filters keep, read from the counts the database keeps (services/alarm_counts.py). Open
alarms can pile up to thousands (a controller left raising them), so the shown ones are
picked per (site, type) from an index, not by sorting all (`most_urgent`), and only from the
pairs whose priority can reach the list (`_needed`).
"""

from collections.abc import Callable
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, F, Q

from facility_log.db_times import times_read_natively
from facility_log.models import Alarm, AlarmPriority, AlarmState, Door, EventType, Site
from facility_log.scoping import VIEW_ROLES, site_id_list, sites_for
from facility_log.services import alarm_counts, alarm_priorities
from facility_log.services.alarm_counts import OpenCount
from facility_log.services.precompiled import PrecompiledQuery, Slot, all_together
from facility_log.services.prepared import PreparedQuery, sql_prepared_by_text

CONSOLE_LIMIT = 100

_SITES = alarm_counts.by_sites(Site, field="pk", order=("code",))
_PRIORITIES = alarm_counts.by_sites(AlarmPriority)


def console_basics(user) -> tuple[list[Site], Callable[[int, str], int], list[OpenCount]]:
    """The user's sites (by code), the priority lookup of their alarm types and the open
    alarms counted per (site, type, state): what every console request reads first, read in
    one round trip (services/precompiled.py `all_together`) where one prepared read names
    the user's sites."""
    site_ids = site_id_list(user, VIEW_ROLES)
    slots = alarm_counts.site_slots(site_ids)
    if slots is None or not site_ids:
        sites = list(sites_for(user, VIEW_ROLES))
        ids = [site.pk for site in sites]
        lookup = alarm_priorities.priority_lookup(ids)
        return sites, lookup, alarm_counts.open_counts(ids)
    sites, priorities, counts = all_together(
        [(_SITES, None, slots), (_PRIORITIES, None, slots), (alarm_counts.COUNTS, None, slots)]
    )
    lookup = alarm_priorities.priority_lookup(site_ids, priorities)
    return sites, lookup, alarm_counts.open_counts(site_ids, counts)


def pair_counts(
    alarms, data: dict, site_ids: list[int], counts: list[OpenCount]
) -> dict[tuple[int, str], tuple[int, int]]:
    """(open alarms, of them new) per (site, type) among the filtered `alarms` (of
    `site_ids`, filtered by `data`): from the counts the database keeps
    (services/alarm_counts.py), or, filtered by a door, which those do not count by, from
    one grouped count of the door's open alarms."""
    found: dict[tuple[int, str], tuple[int, int]] = {}
    if data.get("door"):
        # Grouped by the index's leading columns (site, type), with the new ones counted
        # apart, the database aggregates in index order instead of hashing every alarm.
        grouped = alarms.order_by().values_list("site_id", "event_type")
        grouped = grouped.annotate(n=Count("id"), new=Count("id", filter=Q(state=AlarmState.NEW)))
        return {(site_id, kind): (n, new) for site_id, kind, n, new in grouped}
    for row in counts:
        if row.site_id not in site_ids:
            continue
        if data.get("type") and row.event_type != data["type"]:
            continue
        if data.get("state") and row.state != data["state"]:
            continue
        n, new = found.get((row.site_id, row.event_type), (0, 0))
        new += row.count if row.state == AlarmState.NEW else 0
        found[(row.site_id, row.event_type)] = (n + row.count, new)
    return found


def _needed(pairs: dict[tuple[int, str], int], sizes: dict[tuple[int, str], int]) -> dict:
    """The pairs that can hold one of the CONSOLE_LIMIT shown alarms: the whole of each
    priority level, most urgent first, until the levels taken hold CONSOLE_LIMIT alarms (a
    less urgent alarm is never shown before them)."""
    needed, held = {}, 0
    for level in sorted(set(pairs.values())):
        if held >= CONSOLE_LIMIT:
            break
        for pair, pair_level in pairs.items():
            if pair_level == level:
                needed[pair] = level
                held += sizes[pair]
    return needed


# Stand-ins for one (site, type) part's values, compiled once and replaced per pair.
_SITE_MARK, _TYPE_MARK = -987654321, "__alarm_console_type__"
# Alarms of these types may come from a panic button or a missed check-in, whose guard and
# checkpoint the items show; other types never do, and their rows need no such joins.
_PERSON_TYPES = frozenset({EventType.DURESS, EventType.MISSED_CHECK_IN})


def _part_query(alarms, site_id: int, event_type: str, page: bool = False):
    return _part_rows(alarms, site_id, event_type, page).query


def _part_rows(alarms, site_id: int, event_type: str, page: bool = False):
    """One pair's newest CONSOLE_LIMIT open alarms: their ids and times, or for the page
    every column the page shows (`ITEM_COLUMNS`, its door's and event's joined)."""
    newest = alarms.filter(site_id=site_id, event_type=event_type).order_by("-raised_at", "-id")
    if page:
        newest = newest.annotate(event_occurred_at=F("event__occurred_at"))
        newest = newest.values_list(*ITEM_COLUMNS, "event_occurred_at")
    else:
        newest = newest.values_list("id", "raised_at")
    return newest[:CONSOLE_LIMIT]


def _part(alarms, site_id: int, event_type: str, page: bool = False):
    return _part_query(alarms, site_id, event_type, page).sql_with_params()


def _parts(alarms, pairs: list, page: bool = False) -> list[tuple[str, list]]:
    """Each pair's part, its SQL compiled once with stand-ins in its two slots (compiling a
    part per pair was most of the console's query building). If a filter's own value equals
    a stand-in, each part is compiled on its own."""
    sql, params = _part(alarms, _SITE_MARK, _TYPE_MARK, page)
    slots = [n for n, value in enumerate(params) if value in (_SITE_MARK, _TYPE_MARK)]
    if len(slots) != 2 or {params[n] for n in slots} != {_SITE_MARK, _TYPE_MARK}:
        return [_part(alarms, site_id, event_type, page) for site_id, event_type in pairs]
    parts = []
    for site_id, event_type in pairs:
        values = list(params)
        for n in slots:
            values[n] = site_id if params[n] == _SITE_MARK else event_type
        parts.append((sql, values))
    return parts


def _part_build(key, **values):
    """`_part_query` as a precompiled query: the scoping's sites in slots (the site filter
    is a scope of one site), the state and door filters where `key` says they are set."""
    page, state, door, _limit = key
    ids = [values[f"site{n}"] for n in range(alarm_counts.PREPARED_SITES)]
    alarms = Alarm.objects.exclude(state=AlarmState.RESOLVED).filter(site__in=ids)
    if state:
        alarms = alarms.filter(state=values["state"])
    if door:
        alarms = alarms.filter(door__code=values["door"])
    return _part_rows(alarms, values["pair_site"], values["pair_type"], page)


_PART_SLOTS = {
    **{
        f"site{n}": Slot(alarm_counts.NO_SITE + n, Alarm._meta.get_field("site"))
        for n in range(alarm_counts.PREPARED_SITES)
    },
    "pair_site": Slot(_SITE_MARK, Alarm._meta.get_field("site")),
    "pair_type": Slot(_TYPE_MARK, Alarm._meta.get_field("event_type")),
    "state": Slot("__alarm_console_state__", Alarm._meta.get_field("state")),
    "door": Slot("__alarm_console_door__", Door._meta.get_field("code")),
}


class _Parts(PrecompiledQuery):
    """Each part's SQL compiled once per shape (page or feed, which filters are set)."""

    def sql(self, key, values: dict) -> tuple:
        compiler = self._compiler(key, "default", values)
        return compiler, *compiler.as_sql()


_PARTS = _Parts(lambda key, **values: _part_build(key, **values), _PART_SLOTS, strict=True)


def _precompiled_parts(site_ids: list[int], data: dict, pairs: list, page: bool):
    """(compiler of the first part, each pair's (SQL, values)) from `_PARTS`, or None where
    one prepared read does not name the sites."""
    slots = alarm_counts.site_slots(site_ids)
    if slots is None or not pairs:
        return None
    key = (page, bool(data.get("state")), bool(data.get("door")), CONSOLE_LIMIT)
    shared = {**slots}
    if data.get("state"):
        shared["state"] = data["state"]
    if data.get("door"):
        shared["door"] = data["door"]
    parts, first = [], None
    for site_id, event_type in pairs:
        values = {**shared, "pair_site": site_id, "pair_type": event_type}
        compiler, sql, params = _PARTS.sql(key, values)
        first = first or compiler
        parts.append((sql, list(params)))
    return first, parts


def most_urgent(
    alarms,
    site_ids: list[int],
    data: dict,
    pairs: dict[tuple[int, str], int],
    sizes: dict[tuple[int, str], int],
    sites: dict[int, Site],
    page: bool = False,
) -> list:
    """The CONSOLE_LIMIT alarms first by (priority, newest raised, newest id) among `alarms`,
    without sorting every open alarm: each (site, type) pair has one priority, so the newest
    CONSOLE_LIMIT of each pair (read in order from the `alarm_open_type` index) hold the
    answer, and one UNION ALL of those picks them. The feed then reads the picked alarms
    with their related rows (as a subquery of the union, PostgreSQL would join every alarm
    before matching the ids); for the page, each part reads the columns it shows, so the
    union gives the rows at once. `sites` (the user's, by id) are set on the rows instead
    of joined. `alarms` are the open alarms of `site_ids` filtered by `data` (the console's
    form): its parts are compiled once per shape where one prepared read names the sites,
    else from `alarms` on each request."""
    pairs = _needed(pairs, sizes)
    if not pairs:
        return []
    ordered = sorted(pairs.items())
    wanted = [pair for pair, _level in ordered]
    precompiled = _precompiled_parts(site_ids, data, wanted, page)
    compiler, each = precompiled if precompiled else (None, _parts(alarms, wanted, page))
    parts, params = [], []
    for n, ((sql, part_params), (_pair, level)) in enumerate(zip(each, ordered, strict=True)):
        # Only Django's own SQL for each part, and integers: nothing from the request.
        part = f"SELECT p{n}.*, {int(level)} AS priority FROM ({sql}) p{n}"  # noqa: S608
        parts.append(part)
        params.extend(part_params)
    top = (
        f"SELECT picked.* FROM ({' UNION ALL '.join(parts)}) picked"  # noqa: S608
        f" ORDER BY picked.priority, picked.raised_at DESC, picked.id DESC LIMIT {CONSOLE_LIMIT}"
    )
    # Planning this union took the database longer than running it (12 ms against 11 at
    # 100,000 alarms): prepared once per connection and text (services/prepared.py).
    # Its times are only shown, sorted and compared: read by psycopg's compiled loader
    # (facility_log/db_times.py), 200 of them for the page's 100 rows.
    with times_read_natively(connection.alias), connection.cursor() as cursor:
        cursor.execute(sql_prepared_by_text(connection, top, params), params)
        rows = [row[:-1] for row in cursor.fetchall()]  # without the priority
    persons = any(event_type in _PERSON_TYPES for _site, event_type in pairs)
    if page:
        alarms = _items_of(_converted(alarms, rows, compiler), persons)
    else:
        alarms = _picked([row[0] for row in rows], page, persons)
    for alarm in alarms:
        alarm.site = sites[alarm.site_id]
    return alarms


def _converted(alarms, rows: list[tuple], compiler=None) -> list[dict]:
    """The page's rows as Django reads the part's columns (its converters: SQLite's times
    are text), named; through a part's `compiler` when there is one."""
    if compiler is None:
        query = _part_query(alarms, _SITE_MARK, _TYPE_MARK, True)
        compiler = query.get_compiler(connection.alias)
        compiler.setup_query()
    names = [*ITEM_COLUMNS, "event_occurred_at"]
    return [dict(zip(names, row, strict=True)) for row in compiler.results_iter([rows])]


class _Door(NamedTuple):
    code: str
    name: str


class ConsoleItem:
    """A door's alarm as the console page shows it, read as plain columns: building a model
    instance with its door for each of 100 alarms was a quarter of the page's time. Carries
    what `{% alarm_console_items %}` reads of an `Alarm` (the page's `event_occurred_at`
    included); the view adds the priority and `can_acknowledge`, `_most_urgent` the site."""

    __slots__ = (
        "pk",
        "site_id",
        "site",
        "door_id",
        "door",
        "event_type",
        "state",
        "raised_at",
        "event_occurred_at",
        "panic_id",
        "where",
        "priority",
        "priority_label",
        "priority_class",
        "can_acknowledge",
    )

    def __init__(self, row: dict):
        self.pk, self.site_id, self.door_id = row["id"], row["site_id"], row["door_id"]
        self.door = _Door(row["door__code"], row["door__name"])
        self.event_type, self.state, self.raised_at = (
            row["event_type"],
            row["state"],
            row["raised_at"],
        )
        self.event_occurred_at, self.panic_id = row["event_occurred_at"], None
        self.where = self.door.name


ITEM_COLUMNS = (
    "id",
    "site_id",
    "door_id",
    "door__code",
    "door__name",
    "event_type",
    "state",
    "raised_at",
    "panic_id",
    "missed_check_in_id",
)


def _items_of(rows: list[dict], persons: bool) -> list:
    """The page's picked alarms: door alarms as `ConsoleItem`s of their columns; a panic
    button's or a missed check-in's (which show their guard) read as the feed reads them."""
    items = [ConsoleItem(row) for row in rows if row["door_id"] is not None]
    people = [row["id"] for row in rows if row["door_id"] is None]
    return items + (_picked(people, True, persons) if people else [])


def _picked_query(key, **ids):
    """The picked alarms' read for `key` (page, persons, how many): for the page a door
    alarm's event time only, for the feed its event; the panic and missed check-in joins
    only when a picked type can come from a person."""
    page, persons, count = key
    related = ["door"] if page else ["door", "event"]
    if persons:
        related += ["panic__guard", "panic__last_checkpoint", "missed_check_in__shift__guard"]
    read = Alarm.objects.select_related(*related).order_by()
    read = read.filter(pk__in=[ids[f"id{n}"] for n in range(count)])
    return read.annotate(event_occurred_at=F("event__occurred_at")) if page else read


# Compiled once per process per (page, persons, number of ids) (services/precompiled.py):
# compiling the read with its joins cost about a millisecond per console request. The ids
# are those the scoped UNION picked; the stand-ins are negative, so no alarm's id.
_PICKED: dict[int, PreparedQuery] = {}
_ID_MARK = -(2**31) + 1000


def _picked(ids: list[int], page: bool, persons: bool) -> list[Alarm]:
    if not ids:
        return []
    query = _PICKED.get(len(ids))
    if query is None:
        field = Alarm._meta.pk
        slots = {f"id{n}": Slot(_ID_MARK + n, field) for n in range(len(ids))}
        query = _PICKED[len(ids)] = PreparedQuery(_picked_query, slots)
    return query.all((page, persons, len(ids)), **{f"id{n}": pk for n, pk in enumerate(ids)})
