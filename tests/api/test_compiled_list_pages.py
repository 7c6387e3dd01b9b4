"""The API lists' pages read by statements compiled once send exactly what the ORM's
reads send: the incident and access event cursor pages in one statement
(facility_log/services/keyset_rows.py), the runs' and shifts' count and slice
(facility_log/api/offset_rows.py), sent together on PostgreSQL. The same bytes on every
page, both ways, for callers of one site, two sites or every site (a superuser), with a search
text full of LIKE wildcards; the same errors; and the outsider gets nothing. On SQLite the
cursor pages are read through the ORM."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.api import offset_rows, shifts
from facility_log.api.access import events as event_views
from facility_log.api.incidents import views as incident_views
from facility_log.api.rounds import runs
from facility_log.services import keyset_rows
from facility_log.services.precompiled import CompiledShapes
from tests.api.test_row_lists import world  # noqa: F401 - the rows of every list
from tests.incident_factories import draft
from tests.sql_text import statements_of

pytestmark = pytest.mark.django_db

VIEWS = (
    incident_views.IncidentViewSet,
    event_views.AccessEventViewSet,
    runs.RunViewSet,
    shifts.ShiftViewSet,
)
URLS = [
    "/api/v1/incidents/",
    "/api/v1/incidents/?limit=2",
    "/api/v1/incidents/?text=ladder",
    "/api/v1/incidents/?text=50%25_o",
    "/api/v1/incidents/?text=%25",
    "/api/v1/incidents/?text=",
    "/api/v1/incidents/?limit=3&text=draft",
    "/api/v1/access-events/",
    "/api/v1/access-events/?limit=3",
    "/api/v1/runs/",
    "/api/v1/runs/?limit=2",
    "/api/v1/runs/?limit=1&offset=2",
    "/api/v1/runs/?offset=500",
    "/api/v1/shifts/",
    "/api/v1/shifts/?limit=2&offset=1",
]
PEOPLE = ["manager_ab", "guard_a", "admin", "outsider_c"]
POSTGRES = connection.vendor == "postgresql"


def _walk(client, url: str) -> list[tuple[int, bytes]]:
    """Status and body of `url`, of the pages `next` leads to, then of `previous` links back."""
    answers = []
    for _ in range(6):
        response = client.get(url)
        answers.append((response.status_code, response.content))
        following = response.status_code == 200 and response.json().get("next")
        if not following:
            break
        url = following
    for _ in range(6):
        back = response.status_code == 200 and response.json().get("previous")
        if not back:
            break
        response = client.get(back)
        answers.append((response.status_code, response.content))
    return answers


def _through_the_orm(monkeypatch):
    for view in VIEWS:
        monkeypatch.setattr(view, "read_compiled_page", lambda self, columns: None)


@pytest.fixture
def hostile(world):  # noqa: F811
    draft(world, title="Sale: 50%_off at gate 3")
    draft(world, title="Sale: 50 percent off")
    return world


@pytest.mark.parametrize("name", PEOPLE)
def test_a_compiled_page_sends_the_orms_bytes(hostile, api_client_for, monkeypatch, name):
    client = api_client_for(name)
    for url in URLS:
        compiled = _walk(client, url)
        with monkeypatch.context() as m:
            _through_the_orm(m)
            orm = _walk(client, url)
        assert compiled == orm, (name, url)
        assert all(status == 200 for status, _body in compiled), (name, url)


def test_the_pages_are_walked_and_the_wildcards_are_only_text(hostile, api_client_for):
    client = api_client_for("manager_ab")
    pages = _walk(client, "/api/v1/incidents/?limit=2")
    assert len(pages) == 6 + 5  # six pages forward (there are more), five back
    found = client.get("/api/v1/incidents/?text=50%25_o").json()["results"]
    assert [i["title"] for i in found] == ["Sale: 50%_off at gate 3"]
    assert client.get("/api/v1/incidents/?text=%25").json()["results"]
    assert not client.get("/api/v1/incidents/?text=zz%25zz").json()["results"]


def test_the_outsider_gets_nothing_of_another_site(hostile, api_client_for):
    client = api_client_for("outsider_c")
    for url in URLS:
        assert client.get(url).json()["results"] == [], url


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/incidents/?cursor=bm9wZQ",
        "/api/v1/incidents/?offset=2",
        "/api/v1/incidents/?limit=0",
        "/api/v1/access-events/?cursor=x",
        "/api/v1/access-events/?limit=abc",
        "/api/v1/incidents/?text=a&status=nope",
        "/api/v1/runs/?limit=0",
        "/api/v1/runs/?offset=-1",
        "/api/v1/shifts/?limit=1.5",
        "/api/v1/shifts/?open=maybe",
    ],
)
def test_bad_parameters_get_the_same_errors(world, api_client_for, monkeypatch, url):  # noqa: F811
    client = api_client_for("manager_ab")
    compiled = client.get(url)
    with monkeypatch.context() as m:
        _through_the_orm(m)
        orm = client.get(url)
    assert compiled.status_code == orm.status_code >= 400
    assert compiled.content == orm.content


def _statements(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return statements_of(captured)


@pytest.mark.skipif(not POSTGRES, reason="SQLite cannot order and limit inside a union")
def test_a_page_is_one_statement_on_postgresql(world, api_client_for):  # noqa: F811
    client = api_client_for("manager_ab")
    for url in ("/api/v1/incidents/", "/api/v1/incidents/?text=ladder", "/api/v1/access-events/"):
        client.get(url)
        table = "incident" if "incidents" in url else "accessevent"
        reads = [s for s in _statements(client, url) if f'FROM "facility_log_{table}"' in s]
        assert len(reads) == 1, reads
        assert "UNION ALL" in reads[0]


@pytest.mark.skipif(POSTGRES, reason="the ORM's read is SQLite's")
def test_sqlite_reads_through_the_orm(world, api_client_for):  # noqa: F811
    client = api_client_for("manager_ab")
    client.get("/api/v1/incidents/")
    assert not incident_views._PAGES.shapes
    assert "UNION" not in " ".join(_statements(client, "/api/v1/incidents/"))


def test_beyond_the_shapes_it_may_keep_a_page_goes_through_the_orm(
    world,  # noqa: F811
    api_client_for,
    monkeypatch,
):
    client = api_client_for("manager_ab")
    expected = client.get("/api/v1/incidents/?limit=7").content
    monkeypatch.setattr(keyset_rows, "MAX_SHAPES", 0)
    monkeypatch.setattr(incident_views._PAGES, "shapes", CompiledShapes())
    assert client.get("/api/v1/incidents/?limit=7").content == expected
    assert not incident_views._PAGES.shapes


@pytest.mark.skipif(not POSTGRES, reason="pages are compiled on PostgreSQL only")
def test_beyond_the_shapes_it_keeps_the_least_recently_used_is_forgotten(
    world,  # noqa: F811
    api_client_for,
    monkeypatch,
):
    """A worker that has seen more shapes than it keeps still compiles the ones in use (it
    sent every later shape the ORM way before), and reads the same bytes."""
    client = api_client_for("manager_ab")
    urls = [f"/api/v1/incidents/?limit={n}" for n in (5, 6, 7, 5)]
    expected = [client.get(url).content for url in urls]
    monkeypatch.setattr(keyset_rows, "MAX_SHAPES", 2)
    monkeypatch.setattr(incident_views._PAGES, "shapes", CompiledShapes())
    for url, content in zip(urls, expected, strict=True):
        assert client.get(url).content == content
        assert any("UNION ALL" in s for s in _statements(client, url))
    assert [shape.size for shape in incident_views._PAGES.shapes] == [8, 6]  # size + 1


def test_runs_and_shifts_are_counted_by_the_compiled_count(world, api_client_for):  # noqa: F811
    client = api_client_for("manager_ab")
    for url, table in (("/api/v1/runs/", "run"), ("/api/v1/shifts/", "shift")):
        client.get(url)
        statements = _statements(client, url)
        counts = [s for s in statements if f'COUNT("facility_log_{table}"."id")' in s]
        assert len(counts) == 1, statements
        reads = [s for s in statements if f'FROM "facility_log_{table}"' in s]
        # On PostgreSQL the count and the page go in one round trip; elsewhere one by one.
        assert len(reads) == (1 if POSTGRES else 2), statements
        listed = client.get(url).json()
        assert listed["count"] == len(listed["results"]) > 0


def test_beyond_the_slices_it_may_keep_a_page_is_read_through_the_orm(
    world,  # noqa: F811
    api_client_for,
    monkeypatch,
):
    client = api_client_for("manager_ab")
    expected = client.get("/api/v1/runs/?limit=2&offset=1").content
    monkeypatch.setattr(offset_rows, "MAX_SHAPES", 0)
    monkeypatch.setattr(runs._PAGES, "shapes", CompiledShapes())
    assert client.get("/api/v1/runs/?limit=2&offset=1").content == expected
    assert not runs._PAGES.shapes


@pytest.mark.parametrize("name", PEOPLE)
def test_an_empty_or_passed_page_is_what_the_orm_sends(world, api_client_for, monkeypatch, name):  # noqa: F811
    """The slice is read with the count even where the count says there is nothing to read
    (no runs at the caller's sites, an offset past the end): the same answer as the ORM's."""
    client = api_client_for(name)
    for url in ("/api/v1/runs/?offset=999", "/api/v1/shifts/?offset=3&limit=500"):
        compiled = client.get(url)
        with monkeypatch.context() as m:
            _through_the_orm(m)
            orm = client.get(url)
        assert (compiled.status_code, compiled.content) == (orm.status_code, orm.content)
