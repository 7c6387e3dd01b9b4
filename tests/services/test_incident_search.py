"""Incident text search: any part of a word, in any case, in the number, title, location or
narrative; only at the sites the user holds a role at (pages and API alike); answered from the
trigram index on PostgreSQL (migration 0011)."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from facility_log.models import Incident
from facility_log.services import incidents as svc
from tests.incident_factories import category, draft, submitted


def _create_at(personas, site, zone, author, narrative: str, **fields):
    incident, _ = svc.create_incident(
        author,
        site=site,
        zone=zone,
        client_uuid=uuid.uuid4(),
        category=category(),
        narrative=narrative,
        **fields,
    )
    return incident


@pytest.fixture
def world(personas):
    ladder = submitted(
        personas,
        narrative="A ladder was found against the north fence at 02:10.",
        title="Ladder at the fence",
        location_text="North fence, section 4",
    )
    gate = draft(personas, narrative="Gate B found open; closed it.", title="Gate open")
    depot = _create_at(
        personas,
        personas.site_b,
        personas.zone_b,
        personas.manager_ab,
        "Ladder stolen from the depot yard.",
    )
    lab = _create_at(
        personas,
        personas.site_c,
        personas.zone_c,
        personas.outsider_c,
        "Ladder left in the lab corridor.",
    )
    return {"ladder": ladder, "gate": gate, "depot": depot, "lab": lab}


def _found(user, text: str) -> set[int]:
    return set(svc.search_incidents(user, {"text": text}).values_list("pk", flat=True))


@pytest.mark.django_db
def test_search_finds_part_of_a_word_in_any_case(personas, world):
    assert _found(personas.guard_a, "LADD") == {world["ladder"].pk}
    assert _found(personas.guard_a, "enc") == {world["ladder"].pk}  # "fence"
    assert _found(personas.guard_a, "gate b") == {world["gate"].pk}


@pytest.mark.django_db
def test_search_looks_in_number_title_and_location(personas, world):
    number = world["ladder"].number
    assert _found(personas.guard_a, number) == {world["ladder"].pk}
    assert _found(personas.guard_a, number[-4:]) == {world["ladder"].pk}
    assert _found(personas.guard_a, "section 4") == {world["ladder"].pk}  # location only
    assert _found(personas.guard_a, "Gate open") == {world["gate"].pk}  # title
    assert _found(personas.guard_a, "zeppelin") == set()


@pytest.mark.django_db
def test_search_stays_within_the_users_sites(personas, world):
    assert _found(personas.manager_ab, "ladder") == {world["ladder"].pk, world["depot"].pk}
    assert _found(personas.guard_a, "ladder") == {world["ladder"].pk}
    assert _found(personas.outsider_c, "ladder") == {world["lab"].pk}
    assert _found(personas.outsider_c, "fence") == set()
    assert _found(personas.outsider_c, world["ladder"].number) == set()


@pytest.mark.django_db
def test_search_page_and_api_show_the_outsider_nothing_of_other_sites(
    personas, world, client_for, api_client_for
):
    page = client_for("outsider_c").get("/incidents/", {"text": "fence"})
    assert page.status_code == 200
    assert world["ladder"].number not in page.content.decode()
    api = api_client_for("outsider_c").get("/api/v1/incidents/", {"text": "ladd"})
    assert api.status_code == 200
    assert [row["id"] for row in api.json()["results"]] == [world["lab"].pk]
    manager = api_client_for("manager_ab").get("/api/v1/incidents/", {"text": "ladd"})
    found = {row["id"] for row in manager.json()["results"]}
    assert found == {world["ladder"].pk, world["depot"].pk}


@pytest.mark.django_db
def test_search_query_count_does_not_grow_with_matches(personas, api_client_for):
    client = api_client_for("manager_ab")
    for n in range(2):
        draft(personas, narrative=f"Ladder number {n}")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/incidents/", {"text": "ladder"}).status_code == 200
    for n in range(6):
        draft(personas, narrative=f"Another ladder {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/incidents/", {"text": "ladder"})
    assert len(response.json()["results"]) == 8  # one keyset page, no count
    assert len(many) == len(few)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_postgresql_answers_the_search_from_the_trigram_index(personas, world):
    # The search's own expression and lookup, without the site filter (whose index the
    # planner may prefer at this size).
    query = Incident.objects.alias(search_text=svc.search_document())
    query = query.filter(search_text__icontains="ladder").values("pk")
    sql, params = query.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # With so few rows the planner would rather read the table; forbid that to see
        # whether the index fits the search's expression at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "incident_search_trgm" in plan, plan
