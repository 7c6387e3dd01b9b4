"""Every route that returns a person, a statement or an attachment writes exactly one view-log
row naming the route; the outsider's refused read writes none."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import AccessEvent, LedgerEntry, RecordView
from facility_log.services import view_log
from facility_log.services.ledger import stored_row_digest
from facility_log.services.prepared import with_statements
from facility_log.services.verify import verify_audit
from tests.access.helpers import door, ingest, row
from tests.cross_site import shifts_at_a
from tests.incident_factories import seed_site_a_incident
from tests.sql_text import each_statement

CARDHOLDER = "Jane Roe"


def _cardholder_events(p) -> None:
    door(p.site_a, p.zone_a)
    ingest(p.site_a, [row(line=n, external_id=f"jr-{n}", cardholder=CARDHOLDER) for n in (2, 3)])


def _read_routes(p) -> list[tuple[str, str, str, str, dict, int | None]]:
    """(what, page or api, method, url, data, rows expected in the log row) per read route."""
    incident = seed_site_a_incident(p)
    attachment = incident.attachments.get()
    shift = shifts_at_a(p).ended
    day = f"{shift.started_at.astimezone(p.site_a.tzinfo):%Y-%m-%d}"
    _cardholder_events(p)
    export = {"recipient": "Police", "reason": "case file", "case_number": "C-1"}
    search = {"site": p.site_a.code, "cardholder": "jane"}
    i, a, code = incident.pk, attachment.pk, p.site_a.code
    page, api = "page", "api"

    def url(name, *args):
        return reverse(name, args=args)

    return [
        ("page", page, "get", url("incident-page", i), {}, None),
        ("history", page, "get", url("incident-history", i), {}, None),
        ("attachment", page, "get", url("attachment-download", a), {}, None),
        ("csv", page, "get", url("incident-export"), {}, 1),
        ("police-export", page, "post", url("incident-police-package", i), export, None),
        ("activity-report", page, "get", url("shift-report", shift.pk), {}, None),
        ("activity-report", page, "get", url("shift-report-pdf", shift.pk), {}, None),
        ("activity-report", page, "get", url("site-activity", code, day), {}, None),
        ("activity-report", page, "get", url("site-activity-pdf", code, day), {}, None),
        ("cardholder-search", page, "get", url("access-event-list"), search, 2),
        ("csv", page, "get", url("access-event-list"), {**search, "format": "csv"}, 2),
        ("api", api, "get", f"/api/v1/incidents/{i}/", {}, None),
        ("api", api, "get", f"/api/v1/incidents/{i}/supplements/", {}, None),
        ("api", api, "get", f"/api/v1/incidents/{i}/attachments/", {}, None),
        ("attachment", api, "get", f"/api/v1/attachments/{a}/download/", {}, None),
        ("cardholder-search", api, "get", "/api/v1/access-events/", search, 2),
    ]


def _send(client, method: str, url: str, data: dict):
    response = getattr(client, method)(url, data)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return response


@pytest.mark.django_db
def test_every_read_route_writes_one_view_log_row_naming_its_route(
    personas, client_for, api_client_for
):
    clients = {"page": client_for("supervisor_a"), "api": api_client_for("supervisor_a")}
    for via, kind, method, url, data, rows in _read_routes(personas):
        before = RecordView.objects.count()
        response = _send(clients[kind], method, url, data)
        assert response.status_code == 200, (url, response.status_code)
        assert RecordView.objects.count() == before + 1, (via, url)
        logged = RecordView.objects.order_by("-pk").first()
        assert (logged.via, logged.viewer_name, logged.site) == (
            via,
            "supervisor_a",
            personas.site_a,
        ), url
        assert logged.row_count == rows, url
    assert verify_audit().intact


@pytest.mark.django_db
def test_export_incident_command_logs_the_read(personas, tmp_path):
    incident = seed_site_a_incident(personas)
    call_command(
        "export_incident",
        incident.number,
        recipient="Police",
        reason="case file",
        out=str(tmp_path),
        by="supervisor_a",
        stdout=StringIO(),
    )
    logged = RecordView.objects.get()
    assert (logged.via, logged.viewer_name, logged.object_label) == (
        "police-export",
        "supervisor_a",
        incident.number,
    )


@pytest.mark.django_db
def test_the_outsiders_refused_reads_write_nothing(personas, client_for, api_client_for):
    clients = {"page": client_for("outsider_c"), "api": api_client_for("outsider_c")}
    routes = _read_routes(personas)
    before = RecordView.objects.count()
    for _via, kind, method, url, data, rows in routes:
        response = _send(clients[kind], method, url, data)
        # A record is refused; a list (CSV, search) answers with none of site A's rows.
        allowed = (200, 403, 404) if rows else (403, 404)
        assert response.status_code in allowed, (url, response.status_code)
        if not response.streaming:
            body = response.content.decode(errors="replace")
            assert CARDHOLDER not in body and "Walt Witness" not in body, url
    assert RecordView.objects.count() == before


@pytest.mark.django_db
def test_a_cardholder_search_names_the_query_and_counts_zero_matches(personas, client_for):
    _cardholder_events(personas)
    client = client_for("auditor_a")
    client.get(reverse("access-event-list"), {"site": "ALPHA", "cardholder": "nobody"})
    logged = RecordView.objects.get()
    assert logged.row_count == 0
    assert "cardholder=nobody" in logged.object_label
    assert logged.object_type == "facility_log.accessevent"


@pytest.mark.django_db
def test_browsing_events_without_a_cardholder_is_not_logged(personas, client_for):
    _cardholder_events(personas)
    assert client_for("auditor_a").get(reverse("access-event-list")).status_code == 200
    assert RecordView.objects.count() == 0


@pytest.mark.django_db
def test_the_api_cardholder_search_covers_one_site(personas, api_client_for):
    _cardholder_events(personas)
    response = api_client_for("manager_ab").get("/api/v1/access-events/", {"cardholder": "jane"})
    assert response.status_code == 422  # each parameter is valid; only together refused
    assert "?site=" in str(response.json()["cardholder"])
    assert RecordView.objects.count() == 0
    found = api_client_for("manager_ab").get(
        "/api/v1/access-events/", {"cardholder": "jane", "site": "ALPHA"}
    )
    assert len(found.json()["results"]) == AccessEvent.objects.filter(cardholder=CARDHOLDER).count()


@pytest.mark.django_db
def test_csv_export_logs_one_row_per_site_with_its_count(personas, client_for):
    import uuid

    from facility_log.services import incidents as svc
    from tests.incident_factories import submitted

    for _ in range(3):
        submitted(personas)
    svc.create_incident(
        personas.manager_ab,
        site=personas.site_b,
        client_uuid=uuid.uuid4(),
        narrative="Bravo fence",
        occurred_from=timezone.now(),
    )
    response = client_for("manager_ab").get(reverse("incident-export"), {"severity": ""})
    assert response.status_code == 200
    rows = {v.site.code: v for v in RecordView.objects.select_related("site")}
    assert {code: v.row_count for code, v in rows.items()} == {"ALPHA": 3, "BRAVO": 1}
    assert {v.via for v in rows.values()} == {"csv"}
    assert rows["ALPHA"].object_label == "CSV export of 3 incidents"


@pytest.mark.django_db
def test_a_view_log_write_is_one_insert_and_its_ledger_entry(personas):
    incident = seed_site_a_incident(personas)
    with CaptureQueriesContext(connection) as captured:
        view_log.incident_read(personas.guard_a, incident, "page")
    # On PostgreSQL the ledger entry's statement begins with its lock (ledger._chain_one).
    # The entry's INSERT is a prepared statement's EXECUTE (services/prepared.py).
    sent = [with_statements(q["sql"]) for q in captured]
    inserts = [sql for sql in sent if "INSERT INTO" in sql]
    assert len(inserts) == 2
    assert RecordView._meta.db_table in inserts[0]
    assert LedgerEntry._meta.db_table in inserts[1]
    assert not [q for q in captured if with_statements(q["sql"]).startswith(("UPDATE", "DELETE"))]


@pytest.mark.django_db
def test_a_view_log_row_is_not_read_back_and_its_digest_is_the_stored_rows(personas):
    incident = seed_site_a_incident(personas)
    with CaptureQueriesContext(connection) as captured:
        view = view_log.incident_read(personas.guard_a, incident, "page")
    table = RecordView._meta.db_table
    assert not [
        q
        for q in captured
        if with_statements(q["sql"]).startswith("SELECT") and table in with_statements(q["sql"])
    ]
    entry = LedgerEntry.objects.get(object_type="facility_log.recordview", object_pk=str(view.pk))
    assert entry.digest == stored_row_digest(RecordView, view.pk)
    view_log.record_list_view(
        personas.guard_a, AccessEvent, {personas.site_a: 3}, what="CSV export", via="csv"
    )
    listed = RecordView.objects.latest("pk")
    entry = LedgerEntry.objects.get(object_type="facility_log.recordview", object_pk=str(listed.pk))
    assert entry.digest == stored_row_digest(RecordView, listed.pk)
    assert verify_audit().intact


# The incident page's queries: 28 before its roles were read once, its attachments and
# sources once, its zone's site from the incident and its view-log row not read back.
INCIDENT_PAGE_QUERIES = 22


@pytest.mark.django_db
def test_the_incident_page_makes_no_more_queries_than_before(personas, client_for):
    incident = seed_site_a_incident(personas)
    client = client_for("supervisor_a")
    url = reverse("incident-page", args=[incident.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert len(captured) <= INCIDENT_PAGE_QUERIES, len(captured)
    roles = [
        sql
        for sql in each_statement(captured)
        if sql.startswith('SELECT "facility_log_membership".')
    ]
    assert len(roles) == 1
    print(f"incident page: {len(captured)} queries, the view-log write included")
