"""The incident page's view-log row and its ledger entry sent at the end of the page's reads
and committed by that request (services/ledger_one_trip.py): in Django's autocommit (as
served) and inside a transaction (as in most tests), the row and entry are those of the
usual path and the ledger stays intact; a row the database stores otherwise than sent is
refused before anything commits, and the view is logged the usual way, once; the outsider
reads nothing and logs nothing."""

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import LedgerEntry, RecordView
from facility_log.services import ledger_one_trip, view_log
from facility_log.services.ledger import stored_row_digest
from facility_log.services.verify import verify_audit
from tests.incident_factories import draft

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the row goes with the reads on PostgreSQL only"
)


def _view_and_entry(incident, viewer):
    view = RecordView.objects.filter(object_pk=str(incident.pk), viewer=viewer).latest("pk")
    entry = LedgerEntry.objects.get(object_type="facility_log.recordview", object_pk=str(view.pk))
    return view, entry


def _logged_as_usual(personas, incident, client_for):
    """A page view by supervisor_a, and its row and entry, checked as the usual path makes
    them: the entry's digest is that of the row as stored, its label and actor the usual."""
    url = reverse("incident-page", args=[incident.pk])
    client = client_for("supervisor_a")
    client.get(url)  # the session and caches warm, as on a second visit
    before = RecordView.objects.count()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert RecordView.objects.count() == before + 1
    view, entry = _view_and_entry(incident, personas.supervisor_a)
    assert (view.via, view.object_label, view.viewer_name, view.site) == (
        "page",
        incident.record_label,
        "supervisor_a",
        incident.site,
    )
    assert entry.digest == stored_row_digest(RecordView, view.pk)
    assert (entry.kind, entry.record_label, entry.actor_id) == (
        "record",
        f"record view #{view.pk}",
        personas.supervisor_a.pk,
    )
    assert entry.seq == LedgerEntry.objects.order_by("-seq").first().seq
    assert verify_audit().intact
    return captured


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_served_in_autocommit_the_reads_row_and_entry_are_one_request(personas, client_for):
    incident = draft(personas, location_text="Gate")
    captured = _logged_as_usual(personas, incident, client_for)
    sql = [q["sql"] for q in captured.captured_queries]
    writes = [s for s in sql if "INSERT" in s]
    assert len(writes) == 1 and "SAVEPOINT" not in writes[0]  # committed by the request
    assert not [s for s in sql if s in ("BEGIN", "COMMIT")]
    assert not connection.in_atomic_block and connection.get_autocommit()


@postgres_only
@pytest.mark.django_db
def test_inside_a_transaction_the_row_goes_in_a_savepoint(personas, client_for):
    incident = draft(personas, location_text="Gate")
    captured = _logged_as_usual(personas, incident, client_for)
    (write,) = [q["sql"] for q in captured.captured_queries if "INSERT" in q["sql"]]
    assert write.startswith("EXECUTE") and f"SAVEPOINT {ledger_one_trip.SAVEPOINT}" in write


def _stored_otherwise(monkeypatch):
    """The check compares the row with a label other than the one sent: as if the database
    had stored the row otherwise than sent."""
    made = view_log.one_trip_insert
    refused = []

    def differing(instance, actor=None, using="default"):
        write = made(instance, actor, using)
        count = len(RecordView._meta.concrete_fields)
        label = [f.attname for f in RecordView._meta.concrete_fields].index("object_label")
        params = list(write.params)
        assert params[count + label] == instance.object_label  # the compared value
        params[count + label] = instance.object_label + " (otherwise)"
        refused.append(write.pk)
        return dataclasses.replace(write, params=params)

    monkeypatch.setattr(view_log, "one_trip_insert", differing)
    return refused


def _refused_then_logged_once(personas, client_for, monkeypatch):
    incident = draft(personas, location_text="Gate")
    refused = _stored_otherwise(monkeypatch)
    before, entries = RecordView.objects.count(), LedgerEntry.objects.count()
    url = reverse("incident-page", args=[incident.pk])
    response = client_for("supervisor_a").get(url)
    assert response.status_code == 200 and "Gate" in response.content.decode()
    assert len(refused) == 1
    # Nothing of the refused request was kept: no row, no entry for its id.
    assert not RecordView.objects.filter(pk=refused[0]).exists()
    assert not LedgerEntry.objects.filter(
        object_type="facility_log.recordview", object_pk=str(refused[0])
    ).exists()
    # The view logged once, the usual way, with its entry.
    assert RecordView.objects.count() == before + 1
    view, entry = _view_and_entry(incident, personas.supervisor_a)
    assert view.pk != refused[0] and entry.digest == stored_row_digest(RecordView, view.pk)
    assert LedgerEntry.objects.count() == entries + 1
    assert verify_audit().intact


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_row_stored_otherwise_is_refused_whole_in_autocommit(personas, client_for, monkeypatch):
    _refused_then_logged_once(personas, client_for, monkeypatch)


@postgres_only
@pytest.mark.django_db
def test_a_row_stored_otherwise_is_refused_whole_in_a_transaction(
    personas, client_for, monkeypatch
):
    _refused_then_logged_once(personas, client_for, monkeypatch)
    with connection.cursor() as cursor:  # the caller's transaction goes on
        cursor.execute("SELECT 1")


@pytest.mark.django_db
def test_the_outsider_reads_nothing_and_logs_nothing(personas, client_for):
    incident = draft(personas, location_text="Gate")
    before, entries = RecordView.objects.count(), LedgerEntry.objects.count()
    for name in ("outsider_c",):
        response = client_for(name).get(reverse("incident-page", args=[incident.pk]))
        assert response.status_code == 404 and "Gate" not in response.content.decode()
    assert (RecordView.objects.count(), LedgerEntry.objects.count()) == (before, entries)
    for name in ("guard_a", "supervisor_a", "manager_ab"):
        assert client_for(name).get(reverse("incident-page", args=[incident.pk])).status_code == 200
    assert RecordView.objects.count() == before + 3
    assert verify_audit().intact


@pytest.mark.django_db
def test_where_it_cannot_go_so_nothing_is_sent(personas):
    incident = draft(personas, location_text="Gate")
    user = personas.supervisor_a
    if connection.vendor != "postgresql":
        # No id is taken on SQLite; asked anyway, the statements are refused.
        assert view_log.incident_read_statements(user, incident, "page", 10**9) is None
        return
    # Inside a service's block the entry is chained with the block's (ledger.deferred_chaining).
    from facility_log.services.audit import audited_change

    with audited_change(user, "test"):
        assert view_log.incident_read_statements(user, incident, "page", 10**9) is None
    write = view_log.incident_read_statements(user, incident, "page", 10**9)
    assert write is not None and write.pk == 10**9
