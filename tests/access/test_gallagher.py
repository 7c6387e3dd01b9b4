"""Gallagher Command Centre as it really is: types mapped by id and group from Gallagher's
published event groups, events from sources that are not doors skipped and counted, and times
without an offset read in the site's zone only when the manager says so."""

import io
import json

import pytest

from facility_log.models import AccessEvent, Alarm, DoorExternalId, ImportBatch
from facility_log.services import access, access_ingest
from facility_log.services.access_formats import open_text, read_gallagher_json
from facility_log.services.verify import verify_audit
from tests.access.helpers import SAMPLES, door

# (type id, type name, group id, group name) → (neutral type, denial reason): real Command
# Centre types (see docs/integrations.md for where they come from).
REAL_TYPES = [
    (("20001", "Door Access Granted", "23", "Card Event"), ("granted", "")),
    (("20003", "Card Exit Granted", "23", "Card Event"), ("granted", "")),
    (("23029", "Button Release Granted", "27", "Non-Card Door Unlock"), ("granted", "")),
    (("20013", "No Zone Privilege", "18", "Access Denied"), ("denied", "no_access_rights")),
    (("20012", "No access at this time", "18", "Access Denied"), ("denied", "out_of_schedule")),
    # A denial type the table does not name still lands in `denied` through its group.
    (("20157", "Offline Access Denied", "18", "Access Denied"), ("denied", "")),
    (("23035", "Forced Door", "29", "Forced Door"), ("forced_open", "")),
    (("23032", "Door Open Too Long", "28", "Door Open Too Long"), ("held_open", "")),
    (("20004", "DURESS, Entry OK", "19", "Duress"), ("duress", "")),
    (("23030", "Unit Tampered", "1", "Tamper"), ("tamper", "")),
    (("23031", "Door Opened", "26", "Door Status"), ("door_opened", "")),
]


def _event(number: int, type_id, type_name, group_id, group_name, source="D-1", **extra):
    event = {
        "href": f"https://cc.example.org:8904/api/events/{number}",
        "id": str(number),
        "time": "2026-03-28T22:00:00Z",
        "message": type_name,
        "source": {"id": source, "name": f"Door {source}"},
        "group": {"id": group_id, "name": group_name},
        "type": {"id": type_id, "name": type_name},
        "card": {"number": "12345678", "facilityCode": "A1"},
        "cardholder": {"name": "Bruce, Jennifer"},
    }
    event.update(extra)
    return event


def _page(events) -> io.TextIOWrapper:
    raw = json.dumps({"events": events, "next": {"href": "https://cc/api/events?pos=9"}})
    return open_text(io.BytesIO(raw.encode()))


def _import(site, actor, stream, **kwargs) -> access_ingest.IngestResult:
    return access_ingest.ingest_events(
        site,
        actor,
        read_gallagher_json(stream),
        channel=ImportBatch.Channel.FILE,
        vendor="gallagher",
        **kwargs,
    )


@pytest.fixture
def site(personas):
    door(personas.site_a, personas.zone_a, "D-1")
    return personas.site_a


@pytest.mark.django_db
def test_real_gallagher_types_import_with_the_right_kinds(site, personas):
    events = [_event(100 + i, *names) for i, (names, _kind) in enumerate(REAL_TYPES)]
    result = _import(site, personas.manager_ab, _page(events))
    assert result.created == len(REAL_TYPES)
    stored = {e.external_id: (e.event_type, e.reason) for e in AccessEvent.objects.all()}
    for i, (names, kind) in enumerate(REAL_TYPES):
        assert stored[str(100 + i)] == kind, names
    assert set(AccessEvent.objects.values_list("vendor_type", flat=True)) == {
        names[1] for names, _kind in REAL_TYPES
    }
    assert verify_audit().intact


@pytest.mark.django_db
def test_a_forced_door_raises_exactly_one_alarm(site, personas):
    forced = _event(7, "23035", "Forced Door", "29", "Forced Door")
    _import(site, personas.manager_ab, _page([forced]))
    _import(site, personas.manager_ab, _page([forced]))  # the same page again
    event = AccessEvent.objects.get(external_id="7")
    assert event.event_type == "forced_open"
    alarm = Alarm.objects.get()
    assert (alarm.event_id, alarm.event_type, alarm.state) == (event.pk, "forced_open", "new")


@pytest.mark.django_db
def test_a_page_with_a_workstation_event_imports_its_door_events_and_reports_the_skip(
    site, personas
):
    published = json.loads((SAMPLES / "gallagher-published-example.json").read_text())
    workstation = published["events"][0]  # Gallagher's own example: an operator logon failure
    page = [
        _event(1, "20001", "Door Access Granted", "23", "Card Event"),
        workstation,
        _event(2, "20013", "No Zone Privilege", "18", "Access Denied"),
    ]
    result = _import(site, personas.manager_ab, _page(page), per_item=True)
    assert (result.total, result.created) == (3, 2)
    assert result.skipped == {"FT Workstation on GNZ-PC1439": 1}
    assert result.statuses == ["created", "skipped", "created"]
    assert "1 event(s) skipped from sources that are not doors" in result.skipped_summary()
    assert not AccessEvent.objects.filter(external_id="61320").exists()
    # The batch records the events given to it to store; the skipped one is in the result.
    assert ImportBatch.objects.get().total == 2


@pytest.mark.django_db
def test_gallagher_published_example_alone_stores_nothing_and_says_why(site, personas):
    with (SAMPLES / "gallagher-published-example.json").open("rb") as binary:
        result = _import(site, personas.manager_ab, open_text(binary))
    assert (result.created, result.skipped) == (0, {"FT Workstation on GNZ-PC1439": 1})
    assert AccessEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_door_event_from_an_unknown_door_is_still_refused_with_its_line(site, personas):
    page = [
        _event(1, "20001", "Door Access Granted", "23", "Card Event"),
        _event(2, "23035", "Forced Door", "29", "Forced Door", source="745"),
    ]
    with pytest.raises(access.IngestRefused) as refused:
        _import(site, personas.manager_ab, _page(page))
    assert [(e.line, e.column) for e in refused.value.errors] == [(2, "source.id")]
    assert AccessEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_door_known_by_its_gallagher_id_is_found(site, personas):
    front = door(site, personas.zone_a, "D-FRONT")
    access.add_door_external_id(
        front, personas.manager_ab, source="gallagher", external_id="745", reason="CC door 745"
    )
    _import(
        site,
        personas.manager_ab,
        _page([_event(9, "20001", "Door Access Granted", "23", "x", source="745")]),
    )
    assert AccessEvent.objects.get().door_id == front.pk
    assert DoorExternalId.objects.count() == 1


@pytest.mark.django_db
def test_times_without_offset_are_refused_unless_the_manager_says_site_time(site, personas):
    site.time_zone = "Europe/Berlin"
    site.save()
    naive = _event(
        5, "20001", "Door Access Granted", "23", "Card Event", time="2026-03-28T23:00:00"
    )
    with pytest.raises(access.IngestRefused) as refused:
        _import(site, personas.manager_ab, _page([naive]))
    (error,) = refused.value.errors
    assert (error.line, error.column) == (1, "time")
    assert "has no offset" in error.message
    _import(site, personas.manager_ab, _page([naive]), site_time=True)
    stored = AccessEvent.objects.get()
    assert stored.occurred_at.isoformat() == "2026-03-28T22:00:00+00:00"  # CET is UTC+1


@pytest.mark.django_db
def test_the_upload_page_reports_the_skipped_events_and_offers_site_time(personas, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from tests.access.helpers import sample_doors

    sample_doors(personas.site_a, personas.zone_a)
    client = client_for("manager_ab")
    assert b'name="site_time"' in client.get(reverse("access-import")).content
    name = "gallagher-events.json"
    upload = SimpleUploadedFile(name, (SAMPLES / name).read_bytes())
    response = client.post(
        reverse("access-import"),
        {"site": personas.site_a.code, "file_format": "gallagher-json", "file": upload},
        follow=True,
    )
    assert response.status_code == 200
    assert b"4 event(s) skipped from sources that are not doors: Controller 1 (4)" in (
        response.content
    )
    assert AccessEvent.objects.filter(site=personas.site_a).count() == 296
