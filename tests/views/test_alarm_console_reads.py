"""The alarm console's reads (views/alarm_console.py): the per-(site, type) parts of its
UNION are compiled once with stand-ins and give exactly the SQL and values each part
compiled alone gives; the items show the same whichever joins the picked types need."""

import pytest
from django.urls import reverse

from facility_log.models import Alarm, AlarmState
from facility_log.views import alarm_console
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
        alone = [alarm_console._part(alarms, site, kind) for site, kind in pairs]
        assert _same(alarm_console._parts(alarms, pairs)) == _same(alone)
        assert alone[0][1] != alone[1][1]


def test_a_filter_value_equal_to_a_stand_in_compiles_each_part_alone(personas):
    pairs = [(personas.site_a.pk, "forced_open"), (personas.site_a.pk, "held_open")]
    alarms = _open([personas.site_a.pk]).filter(door__code=alarm_console._TYPE_MARK)
    parts = alarm_console._parts(alarms, pairs)
    assert _same(parts) == _same(alarm_console._part(alarms, s, k) for s, k in pairs)
    assert [params.count(alarm_console._TYPE_MARK) for _sql, params in parts] == [1, 1]


def test_console_shows_door_alarms_without_person_joins_and_counts_states(
    personas, client_for, django_assert_max_num_queries
):
    first = forced_open_at(personas.site_a, personas.zone_a, external_id="f1").alarm
    forced_open_at(personas.site_a, personas.zone_a, external_id="f2")
    client = client_for("supervisor_a")
    client.post(reverse("access-alarm-acknowledge", args=[first.pk]), {"note": "seen"})
    response = client.get(reverse("access-alarm-console"))
    counts = response.context["counts"]
    assert (counts["total"], counts["new"], counts["acknowledged"]) == (2, 1, 1)
    assert [a.site for a in response.context["alarms"]] == [personas.site_a] * 2
    with django_assert_max_num_queries(12) as captured:
        client.get(reverse("access-alarm-console"))
    read = next(
        q["sql"] for q in captured.captured_queries if '"facility_log_alarm"."id" IN' in q["sql"]
    )
    assert "panicalert" not in read and "facility_log_site" not in read.split("WHERE")[0]
