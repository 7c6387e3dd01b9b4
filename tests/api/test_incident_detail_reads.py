"""The incident detail reads its related rows by queries compiled once
(facility_log/api/incidents/detail.py) and sends exactly what the serializer sends when it
reads them itself; its query count does not grow with them; the outsider still gets a 404.
On PostgreSQL the reads go with the view log's next id and the view-log row with its ledger
entry: the same row as the ordinary write, and the ledger stays intact."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.api.incidents import views
from facility_log.api.incidents.serializers import IncidentDetailSerializer
from facility_log.models import Incident, LedgerEntry, RecordView
from facility_log.services import incidents as svc
from facility_log.services import view_log
from facility_log.services.prepared import with_statements  # EXECUTE as its SQL
from facility_log.services.verify import verify_audit
from tests.incident_factories import draft, photo

pytestmark = pytest.mark.django_db


def _incident(p, *, extra: int = 0) -> Incident:
    incident = draft(p, title="Detail", zone=None)
    for n in range(1 + extra):
        svc.add_person(incident, p.guard_a, role="witness", name=f"Walt {n}", statement="Saw.")
        svc.add_vehicle(incident, p.guard_a, registration=f"AB-{n}", colour="red")
        svc.add_property_item(
            incident, p.guard_a, kind="stolen", description=f"laptop {n}", value="12.50"
        )
        svc.add_attachment(incident, p.guard_a, upload=photo(f"d{n}.png"), description="desk")
    incident = svc.submit_incident(incident, p.guard_a)
    incident = svc.return_incident(incident, p.supervisor_a, comment="add the time")
    incident = svc.submit_incident(incident, p.guard_a)
    for n in range(1 + extra):
        svc.add_supplement(incident, p.guard_a, text=f"Serial {n}.", reason="found it")
    return svc.approve_incident(incident, p.supervisor_a, comment="fine")


def _reference(incident_pk: int) -> dict:
    """What the serializer sends reading every relation itself."""
    incident = Incident.objects.get(pk=incident_pk)
    return json.loads(json.dumps(IncidentDetailSerializer(incident).data, default=str))


def _one_by_one_through_the_serializer(patch):
    """The incident read on its own, the serializer reading each relation itself."""
    patch.setattr(views, "visible_with_related", lambda *args: (False, None, None))
    patch.setattr(views, "read_related", lambda incident: None)


def test_the_detail_sends_what_the_serializer_sends(personas, api_client_for):
    incident = _incident(personas, extra=1)
    client = api_client_for("manager_ab")
    body = client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert len(body["persons"]) == len(body["supplements"]) == 2
    assert body["reviews"] and body["attachments"][0]["uploaded_by"] == "guard_a"
    # The reviews' times are sent as the JSON renderer sends them: compare as rendered.
    reference = client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body == reference
    expected = _reference(incident.pk)
    for name in ("persons", "vehicles", "property_items", "supplements", "attachments"):
        assert body[name] == expected[name], name
    assert [r["comment"] for r in body["reviews"]] == [r["comment"] for r in expected["reviews"]]


def test_the_detail_is_byte_identical_to_the_prefetching_read(
    personas, api_client_for, monkeypatch
):
    incident = _incident(personas, extra=1)
    client = api_client_for("manager_ab")
    url = f"/api/v1/incidents/{incident.pk}/"
    with timezone.override("Asia/Kolkata"):
        fast = client.get(url).content
        # The serializer reading each relation itself, through Django's related managers.
        _one_by_one_through_the_serializer(monkeypatch)
        slow = client.get(url).content
    assert fast == slow
    assert b"+05:30" in fast


HOSTILE = "<script>alert('x')</script> & \"Ö\""


@pytest.mark.parametrize("name", ["guard_a", "supervisor_a", "manager_ab", "admin"])
def test_the_detail_of_hostile_values_is_the_bytes_of_the_ordinary_reads(
    personas, api_client_for, monkeypatch, name
):
    incident = draft(personas, title=HOSTILE, zone=None, location_text=HOSTILE)
    svc.add_person(incident, personas.guard_a, role="witness", name=HOSTILE, statement=HOSTILE)
    svc.add_vehicle(incident, personas.guard_a, registration=HOSTILE[:10], colour=HOSTILE)
    svc.add_attachment(
        incident, personas.guard_a, upload=photo("<b>x</b>.png"), description=HOSTILE
    )
    incident = svc.submit_incident(incident, personas.guard_a)
    svc.add_supplement(incident, personas.guard_a, text=HOSTILE, reason=HOSTILE)
    svc.return_incident(incident, personas.supervisor_a, comment=HOSTILE)
    client = api_client_for(name)
    url = f"/api/v1/incidents/{incident.pk}/"
    for language in ("en", "de"):
        fast = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        with monkeypatch.context() as m:
            _one_by_one_through_the_serializer(m)
            slow = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert fast.status_code == slow.status_code == 200
        assert fast.content == slow.content
        assert "<script>alert('x')</script>" in fast.json()["persons"][0]["name"]
    assert api_client_for("outsider_c").get(url).status_code == 404


def _view_rows(incident, viewer) -> list[dict]:
    rows = RecordView.objects.filter(object_pk=str(incident.pk), viewer=viewer).order_by("pk")
    return [{k: v for k, v in row.items() if k not in ("id", "viewed_at")} for row in rows.values()]


def test_the_view_log_row_goes_with_its_entry_and_the_ledger_holds(
    personas, api_client_for, monkeypatch
):
    incident = _incident(personas, extra=1)
    client = api_client_for("supervisor_a")
    url = f"/api/v1/incidents/{incident.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    statements = [with_statements(q["sql"]) for q in captured.captured_queries]
    inserts = [s for s in statements if s.startswith("INSERT")]
    if connection.vendor == "postgresql":
        # The related reads and the view log's next id; the row with its entry; nothing else.
        assert sum("nextval(pg_get_serial_sequence" in s for s in statements) == 1
        assert len(inserts) == 1 and '"facility_log_ledgerentry"' in inserts[0]
        assert inserts[0].index("facility_log_recordview") < inserts[0].index("ledgerentry")
    # The ordinary write (no id taken with the reads) stores the same row.
    with monkeypatch.context() as m:
        m.setattr(
            view_log,
            "read_with_next_id",
            lambda statements, using: (_one_by_one(statements, using), None),
        )
        assert client.get(url).status_code == 200
    rows = _view_rows(incident, personas.supervisor_a)
    assert len(rows) == 3 and rows[0] == rows[1] == rows[2]
    assert rows[0]["via"] == "api" and rows[0]["object_label"] == incident.record_label
    for row in RecordView.objects.filter(object_pk=str(incident.pk)):
        assert (
            LedgerEntry.objects.filter(
                object_type="facility_log.recordview", object_pk=str(row.pk)
            ).count()
            == 1
        )
    assert verify_audit().intact


def _one_by_one(statements, using):
    from facility_log.services import read_together

    fetched, _none = read_together.fetch(statements, using)
    return fetched


def test_a_refused_detail_logs_nothing(personas, api_client_for):
    incident = _incident(personas)
    before = RecordView.objects.count()
    for name in ("outsider_c",):
        assert api_client_for(name).get(f"/api/v1/incidents/{incident.pk}/").status_code == 404
    assert api_client_for("guard_a").get("/api/v1/incidents/999999999/").status_code == 404
    assert RecordView.objects.count() == before
    assert verify_audit().intact


def test_the_detail_queries_do_not_grow_with_related_rows(personas, api_client_for):
    few, many = _incident(personas), _incident(personas, extra=3)
    client = api_client_for("manager_ab")

    def queries(pk) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/v1/incidents/{pk}/").status_code == 200
        return len(captured)

    queries(few.pk)
    assert queries(few.pk) == queries(many.pk)


def test_the_outsider_gets_no_incident_detail(personas, api_client_for):
    incident = _incident(personas)
    assert api_client_for("outsider_c").get(f"/api/v1/incidents/{incident.pk}/").status_code == 404


def test_the_incident_read_once_compiled_is_the_orms(personas, api_client_for, monkeypatch):
    """`get_object` reads the incident by a query compiled once (detail.visible_incident):
    the same bytes and the same answers (404 to another site's, an unknown or a malformed
    id) as DRF's read through the scoped queryset, for every kind of caller; the view log
    still records each read."""
    from facility_log.api.incidents import detail
    from facility_log.models import RecordView

    incident = _incident(personas, extra=1)
    other, _ = svc.create_incident(
        personas.manager_ab,
        site=personas.site_b,
        client_uuid=uuid.uuid4(),
        narrative="At B.",
        title="At B",
        occurred_from=timezone.now(),
    )
    paths = [
        f"/api/v1/incidents/{incident.pk}/",
        f"/api/v1/incidents/{other.pk}/",
        "/api/v1/incidents/999999999/",
        "/api/v1/incidents/99999999999999999999999/",
        "/api/v1/incidents/-1/",
        "/api/v1/incidents/abc/",
        "/api/v1/incidents/1e3/",
    ]
    answers = {}
    for name in ("manager_ab", "guard_a", "auditor_a", "admin", "outsider_c"):
        client = api_client_for(name)
        for path in paths:
            views_before = RecordView.objects.count()
            compiled = client.get(path)
            logged = RecordView.objects.count() - views_before
            with monkeypatch.context() as m:
                m.setattr(views, "visible_incident", lambda *args: (False, None))
                m.setattr(views, "visible_with_related", lambda *args: (False, None, None))
                orm = client.get(path)
            assert (compiled.status_code, compiled.content) == (orm.status_code, orm.content)
            assert logged == (compiled.status_code == 200)
            answers[name, path] = compiled.status_code
    assert answers["manager_ab", paths[0]] == answers["manager_ab", paths[1]] == 200
    assert answers["guard_a", paths[0]] == answers["auditor_a", paths[0]] == 200
    assert answers["guard_a", paths[1]] == answers["auditor_a", paths[1]] == 404
    assert answers["admin", paths[1]] == 200
    assert {answers["outsider_c", path] for path in paths} == {404}
    assert all(answers[name, path] == 404 for name, _p in answers for path in paths[2:])
    assert detail._VISIBLE._compiled  # the compiled read was the one taken


def _plain(sql: str) -> str:
    return sql.replace('"', "")


def test_one_round_trip_reads_the_incident_and_its_rows_on_postgresql(
    personas, api_client_for, monkeypatch
):
    """On PostgreSQL the incident, its related rows and the view log's next id are one
    request; its related rows are read only for a caller who may see it (an outsider's
    request reads none of them), and the answers are those of the reads one by one."""
    from facility_log.api.incidents import detail

    incident = _incident(personas, extra=1)
    url = f"/api/v1/incidents/{incident.pk}/"
    for name in ("guard_a", "manager_ab", "admin", "auditor_a", "outsider_c"):
        client = api_client_for(name)
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            together = client.get(url)
        statements = [with_statements(q["sql"]) for q in captured.captured_queries]
        with monkeypatch.context() as m:
            m.setattr(views, "visible_with_related", lambda *args: (False, None, None))
            apart = client.get(url)
        assert (together.status_code, together.content) == (apart.status_code, apart.content)
        reads = [s for s in statements if "FROM facility_log_involvedperson" in _plain(s)]
        if connection.vendor == "postgresql":
            assert len(reads) == 1, (name, len(statements), [s[:80] for s in statements])
            assert "FROM facility_log_incident " in _plain(reads[0])
            assert "nextval(pg_get_serial_sequence" in reads[0]
    if connection.vendor == "postgresql":
        using = connection.alias
        rows = {}
        for name in ("guard_a", "outsider_c"):
            user = personas.all_people()[name]
            read, found, _pk = detail.visible_with_related(user, str(incident.pk), using)
            rows[name] = found
            assert read
        assert rows["outsider_c"] is None
        assert len(rows["guard_a"].persons.all()) == 2
        # The guarded reads alone find nothing of an incident the caller may not see.
        outsider = personas.outsider_c
        for query in detail.GUARDED.values():
            assert query.all(False, incident=incident.pk, user_id=outsider.pk) == []
        persons = detail.GUARDED["persons"]
        assert len(persons.all(False, incident=incident.pk, user_id=personas.guard_a.pk)) == 2
        assert len(persons.all(True, incident=incident.pk)) == 2
