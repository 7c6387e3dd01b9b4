"""The alarm console's reads (views/alarm_console.py): the per-(site, type) parts of its
UNION are compiled once with stand-ins and give exactly the SQL and values each part
compiled alone gives; the items show the same whichever joins the picked types need."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import Alarm, AlarmState
from facility_log.services import alarm_console_reads
from facility_log.services.prepared import with_statements
from facility_log.templatetags.facility_log_tags import site_time
from tests.access.helpers import forced_open_at

pytestmark = pytest.mark.django_db


def _same(parts) -> list:
    return [(sql, list(params)) for sql, params in parts]


def _open(site_ids):
    return Alarm.objects.exclude(state=AlarmState.RESOLVED).filter(site_id__in=site_ids)


def test_parts_compiled_once_equal_each_part_compiled_alone(personas):
    pairs = [(personas.site_a.pk, "forced_open"), (personas.site_b.pk, "duress")]
    for alarms in (
        _open([personas.site_a.pk, personas.site_b.pk]),
        _open([personas.site_a.pk]).filter(door__code="D-1", state=AlarmState.NEW),
    ):
        alone = [alarm_console_reads._part(alarms, site, kind) for site, kind in pairs]
        assert _same(alarm_console_reads._parts(alarms, pairs)) == _same(alone)
        assert alone[0][1] != alone[1][1]


def test_a_filter_value_equal_to_a_stand_in_compiles_each_part_alone(personas):
    pairs = [(personas.site_a.pk, "forced_open"), (personas.site_a.pk, "held_open")]
    alarms = _open([personas.site_a.pk]).filter(door__code=alarm_console_reads._TYPE_MARK)
    parts = alarm_console_reads._parts(alarms, pairs)
    assert _same(parts) == _same(alarm_console_reads._part(alarms, s, k) for s, k in pairs)
    assert [params.count(alarm_console_reads._TYPE_MARK) for _sql, params in parts] == [1, 1]


def test_console_shows_door_alarms_without_event_or_person_joins_in_constant_queries(
    personas, client_for
):
    first = forced_open_at(personas.site_a, personas.zone_a, external_id="f1").alarm
    forced_open_at(personas.site_a, personas.zone_a, external_id="f2")
    client = client_for("supervisor_a")
    client.post(reverse("access-alarm-acknowledge", args=[first.pk]), {"note": "seen"})
    response = client.get(reverse("access-alarm-console"))
    counts = response.context["counts"]
    assert (counts["total"], counts["new"], counts["acknowledged"]) == (2, 1, 1)
    assert [a.site for a in response.context["alarms"]] == [personas.site_a] * 2
    when = site_time(first.event.occurred_at, personas.site_a)
    assert f'<span class="help">{when} · ' in response.content.decode()
    with CaptureQueriesContext(connection) as two:
        client.get(reverse("access-alarm-console"))
    for n in range(3, 6):
        forced_open_at(personas.site_a, personas.zone_a, external_id=f"f{n}")
    with CaptureQueriesContext(connection) as five:
        html = client.get(reverse("access-alarm-console")).content.decode()
    assert len(two) == len(five) and html.count("data-id=") == 5
    # The page's union reads the columns it shows: no second read of the picked alarms.
    texts = [with_statements(q["sql"]) for q in five.captured_queries]
    assert not any('"facility_log_alarm"."id" IN' in text for text in texts)
    read = next(text for text in texts if ") picked" in text)
    joined = read.split("WHERE")[0]
    assert "panicalert" not in joined and "facility_log_site" not in joined
    assert (
        "facility_log_accessevent" in joined
        and '"facility_log_accessevent"."cardholder"' not in read
    )
    # The feed still reads each alarm's event with it (its JSON shows more of it).
    alarms = client.get(reverse("access-alarm-feed")).json()["alarms"]
    assert len(alarms) == 5 and when in {a["occurred_at"] for a in alarms}


def test_the_precompiled_read_of_the_picked_alarms_equals_the_orm_read(personas):
    """`_picked` (compiled once per page/persons/count) reads the same rows, with the same
    related rows and the page's event time, as the queryset it was compiled from, and new
    ids each time (the stand-ins replaced, never read)."""
    from django.db.models import F

    alarms = [
        forced_open_at(personas.site_a, personas.zone_a, external_id=f"p{n}").alarm
        for n in range(3)
    ]
    ids = [alarm.pk for alarm in alarms]
    for page in (True, False):
        for persons in (True, False):
            for chosen in (ids, ids[:2], ids[2:]):
                ours = sorted(
                    alarm_console_reads._picked(chosen, page, persons), key=lambda a: a.pk
                )
                related = ["door"] if page else ["door", "event"]
                if persons:
                    related += ["panic__guard", "missed_check_in__shift__guard"]
                orm = Alarm.objects.select_related(*related).filter(pk__in=chosen).order_by("pk")
                if page:
                    orm = orm.annotate(event_occurred_at=F("event__occurred_at"))
                orm = list(orm)
                assert [a.pk for a in ours] == sorted(chosen)
                for mine, theirs in zip(ours, orm, strict=True):
                    assert mine.__dict__.keys() - {"_state"} == theirs.__dict__.keys() - {"_state"}
                    assert mine.door.code == theirs.door.code and mine.state == theirs.state
                    assert mine.raised_at == theirs.raised_at
                    if page:
                        assert mine.event_occurred_at == theirs.event_occurred_at
                    else:
                        assert mine.event.occurred_at == theirs.event.occurred_at
                    assert mine.panic is None and mine.missed_check_in is None
    assert alarm_console_reads._picked([], True, True) == []


def test_the_priority_lookup_reads_the_sites_own_rows_without_joining_sites(personas):
    from facility_log.services import alarm_priorities

    a, b = personas.site_a.pk, personas.site_b.pk
    alarm_priorities.set_alarm_priority(
        personas.site_a, personas.manager_ab, event_type="tamper", priority=1, reason="vault"
    )
    with CaptureQueriesContext(connection) as read:
        priority = alarm_priorities.priority_lookup([a, b])
    assert len(read) == 1 and "facility_log_site" not in read.captured_queries[0]["sql"]
    assert priority(a, "tamper") == 1
    assert priority(b, "tamper") == alarm_priorities.default_priority("tamper") != 1
    assert alarm_priorities.priority_lookup([b])(a, "tamper") != 1  # another site's row unread


@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "manager_ab", "outsider_c", "admin"])
def test_the_consoles_first_reads_in_one_trip_equal_the_separate_reads(personas, who):
    from facility_log.models import EventType
    from facility_log.scoping import VIEW_ROLES, sites_for
    from facility_log.services import alarm_counts, alarm_priorities

    alarm_priorities.set_alarm_priority(
        personas.site_b, personas.manager_ab, event_type="tamper", priority=1, reason="vault"
    )
    forced_open_at(personas.site_a, personas.zone_a, external_id="f1")
    forced_open_at(personas.site_b, personas.zone_b, external_id="f2")
    forced_open_at(personas.site_c, personas.zone_c, external_id="f3")
    user = getattr(personas, who)
    sites, lookup, counts = alarm_console_reads.console_basics(user)
    assert sites == list(sites_for(user, VIEW_ROLES))
    ids = [site.pk for site in sites]
    expected = alarm_priorities.priority_lookup(ids)
    everywhere = [personas.site_a.pk, personas.site_b.pk, personas.site_c.pk]
    assert [lookup(s, t) for s in everywhere for t in EventType.values] == [
        expected(s, t) for s in everywhere for t in EventType.values
    ]
    assert set(counts) == set(alarm_counts.open_counts(ids))
    assert {c.site_id for c in counts} == set(ids)  # each persona's sites hold one alarm
    with CaptureQueriesContext(connection) as read:
        alarm_console_reads.console_basics(user)
    # The memberships (or, for a superuser, every site's id), then one trip for the rest.
    assert len(read) == (2 if connection.vendor == "postgresql" else 4), read.captured_queries
