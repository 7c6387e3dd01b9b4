"""The shift report read in one round trip (services/shift_report_reads.py), its view-log
row sent with its ledger entry, gives the bytes the page gave when `activity_report`
read each list on its own: in English and German, with hostile values; the view log still
records each view (nothing for the outsider) and the ledger stays intact."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import RecordView
from facility_log.services import activity_report as dar
from facility_log.services import shift_report_reads
from facility_log.services.prepared import with_statements  # EXECUTE as its SQL
from facility_log.services.verify import verify_audit
from tests.incident_factories import submitted
from tests.rounds_helpers import night_route, walk
from tests.shifts_helpers import ago, entry, start, worked
from tests.views.test_shift_pages import _fill, _local, _shift_with_everything, _yesterday

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"Ö\" 100%"


def _old(shift, *, now=None):
    return dar.shift_report(shift, now=now), None


def _normalised(html: str) -> str:
    """The page without what differs on every request (the masked CSRF token, the nonce)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _hostile_shift(p):
    shift, route, _incident = _shift_with_everything(p)
    day = _yesterday(p.site_a)
    entry(shift, HOSTILE, at=_local(p.site_a, day, 9, 5), kind="patrol")
    submitted(p, occurred_from=_local(p.site_a, day, 12), title=HOSTILE)
    return shift


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("viewer", ["auditor_a", "manager_ab", "guard_a"])
def test_the_report_is_the_bytes_it_was(personas, client_for, monkeypatch, language, viewer):
    shift = _hostile_shift(personas)
    url = reverse("shift-report", args=[shift.pk])
    client = client_for(viewer)
    new = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    with monkeypatch.context() as patch:
        patch.setattr(shift_report_reads, "shift_report", _old)
        old = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    # The report names when it was generated: the time stamps are left out of the comparison
    # (each list's own times are compared in the next test).
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"
    assert re.sub(stamp, "T", _normalised(new)) == re.sub(stamp, "T", _normalised(old))
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in new and "<script>alert" not in new
    assert ("Water on the floor" in new) and (
        ("Daily activity report" in new) is (language == "en")
    )


def test_the_reports_read_alone_and_together_are_equal(personas):
    # An open shift too (its window ends now), a shift with nothing, and one with rows.
    p = personas
    full = _hostile_shift(p)
    empty = worked(p, at=ago(days=3), hours=1, notes="")
    open_shift = start(p, at=ago(hours=1), guard=p.supervisor_a)
    route, checkpoints = night_route(p, route_name="Yard walk", names=("Yard",), minutes=(0,))
    walk(p, route, checkpoints, ago(minutes=30), (None,), guard=p.supervisor_a)
    for shift in (full, empty, open_shift, full):
        shift = type(shift).objects.select_related("site", "guard").get(pk=shift.pk)
        now = ago(seconds=1)
        together, _pk = shift_report_reads.shift_report(shift, now=now)
        alone = dar.shift_report(shift, now=now)
        a, b = together.block, alone.block
        assert (a.guard_name, a.received, a.entries, a.acks) == (
            b.guard_name,
            b.received,
            b.entries,
            b.acks,
        )
        # The runs are read as rows: their lines carry no Run (nothing the page writes
        # reads it), every shown value is the same.
        assert all(x.run is None for x in a.runs)
        assert [vars(x) for x in a.runs] == [{**vars(x), "run": None} for x in b.runs]
        assert [vars(x) for x in a.incidents] == [vars(x) for x in b.incidents]
        assert a.received is None or a.received.guard == b.received.guard


def test_query_count_and_view_log(personas, client_for):
    day = _yesterday(personas.site_a)
    shift = start(personas, at=_local(personas.site_a, day, 7, 30))
    route, checkpoints = night_route(personas, names=("Gate", "Dock"), minutes=(0, 5))
    _fill(personas, shift, day, route, checkpoints, 2, 0)
    url = reverse("shift-report", args=[shift.pk])
    client = client_for("supervisor_a")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    if connection.vendor == "postgresql":
        statements = [with_statements(q["sql"]) for q in captured.captured_queries]
        assert sum("nextval(pg_get_serial_sequence" in s for s in statements) == 1
        inserts = [s for s in statements if s.startswith("INSERT")]
        assert len(inserts) == 1 and "ledgerentry" in inserts[0]
    before = RecordView.objects.count()
    assert client_for("outsider_c").get(url).status_code == 404
    assert RecordView.objects.count() == before
    assert client_for("auditor_a").get(url).status_code == 200
    view = RecordView.objects.order_by("-pk").first()
    assert (view.viewer, view.via, view.object_pk) == (
        personas.auditor_a,
        "activity-report",
        str(shift.pk),
    )
    assert RecordView.objects.filter(object_pk=str(shift.pk)).count() == 3
    assert verify_audit().intact
