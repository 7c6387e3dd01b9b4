"""A list filter's day must have a midnight in every site's time zone: a day in year 1 or
year 9999 is refused naming the field (the incident list, search and API answered 500 before:
"year 10000 is out of range", and on SQLite an OverflowError for year 1 at a site east of
UTC), and the list shows nothing rather than everything."""

import pytest
from django.urls import reverse

from tests.incident_factories import draft

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = [
    {"date_to": "9999-12-31"},
    {"date_from": "9999-12-31"},
    {"date_from": "0001-01-01", "site": "ALPHA"},
    {"date_to": "0001-01-01"},
]


@pytest.mark.parametrize("query", OUT_OF_RANGE)
def test_the_incident_list_refuses_a_day_out_of_range_naming_the_field(personas, client_for, query):
    draft(personas, title="Ladder left on the roof")
    answer = client_for("guard_a").get(reverse("incident-list"), query)
    assert answer.status_code == 200
    body = answer.content.decode()
    assert "Choose a day between the years 2 and 9998." in body
    assert "Ladder left on the roof" not in body


@pytest.mark.parametrize("query", OUT_OF_RANGE)
def test_the_api_refuses_a_day_out_of_range_naming_the_field(personas, api_client_for, query):
    answer = api_client_for("guard_a").get("/api/v1/incidents/", query)
    assert answer.status_code == 400, answer.content
    field = "date_to" if "date_to" in query else "date_from"
    assert field in answer.json()


def test_the_first_and_last_days_in_range_are_taken(personas, client_for, api_client_for):
    """The legitimate path: the widest days allowed still list the incident."""
    draft(personas, title="Ladder left on the roof")
    query = {"date_from": "0002-01-01", "date_to": "9998-12-31", "site": "ALPHA"}
    page = client_for("guard_a").get(reverse("incident-list"), query)
    assert "Ladder left on the roof" in page.content.decode()
    answer = api_client_for("guard_a").get("/api/v1/incidents/", query)
    assert answer.status_code == 200
    assert [row["title"] for row in answer.json()["results"]] == ["Ladder left on the roof"]
