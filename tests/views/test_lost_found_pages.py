"""Lost-and-found pages: a guard records a found item with a photo, the photo is served only
to the site's members, a guard hands it over with the owner's confirmation, a supervisor
disposes of an old one after a confirmation; the outsider reaches nothing; lists cost the
same for few or many items."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import FoundItem, FoundItemState
from tests.incident_factories import png_bytes, submitted
from tests.onsite.lost_found_helpers import found_at_a, site_a_found_item

pytestmark = pytest.mark.django_db


def test_a_guard_records_an_item_with_a_photo_and_hands_it_over(personas, client_for):
    incident = submitted(personas)
    client = client_for("guard_a")
    now = timezone.localtime(timezone.now(), personas.site_a.tzinfo)
    response = client.post(
        reverse("found-add", args=["ALPHA"]),
        {
            "description": "Blue rucksack",
            "zone": personas.zone_a.pk,
            "found_at": now.strftime("%Y-%m-%dT%H:%M"),
            "found_by": "Gina",
            "storage_location": "Gatehouse cupboard",
            "incident_number": incident.number,
            "photo": SimpleUploadedFile("bag.png", png_bytes(), content_type="image/png"),
            "reason": "found on the round",
        },
    )
    assert response.status_code == 302, response.content.decode()
    item = FoundItem.objects.get()
    assert item.incident == incident and item.photo_content_type == "image/png"
    photo = client.get(reverse("found-photo", args=["ALPHA", item.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert photo["X-Content-Type-Options"] == "nosniff"
    page = client.get(reverse("found-item", args=["ALPHA", item.pk])).content.decode()
    assert "The owner confirms receipt" in page and "Dispose of" not in page
    unconfirmed = client.post(
        reverse("found-item", args=["ALPHA", item.pk]),
        {"owner_name": "Ann Owner", "reason": "collected"},
    )
    assert "The owner must confirm receipt" in unconfirmed.content.decode()
    response = client.post(
        reverse("found-item", args=["ALPHA", item.pk]),
        {"owner_name": "Ann Owner", "owner_confirms": "on", "reason": "collected"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.owner_name) == (FoundItemState.HANDED_OVER, "Ann Owner")


def test_a_file_that_is_not_a_photo_is_refused_on_the_form(personas, client_for):
    html = (
        client_for("guard_a")
        .post(
            reverse("found-add", args=["ALPHA"]),
            {
                "description": "Phone",
                "found_at": "2026-01-01T10:00",
                "found_by": "Gina",
                "storage_location": "Desk",
                "photo": SimpleUploadedFile("x.png", b"<html>not a photo</html>"),
                "reason": "x",
            },
        )
        .content.decode()
    )
    assert "not a photo we can accept" in html
    assert not FoundItem.objects.exists()


def test_a_supervisor_disposes_of_an_item_due_after_a_confirmation(personas, client_for, settings):
    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "LOST_PROPERTY_DAYS": 30}
    old = found_at_a(personas, days_ago=40, description="Old scarf")
    found_at_a(personas, days_ago=2, description="New gloves")
    client = client_for("supervisor_a")
    due = client.get(reverse("found-due", args=["ALPHA"])).content.decode()
    assert "Old scarf" in due and "New gloves" not in due
    confirm = client.get(reverse("found-dispose", args=["ALPHA", old.pk])).content.decode()
    assert "Confirm: dispose of it" in confirm
    old.refresh_from_db()
    assert old.state == FoundItemState.STORED
    response = client.post(
        reverse("found-dispose", args=["ALPHA", old.pk]), {"reason": "given to charity"}
    )
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.state == FoundItemState.DISPOSED


@pytest.mark.parametrize("who", ["guard_a", "auditor_a"])
def test_guards_and_auditors_do_not_dispose(personas, client_for, who):
    item = found_at_a(personas, days_ago=400)
    client = client_for(who)
    assert client.get(reverse("found-due", args=["ALPHA"])).status_code == 403
    response = client.post(reverse("found-dispose", args=["ALPHA", item.pk]), {"reason": "x"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.state == FoundItemState.STORED


def test_the_outsider_gets_nothing(personas, client_for):
    item = site_a_found_item(personas)
    client = client_for("outsider_c")
    for name, args in [
        ("found-list", ["ALPHA"]),
        ("found-add", ["ALPHA"]),
        ("found-due", ["ALPHA"]),
        ("found-item", ["ALPHA", item.pk]),
        ("found-photo", ["ALPHA", item.pk]),
        ("found-dispose", ["ALPHA", item.pk]),
    ]:
        for method in ("get", "post"):
            response = getattr(client, method)(reverse(name, args=args))
            assert response.status_code in (403, 404), (name, method)
            assert b"ALPHA-UMBRELLA-SECRET" not in response.content
    # An item of site A is not reached through another site's address either.
    manager = client_for("manager_ab")
    assert manager.get(reverse("found-item", args=["BRAVO", item.pk])).status_code == 404


@pytest.mark.parametrize("name", ["found-list", "found-due"])
def test_lists_cost_the_same_for_few_or_many_items(personas, client_for, name, settings):
    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "LOST_PROPERTY_DAYS": 1}
    client = client_for("supervisor_a")
    url = reverse(name, args=["ALPHA"])
    for _ in range(2):
        found_at_a(personas, days_ago=5)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(12):
        found_at_a(personas, days_ago=5)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert page.content.decode().count("Black umbrella") == 14
    assert len(many) == len(few)
