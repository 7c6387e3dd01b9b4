"""Keyset pages of the long lists (facility_log/paging.py): the event page and the event and
scan APIs walk every row once, newest first with the id breaking ties, stay put while rows
arrive, never count the list, and show the outsider nothing."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log import paging
from facility_log.models import AccessEvent
from facility_log.services.prepared import with_statements
from tests.access.helpers import door, ingest, row

URL = "/api/v1/access-events/"
PAGE = "/access/events/"
T0 = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)


def _load(site, zone, first: int, count: int, *, same_time_every: int = 3) -> None:
    """`count` events at `site`; every `same_time_every` share one time, so ties are many."""
    door(site, zone)
    rows = [
        row(
            line=n,
            external_id=f"k-{site.code}-{n}",
            occurred_at=(T0 + timedelta(minutes=n // same_time_every)).isoformat(),
        )
        for n in range(first, first + count)
    ]
    ingest(site, rows)


def _expected(*sites) -> list[int]:
    events = AccessEvent.objects.filter(site__in=sites).order_by("-occurred_at", "-id")
    return list(events.values_list("pk", flat=True))


def _walk_api(client, url: str) -> list[int]:
    seen = []
    while url:
        body = client.get(url).json()
        seen += [event["id"] for event in body["results"]]
        url = body["next"]
    return seen


@pytest.mark.django_db
def test_api_walk_covers_two_sites_once_each_newest_first_ties_by_id(personas, api_client_for):
    _load(personas.site_a, personas.zone_a, 0, 45)
    _load(personas.site_b, personas.zone_b, 0, 40)
    _load(personas.site_c, personas.zone_c, 0, 5)
    client = api_client_for("manager_ab")
    assert _walk_api(client, f"{URL}?limit=7") == _expected(personas.site_a, personas.site_b)
    assert _walk_api(client, f"{URL}?limit=7&site=BRAVO") == _expected(personas.site_b)
    outsider = api_client_for("outsider_c")
    assert _walk_api(outsider, f"{URL}?limit=2") == _expected(personas.site_c)


@pytest.mark.django_db
def test_api_previous_returns_the_page_before_and_new_rows_do_not_shift_pages(
    personas, api_client_for
):
    _load(personas.site_a, personas.zone_a, 0, 30)
    client = api_client_for("guard_a")
    first = client.get(f"{URL}?limit=10").json()
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    _load(personas.site_a, personas.zone_a, 100, 5)  # newer than everything shown
    third = client.get(second["next"]).json()
    assert [e["id"] for e in third["results"]] == _expected(personas.site_a)[25:35]
    back = client.get(third["previous"]).json()
    assert [e["id"] for e in back["results"]] == [e["id"] for e in second["results"]]
    before = client.get(back["previous"]).json()
    assert [e["id"] for e in before["results"]] == [e["id"] for e in first["results"]]
    top = client.get(before["previous"]).json()  # the five new rows: the first page again
    assert top["previous"] is None
    assert [e["id"] for e in top["results"]] == _expected(personas.site_a)[:10]


@pytest.mark.django_db
def test_api_refuses_a_forged_cursor_and_an_offset_naming_the_parameter(personas, api_client_for):
    _load(personas.site_a, personas.zone_a, 0, 3)
    client = api_client_for("guard_a")
    forged = client.get(f"{URL}?cursor=not-a-cursor")
    # A string, as the schema says, but not a cursor this server made: refused for content.
    assert forged.status_code == 422 and "cursor" in forged.json()
    offset = client.get(f"{URL}?offset=50")
    assert offset.status_code == 400 and "cursor" in str(offset.json()["offset"])
    assert client.get(f"{URL}?limit=0").status_code == 400
    assert len(client.get(f"{URL}?limit=100000").json()["results"]) == 3


@pytest.mark.django_db
def test_a_cursor_from_site_a_shows_the_outsider_nothing_of_site_a(
    personas, api_client_for, client_for
):
    _load(personas.site_a, personas.zone_a, 0, 5)
    newest = AccessEvent.objects.order_by("-occurred_at", "-id").first()
    cursor = paging.encode(paging.OLDER, newest.occurred_at + timedelta(days=1), 10**9)
    body = api_client_for("outsider_c").get(f"{URL}?cursor={cursor}").json()
    assert body["results"] == [] and body["next"] is None
    page = client_for("outsider_c").get(f"{PAGE}?cursor={cursor}")
    assert page.context["page"].rows == []


def _older_link(html: str) -> str | None:
    found = re.search(r'rel="next" href="\?([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.django_db
def test_event_page_older_links_walk_every_event_once(personas, client_for, settings):
    from facility_log.views import access as views

    settings.DEBUG = False
    _load(personas.site_a, personas.zone_a, 0, 25)
    _load(personas.site_b, personas.zone_b, 0, 20)
    client = client_for("manager_ab")
    original = views.EVENTS_PER_PAGE
    views.EVENTS_PER_PAGE = 10
    try:
        seen, query, pages = [], "", 0
        while query is not None:
            response = client.get(f"{PAGE}?{query}")
            seen += [e[0] for e in response.context["page"].rows]
            query = _older_link(response.content.decode())
            pages += 1
        assert pages == 5
        assert seen == _expected(personas.site_a, personas.site_b)
        second = client.get(f"{PAGE}?site=ALPHA&cursor={_cursor_after(seen, 9)}")
        assert "Newer" in second.content.decode() and "Newest" in second.content.decode()
    finally:
        views.EVENTS_PER_PAGE = original


def _cursor_after(pks: list[int], index: int) -> str:
    event = AccessEvent.objects.get(pk=pks[index])
    return paging.encode(paging.OLDER, event.occurred_at, event.pk)


@pytest.mark.django_db
def test_a_forged_cursor_on_the_page_shows_the_first_page(personas, client_for):
    _load(personas.site_a, personas.zone_a, 0, 3)
    response = client_for("guard_a").get(f"{PAGE}?cursor=%%%")
    assert response.status_code == 200
    assert [e[0] for e in response.context["page"].rows] == _expected(personas.site_a)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["guard_a", "manager_ab", "admin"])
def test_deep_pages_take_as_many_queries_as_the_first(personas, client_for, persona):
    _load(personas.site_a, personas.zone_a, 0, 40)
    _load(personas.site_b, personas.zone_b, 0, 40)
    client = client_for(persona)
    cursor = _cursor_after(_expected(personas.site_a), 30)

    def count(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = count(PAGE)
    assert count(f"{PAGE}?cursor={cursor}") == first
    _load(personas.site_a, personas.zone_a, 100, 60)
    assert count(f"{PAGE}?cursor={cursor}") == first
    # The one count left is the managers' "vendor types to map" box, over `other` events only.
    counts = [
        with_statements(q["sql"])
        for q in _captured(client, PAGE)
        if "COUNT(" in with_statements(q["sql"]).upper()
    ]
    assert all("'other'" in sql for sql in counts)


def _captured(client, url):
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return queries.captured_queries


@pytest.mark.django_db
def test_api_deep_pages_take_as_many_queries_as_the_first_and_never_count(personas, api_client_for):
    _load(personas.site_a, personas.zone_a, 0, 40)
    _load(personas.site_b, personas.zone_b, 0, 40)
    client = api_client_for("manager_ab")
    with CaptureQueriesContext(connection) as first:
        body = client.get(f"{URL}?limit=10").json()
    _load(personas.site_a, personas.zone_a, 100, 60)
    with CaptureQueriesContext(connection) as deep:
        client.get(body["next"])
    assert len(deep) == len(first)
    assert not any("COUNT(" in with_statements(q["sql"]).upper() for q in first.captured_queries)


@pytest.mark.django_db
def test_the_schema_declares_the_cursor_pages(personas, api_client_for):
    schema = api_client_for("manager_ab").get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/access-events/", "/api/v1/scans/"):
        get = schema["paths"][path]["get"]
        names = {p["name"] for p in get["parameters"]}
        assert {"cursor", "limit"} <= names and "offset" not in names
        ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schema["components"]["schemas"][ref.split("/")[-1]]
        assert {"next", "previous", "results"} <= set(page["properties"])
        assert "count" not in page["properties"]
    events = schema["paths"]["/api/v1/access-events/"]["get"]["responses"]["200"]
    ref = events["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert "sites" in schema["components"]["schemas"][ref]["properties"]
