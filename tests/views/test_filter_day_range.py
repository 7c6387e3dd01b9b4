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


# Every other page and endpoint that takes a day: a form's field shows the message, a day in
# the path is a page that does not exist, the API answers 400 naming the field. None is a 500.
FORM_PAGES = [
    "/audit/views/?day_from={d}",
    "/audit/views/?day_to={d}",
    "/dashboard/?date_from={d}&date_to={d}",
    "/dashboard/?site=ALPHA&date_from={d}&date_to={d}",
    "/sites/ALPHA/rounds/report/?start={d}&end={d}",
]
PATH_DAYS = ["/sites/ALPHA/visitors/{d}/", "/sites/ALPHA/activity/{d}/"]
API_DAYS = [
    ("/api/v1/audit/view-log/?day_from={d}", "day_from"),
    ("/api/v1/audit/view-log/?day_to={d}", "day_to"),
    ("/api/v1/sites/ALPHA/rounds-compliance/?start={d}", "start"),
]
DAYS = ["9999-12-31", "0001-01-01"]
# Other spellings date.fromisoformat takes: a page's day is written one way only.
OTHER_SPELLINGS = ["20261201", "2026-W48-2", "2026-12-1 ", "2026-12-01T00"]


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("url", FORM_PAGES)
def test_a_form_page_says_which_day_is_out_of_range(client_for, url, day):
    answer = client_for("manager_ab").get(url.format(d=day))
    assert answer.status_code == 200
    assert "Choose a day between the years 2 and 9998." in answer.content.decode()


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("url", PATH_DAYS)
def test_a_day_out_of_range_in_the_path_is_no_page(client_for, url, day):
    assert client_for("manager_ab").get(url.format(d=day)).status_code == 404


@pytest.mark.parametrize("day", OTHER_SPELLINGS)
@pytest.mark.parametrize("url", PATH_DAYS)
def test_a_day_in_the_path_is_written_yyyy_mm_dd_or_no_page(client_for, url, day):
    assert client_for("manager_ab").get(url.format(d=day)).status_code == 404


@pytest.mark.parametrize("url", PATH_DAYS)
def test_a_day_in_the_path_written_yyyy_mm_dd_is_the_page(client_for, url):
    """The legitimate path: the same day written as the pages link it."""
    assert client_for("manager_ab").get(url.format(d="2026-12-01")).status_code == 200


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize(("url", "field"), API_DAYS)
def test_the_api_names_the_day_out_of_range(api_client_for, url, field, day):
    answer = api_client_for("manager_ab").get(url.format(d=day))
    assert answer.status_code == 400, answer.content
    assert field in answer.json()
