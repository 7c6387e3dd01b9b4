"""Lost and found over the API: record (201) then photo (multipart, by content), hand over
(200, then 409 naming `state`), dispose (409 inside the retention period, 200 after, guards
403); refused content is a 422 naming the field, an unknown field a 400; guards see their
site, the outsider nothing; the list costs the same for few or many items."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.models import FoundItem, FoundItemState
from facility_log.services import incidents as incident_svc
from tests.incident_factories import photo, seed_site_a_incident
from tests.onsite.lost_found_helpers import found_at_a, site_a_found_item

pytestmark = pytest.mark.django_db
ITEMS = "/api/v1/found-items/"


def _body(p, **change) -> dict:
    return {
        "site": "ALPHA",
        "description": "Blue rucksack",
        "found_at": timezone.now().isoformat(),
        "found_by": "Cleaner, night shift",
        "storage_location": "Gatehouse cupboard",
        "zone": p.zone_a.pk,
        "reason": "found on the round",
        **change,
    }


def test_record_add_photo_then_hand_over_once(personas, api_client_for):
    client = api_client_for("guard_a")
    answer = client.post(ITEMS, _body(personas), format="json")
    assert answer.status_code == 201, answer.content
    item = answer.json()
    assert (item["state"], item["recorded_by"], item["photo_url"]) == ("stored", "guard_a", None)
    url = f"{ITEMS}{item['id']}/"
    shot = client.post(
        f"{url}photo/", {"photo": photo(), "reason": "for the owner"}, format="multipart"
    )
    assert shot.status_code == 200, shot.content
    assert shot.json()["photo_content_type"] == "image/png"
    assert client.get(shot.json()["photo_url"]).status_code == 200
    again = client.post(f"{url}photo/", {"photo": photo(), "reason": "again"}, format="multipart")
    assert again.status_code == 409 and "photo" in again.json()
    given = client.post(
        f"{url}hand-over/",
        {"owner_name": "R. Owner", "owner_confirms": True, "reason": "owner came"},
        format="json",
    )
    assert given.status_code == 200, given.content
    assert (given.json()["state"], given.json()["left_by"]) == ("handed_over", "guard_a")
    twice = client.post(
        f"{url}hand-over/",
        {"owner_name": "Other", "owner_confirms": True, "reason": "again"},
        format="json",
    )
    assert twice.status_code == 409 and "no longer stored" in twice.json()["state"][0]
    assert FoundItem.objects.get().owner_name == "R. Owner"
    assert FoundItem.history.filter(id=item["id"]).count() == 3


def test_a_file_that_is_not_a_photo_is_a_422_naming_photo(personas, api_client_for):
    item = found_at_a(personas)
    page = SimpleUploadedFile("x.png", b"<html><script>alert(1)</script>", "image/png")
    answer = api_client_for("guard_a").post(
        f"{ITEMS}{item.pk}/photo/", {"photo": page, "reason": "x"}, format="multipart"
    )
    assert answer.status_code == 422 and "photo" in answer.json()
    item.refresh_from_db()
    assert not item.photo and item.history.count() == 1


def test_hand_over_without_confirmation_is_a_422(personas, api_client_for):
    item = found_at_a(personas)
    answer = api_client_for("guard_a").post(
        f"{ITEMS}{item.pk}/hand-over/",
        {"owner_name": "R. Owner", "owner_confirms": False, "reason": "x"},
        format="json",
    )
    assert answer.status_code == 422 and "owner_confirms" in answer.json()
    item.refresh_from_db()
    assert item.state == FoundItemState.STORED


def test_dispose_after_retention_by_supervisors_only(personas, api_client_for, settings):
    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "LOST_PROPERTY_DAYS": 30}
    young, old = found_at_a(personas, days_ago=10), found_at_a(personas, days_ago=31)
    body = {"reason": "given to charity"}
    guard = api_client_for("guard_a").post(f"{ITEMS}{old.pk}/dispose/", body, format="json")
    assert guard.status_code == 403
    supervisor = api_client_for("supervisor_a")
    early = supervisor.post(f"{ITEMS}{young.pk}/dispose/", body, format="json")
    assert early.status_code == 409 and "Kept until" in early.json()["state"][0]
    done = supervisor.post(f"{ITEMS}{old.pk}/dispose/", body, format="json")
    assert done.status_code == 200 and done.json()["disposal_reason"] == "given to charity"
    assert supervisor.get(f"{ITEMS}?state=stored").json()["results"][0]["id"] == young.pk


@pytest.mark.parametrize(
    "change, field",
    [
        ({"site": "CHARLIE"}, "site"),
        ({"zone": 0}, "zone"),
        ({"found_by": "   "}, "found_by"),
        ({"found_at": "2999-01-01T00:00:00Z"}, "found_at"),
        ("incident of B", "incident"),
    ],
)
def test_refused_content_is_a_422_naming_the_field(personas, api_client_for, change, field):
    if change == "incident of B":
        change = {"incident": _incident_at_b(personas).pk}
    answer = api_client_for("manager_ab").post(ITEMS, _body(personas, **change), format="json")
    assert answer.status_code == 422, answer.content
    assert field in answer.json()
    assert not FoundItem.objects.exists()


def _incident_at_b(p):
    incident, _ = incident_svc.create_incident(
        p.manager_ab,
        site=p.site_b,
        client_uuid=uuid.uuid4(),
        narrative="At B",
        occurred_from=timezone.now(),
    )
    return incident


def test_an_unknown_field_is_a_400(personas, api_client_for):
    answer = api_client_for("guard_a").post(
        ITEMS, _body(personas, owner_email="a@b.c"), format="json"
    )
    assert answer.status_code == 400 and "owner_email" in answer.json()
    assert not FoundItem.objects.exists()


def test_an_incident_of_the_site_is_linked(personas, api_client_for):
    incident = seed_site_a_incident(personas)
    answer = api_client_for("guard_a").post(
        ITEMS, _body(personas, incident=incident.pk), format="json"
    )
    assert answer.status_code == 201 and answer.json()["incident"] == incident.pk


def test_the_outsider_sees_and_does_nothing(personas, api_client_for):
    item = site_a_found_item(personas)
    client = api_client_for("outsider_c")
    listed = client.get(ITEMS)
    assert listed.status_code == 200 and listed.json()["results"] == []
    assert client.get(f"{ITEMS}{item.pk}/").status_code == 404
    assert client.get(f"{ITEMS}{item.pk}/photo/").status_code == 404
    for step, body in [
        ("hand-over/", {"owner_name": "x", "owner_confirms": True, "reason": "x"}),
        ("dispose/", {"reason": "x"}),
    ]:
        assert client.post(f"{ITEMS}{item.pk}/{step}", body, format="json").status_code == 404
    assert client.post(ITEMS, _body(personas), format="json").status_code == 422
    assert "ALPHA-UMBRELLA-SECRET" not in listed.content.decode()
    item.refresh_from_db()
    assert item.state == FoundItemState.STORED and FoundItem.objects.count() == 1


def test_members_of_the_site_see_it(personas, api_client_for):
    item = site_a_found_item(personas)
    for who in ("guard_a", "supervisor_a", "manager_ab"):
        results = api_client_for(who).get(ITEMS).json()["results"]
        assert [r["id"] for r in results] == [item.pk]


def test_pages_follow_the_cursor(personas, api_client_for):
    made = [found_at_a(personas, days_ago=d) for d in (1, 2, 3)]
    client = api_client_for("manager_ab")
    first = client.get(f"{ITEMS}?limit=2").json()
    second = client.get(first["next"]).json()
    seen = [r["id"] for r in first["results"] + second["results"]]
    assert seen == [m.pk for m in made] and second["next"] is None


def _fill(p, n: int) -> None:
    for _ in range(n):
        found_at_a(p, incident=None)


def test_the_list_costs_the_same_for_few_or_many(personas, api_client_for):
    client = api_client_for("manager_ab")
    _fill(personas, 2)
    client.get(ITEMS)
    with CaptureQueriesContext(connection) as few:
        assert client.get(ITEMS).status_code == 200
    _fill(personas, 12)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(ITEMS).json()["results"]) == 14
    assert len(many) == len(few)
