"""Doors from the set-up pages: a manager adds a door and its Kisi id; events sent with that
id then find the door."""

import pytest
from django.urls import reverse

from facility_log.models import Door, DoorExternalId

pytestmark = pytest.mark.django_db


def test_a_manager_adds_a_door_with_its_kisi_id_and_kisi_events_find_it(personas, client_for):
    client = client_for("manager_ab")
    listing = client.get(reverse("access-door-list")).content.decode()
    assert reverse("door-add", args=["ALPHA"]) in listing
    response = client.post(
        reverse("door-add", args=["ALPHA"]),
        {"zone": personas.zone_a.pk, "code": "D-DOCK", "name": "Loading dock", "reason": "new"},
    )
    assert response.status_code == 302
    door = Door.objects.get(code="D-DOCK")
    response = client.post(
        reverse("door-id-add", args=[door.pk]),
        {"source": "kisi", "external_id": " 48213 ", "reason": "Kisi lock of the dock"},
    )
    assert response.status_code == 302
    link = DoorExternalId.objects.get(door=door)
    assert (link.source, link.external_id) == ("kisi", "48213")
    assert link.history.latest().history_change_reason == "Kisi lock of the dock"
    assert "kisi: 48213" in client.get(reverse("access-door-list")).content.decode()
    # An event from Kisi naming lock 48213 lands on the new door.
    from facility_log.models import AccessEvent
    from tests.access.helpers import ingest, row

    ingest(personas.site_a, [row(source="kisi", door="48213", external_id="k-1")])
    assert AccessEvent.objects.get().door == door


def test_door_form_errors_are_named_and_nothing_is_saved(personas, client_for):
    client = client_for("manager_ab")
    url = reverse("door-add", args=["ALPHA"])
    html = client.post(
        url, {"zone": personas.zone_b.pk, "code": "bad code!", "name": "", "reason": "x"}
    ).content.decode()
    assert "Select a valid choice" in html and "letters, digits" in html
    client.post(url, {"zone": personas.zone_a.pk, "code": "D-1", "name": "One", "reason": "x"})
    html = client.post(
        url, {"zone": personas.zone_a.pk, "code": "D-1", "name": "Again", "reason": "x"}
    ).content.decode()
    assert "already exists" in html
    assert Door.objects.count() == 1


@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "outsider_c"])
def test_only_managers_add_doors_and_ids(personas, client_for, who):
    from tests.access.helpers import door as make_door

    door = make_door(personas.site_a, personas.zone_a)
    client = client_for(who)
    response = client.post(
        reverse("door-add", args=["ALPHA"]),
        {"zone": personas.zone_a.pk, "code": "D-X", "name": "X", "reason": "x"},
    )
    assert response.status_code in (403, 404)
    response = client.post(
        reverse("door-id-add", args=[door.pk]),
        {"source": "kisi", "external_id": "1", "reason": "x"},
    )
    assert response.status_code in (403, 404)
    assert Door.objects.count() == 1 and not DoorExternalId.objects.exists()
    assert "Add an id…" not in client.get(reverse("access-door-list")).content.decode()


def test_a_manager_switches_an_alarm_type_off_for_one_door(personas, client_for):
    from facility_log.models import Alarm, AlarmRule
    from tests.access.helpers import door as make_door
    from tests.access.helpers import ingest, row

    dock = make_door(personas.site_a, personas.zone_a, code="D-DOCK")
    client = client_for("manager_ab")
    url = reverse("alarm-rules", args=["ALPHA"])
    assert "No rules yet" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "event_type": "held_open",
            "door": dock.pk,
            "escalate_after_minutes": "10",
            "reason": "propped open for deliveries",
        },
    )
    assert response.status_code == 302
    rule = AlarmRule.objects.get()
    assert (rule.door, rule.is_active) == (dock, False)
    assert rule.history.latest().history_change_reason == "propped open for deliveries"
    ingest(personas.site_a, [row(door="D-DOCK", event_type="held_open", external_id="h1")])
    assert not Alarm.objects.exists()
    html = client.post(url, {"event_type": "nope", "escalate_after_minutes": "-1", "reason": "x"})
    assert "Select a valid choice" in html.content.decode()
    assert AlarmRule.objects.count() == 1


@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "outsider_c"])
def test_only_managers_set_alarm_rules(personas, client_for, who):
    from facility_log.models import AlarmRule

    client = client_for(who)
    url = reverse("alarm-rules", args=["ALPHA"])
    assert client.get(url).status_code in (403, 404)
    client.post(url, {"event_type": "tamper", "escalate_after_minutes": "5", "reason": "x"})
    assert not AlarmRule.objects.exists()
