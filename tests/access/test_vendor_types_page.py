"""The page where managers map the vendor types stored as `other`: scoped to their sites, with
reason and history; the mapping applies to new events only; the outsider gets nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import AccessEvent, VendorTypeMapping
from facility_log.services.prepared import with_statements
from tests.access.helpers import door, ingest, row

URL = "/access/vendor-types/"


def _gallagher(site, zone, number: int, type_name: str = "Fence Breach"):
    """A Gallagher event whose type neither the defaults nor a mapping know."""
    door(site, zone)
    ingest(
        site,
        [
            row(
                line=number,
                source="gallagher",
                external_id=f"g-{site.code}-{number}",
                vendor="gallagher",
                vendor_type=type_name,
                vendor_type_id="40001",
                vendor_group_id="71",
            )
        ],
        vendor="gallagher",
    )


@pytest.fixture
def unmapped(personas):
    for n in range(3):
        _gallagher(personas.site_a, personas.zone_a, n)
    _gallagher(personas.site_c, personas.zone_c, 9, "Secret C Type")
    return personas


@pytest.mark.django_db
def test_a_manager_sees_unmapped_types_of_their_sites_with_counts(unmapped, client_for):
    page = client_for("manager_ab").get(URL)
    assert page.status_code == 200
    rows = [
        (r["site__code"], r["source"], r["vendor_type"], r["events"]) for r in page.context["rows"]
    ]
    assert rows == [(unmapped.site_a.code, "gallagher", "Fence Breach", 3)]
    assert b"Secret C Type" not in page.content


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["outsider_c", "guard_a", "supervisor_a"])
def test_people_who_manage_no_site_get_nothing(unmapped, client_for, name):
    client = client_for(name)
    assert client.get(URL).status_code == 403
    posted = client.post(URL, _mapping(unmapped.site_a.code))
    assert posted.status_code == 403
    assert not VendorTypeMapping.objects.filter(site__isnull=False).exists()


def _mapping(site_code: str, **extra) -> dict:
    data = {
        "site": site_code,
        "vendor": "gallagher",
        "vendor_type": "Fence Breach",
        "neutral_type": "tamper",
        "denial_reason": "",
        "reason": "Our fence controller reports cut wires this way",
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_mapping_a_type_applies_to_new_events_with_reason_and_history(unmapped, client_for):
    response = client_for("manager_ab").post(URL, _mapping(unmapped.site_a.code))
    assert response.status_code == 302
    mapping = VendorTypeMapping.objects.get(site=unmapped.site_a)
    assert (mapping.vendor_type, mapping.neutral_type) == ("Fence Breach", "tamper")
    history = mapping.history.get()
    assert history.history_user == unmapped.manager_ab
    assert "cut wires" in history.history_change_reason
    _gallagher(unmapped.site_a, unmapped.zone_a, 7)
    new = AccessEvent.objects.get(external_id=f"g-{unmapped.site_a.code}-7")
    assert new.event_type == "tamper"
    old = AccessEvent.objects.get(external_id=f"g-{unmapped.site_a.code}-0")
    assert old.event_type == "other"  # stored events are never edited
    # Another site keeps its own choice: site B's next event of that type is still `other`.
    _gallagher(unmapped.site_b, unmapped.zone_b, 8)
    assert AccessEvent.objects.get(external_id=f"g-{unmapped.site_b.code}-8").event_type == "other"
    page = client_for("manager_ab").get(URL)
    assert b"for new events" in page.content


@pytest.mark.django_db
def test_a_manager_cannot_map_for_a_site_they_do_not_manage(unmapped, client_for):
    response = client_for("manager_ab").post(URL, _mapping(unmapped.site_c.code))
    assert response.status_code == 200
    assert response.context["form"].errors["site"]
    assert not VendorTypeMapping.objects.filter(site__isnull=False).exists()


@pytest.mark.django_db
def test_a_mapping_needs_a_reason_and_a_coherent_denial_reason(unmapped, client_for):
    client = client_for("manager_ab")
    assert client.post(URL, _mapping(unmapped.site_a.code, reason="")).status_code == 200
    bad = client.post(URL, _mapping(unmapped.site_a.code, denial_reason="expired"))
    assert bad.context["form"].errors["denial_reason"]
    assert not VendorTypeMapping.objects.filter(site__isnull=False).exists()


@pytest.mark.django_db
def test_the_page_query_count_does_not_grow_with_types(personas, client_for):
    client = client_for("manager_ab")
    _gallagher(personas.site_a, personas.zone_a, 1, "Type 1")
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for n in range(2, 8):
        _gallagher(personas.site_a, personas.zone_a, n, f"Type {n}")
        _gallagher(personas.site_b, personas.zone_b, n, f"Type {n}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(URL)
    assert len(page.context["rows"]) == 13
    assert len(many) == len(few)


def test_the_page_is_linked_from_the_access_navigation():
    assert reverse("access-vendor-types") == URL


@pytest.mark.django_db
def test_unmapped_types_read_from_site_instances_equal_those_read_from_ids(unmapped):
    from facility_log.services import access_mapping

    sites = [unmapped.site_a, unmapped.site_b]
    by_sites = access_mapping.unmapped_vendor_types(sites)
    by_ids = access_mapping.unmapped_vendor_types([site.pk for site in sites])
    assert by_sites == by_ids and [r["vendor_type"] for r in by_sites] == ["Fence Breach"]


@pytest.mark.django_db
def test_the_event_list_reads_no_mapping_until_a_type_is_unmapped(personas, client_for):
    """The event list passes its Site instances (no second read of their codes); with nothing
    unmapped neither the counts nor any mapping are read (the sites' read says so), with one
    the page lists it (two reads more: the counts and the mappings)."""
    _gallagher(personas.site_c, personas.zone_c, 9, "Secret C Type")
    door(personas.site_a, personas.zone_a)
    ingest(personas.site_a, [row(line=50, external_id="granted-a")])  # events in both reads
    client = client_for("manager_ab")
    with CaptureQueriesContext(connection) as none:
        page = client.get("/access/events/")
    assert page.context["unmapped"] == []
    reads = [with_statements(q["sql"]) for q in none.captured_queries]
    assert not any("facility_log_vendortypemapping" in sql for sql in reads)
    assert not any("COUNT(*)" in sql for sql in reads)
    assert not any('SELECT "facility_log_site"."id" AS "pk"' in sql for sql in reads)
    _gallagher(personas.site_a, personas.zone_a, 1)
    with CaptureQueriesContext(connection) as one:
        page = client.get("/access/events/")
    assert [r["vendor_type"] for r in page.context["unmapped"]] == ["Fence Breach"]
    assert b"Fence Breach" in page.content and b"Secret C Type" not in page.content
    assert len(one) == len(none) + 2
    outsider = client_for("outsider_c").get("/access/events/")
    assert outsider.context["unmapped"] == [] and b"Fence Breach" not in outsider.content
