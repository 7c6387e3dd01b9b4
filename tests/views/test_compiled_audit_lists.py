"""The view log and the audit overview, read as tuples of the columns they show and written
by audit_list_tags (the overview's reads compiled once and sent together), give the bytes
the instance reads and the templates' loops gave: every persona, English and German, hostile
values, the view log's filters, its pages forward and back and forged `before`/`after` ids.

The old path is kept here as it was: its templates (tests/views/audit_pages_before/) and its
reads (`search_view_log` without `columns`, which the API still uses, and the overview's
querysets), rendered in place of the new page by the same request."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.forms.audit import ViewLogSearchForm
from facility_log.models import AuditCheck, Disclosure, RecordView
from facility_log.scoping import AUDIT_ROLES, scoped, sites_for
from facility_log.services import audit_overview_reads, view_log, view_log_pages
from facility_log.services.disclosures import record_disclosure
from facility_log.services.ledger import ledger_head
from facility_log.services.ledger_seal import latest_checkpoint
from facility_log.services.precompiled import CompiledShapes
from facility_log.views import audit
from tests.incident_factories import draft
from tests.sql_text import statements_of

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"q\" \u202eevil\u202c \U0001f525 {} %s"
PERSONAS = ("guard_a", "supervisor_a", "auditor_a", "manager_ab", "outsider_c", "admin")
BEFORE = Path(__file__).parent / "audit_pages_before"
VIAS = [value for value, _label in RecordView.Via.choices]


def _old_template(name: str):
    return engines["django"].from_string((BEFORE / name).read_text())


def _old_view_log(request) -> HttpResponse:
    """views/audit.py `view_log_search` before: instances of RecordView and their sites."""
    sites = list(sites_for(request.user, AUDIT_ROLES))
    form = ViewLogSearchForm(request.GET or None, sites=sites)
    page = view_log.ViewLogPage([], None, None)
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else view_log.ViewLogFilters()
        page = view_log.search_view_log(
            request.user,
            filters,
            before=audit._id(request, "before"),
            after=audit._id(request, "after"),
            audited=sites,
        )
    query = request.GET.copy()
    query.pop("before", None)
    query.pop("after", None)
    context = {
        "form": form,
        "rows": page.rows,
        "older": page.older,
        "newer": page.newer,
        "paged": page.newer is not None or "before" in request.GET,
        "query": query.urlencode(),
        "sites": sites,
    }
    return HttpResponse(_old_template("view_log.html").render(context, request))


def _old_overview(request) -> HttpResponse:
    """views/audit.py `audit_overview` before: instances, the template's loops."""
    check = AuditCheck.objects.select_related("requested_by").first()
    seq, head = ledger_head()
    views = scoped(RecordView.objects.select_related("site"), request.user, AUDIT_ROLES)
    context = {
        "check": check,
        "checkpoint": latest_checkpoint(),
        "head_file": audit._head_file(check),
        "seq": seq,
        "head": head,
        "disclosures": scoped(Disclosure.objects.all(), request.user, AUDIT_ROLES)[:50],
        "views": views.order_by("-pk")[:20],
    }
    return HttpResponse(_old_template("overview.html").render(context, request))


OLD = {"audit-view-log": _old_view_log, "audit-overview": _old_overview}


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _compare(client, name: str, query: str, monkeypatch, language="en") -> str:
    """The page's bytes by the new path and by the old one; returns the new HTML."""
    url = f"{reverse(name)}?{query}"
    new = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    with monkeypatch.context() as patch:
        patch.setattr(audit, "render", lambda request, *args, **kwargs: OLD[name](request))
        old = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert new.status_code == old.status_code, url
    html = new.content.decode()
    assert _normalised(html) == _normalised(old.content.decode()), url
    return html


def _older(html: str) -> str | None:
    """The query of the "Older" link (the only one with `before=`), None without one."""
    found = re.search(r'href="\?([^"]*before=\d+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _newer(html: str) -> str:
    found = re.search(r'rel="prev" href="\?([^"]*)"', html)
    assert found is not None
    return found.group(1).replace("&amp;", "&")


@pytest.fixture
def world(personas, monkeypatch):
    """Reads at A and B over several days (hostile labels, every route, list reads with
    their counts) past two pages for the manager, and disclosures with hostile values."""
    incident = draft(personas, title="the incident read")
    start = timezone.now() - timedelta(days=3)
    for n in range(130):
        at_b = n % 3 == 0
        site = personas.site_b if at_b else personas.site_a
        viewer = personas.manager_ab if n % 2 else personas.auditor_a
        label = f"{HOSTILE} read {n}" if n % 4 else f"INC-{n}"
        monkeypatch.setattr(timezone, "now", lambda n=n: start + timedelta(hours=n // 2))
        if n % 7 == 0:
            counts = {site: n}
            view_log.record_list_view(
                viewer, RecordView, counts, what="CSV export", via=VIAS[n % len(VIAS)], query=label
            )
        else:
            view_log.record_view(viewer, incident, site=site, label=label, via=VIAS[n % len(VIAS)])
    monkeypatch.undo()
    for n in range(4):
        record_disclosure(
            personas.manager_ab,
            incident,
            site=personas.site_b if n % 2 else personas.site_a,
            label=f"{HOSTILE} {n}",
            recipient=f"Police {HOSTILE}",
            reason=f"case {HOSTILE}",
            case_number=f"C-{n} <b>",
            redactions=[HOSTILE, "names", "a & b"][: n + 1] if n else [],
        )
    return start


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_persona_every_view_log_page_forward_and_back(
    world, personas, client_for, monkeypatch, language
):
    for who in PERSONAS:
        client = client_for(who)
        query, queries = "", []
        while query is not None and len(queries) < 6:
            html = _compare(client, "audit-view-log", query, monkeypatch, language)
            queries.append(query)
            query = _older(html)
        for query in queries[1:]:
            html = _compare(client, "audit-view-log", query, monkeypatch, language)
            _compare(client, "audit-view-log", _newer(html), monkeypatch, language)
        if who == "manager_ab":
            assert len(queries) == 3  # 130 reads: pages of 50
        if who in ("guard_a", "supervisor_a", "outsider_c"):
            assert len(queries) == 1 and "read 1" not in html
        _compare(client, "audit-overview", "", monkeypatch, language)


FORGED = [
    "before=0",
    "before=1",
    "before=99999999999999999999999999",
    "before=-5",
    "before=abc",
    "after=0",
    "after=99999999999999999999999999",
    "after=x",
    "before=60&after=40",
    "after=3",
]


def test_forged_and_odd_ids_are_the_bytes_they_were(world, client_for, monkeypatch):
    for who in ("auditor_a", "manager_ab", "admin", "outsider_c"):
        for query in FORGED:
            _compare(client_for(who), "audit-view-log", query, monkeypatch)


def test_filters_are_the_bytes_they_were(world, client_for, monkeypatch):
    day = (world + timedelta(days=1)).date().isoformat()
    last = (world + timedelta(days=2)).date().isoformat()
    queries = [
        "site=ALPHA",
        "site=BRAVO",
        "site=CHARLIE",  # not the auditor's: refused by the form, nothing shown
        "user=manager",
        "user=%25_",
        "record=script",
        "record=INC-1",
        "via=csv",
        "via=page&site=BRAVO",
        f"day_from={day}",
        f"day_to={day}",
        f"day_from={day}&day_to={last}&user=audit",
        f"day_from={last}&day_to={day}",  # the last before the first: an error shown
        "day_from=not-a-day",
        f"record=read&site=ALPHA&via=page&user=a&day_from={day}&day_to={last}",
    ]
    for who in ("auditor_a", "manager_ab", "admin"):
        client = client_for(who)
        for query in queries:
            for language in ("en", "de"):
                html = _compare(client, "audit-view-log", query, monkeypatch, language)
            older = _older(html)
            if older:
                html = _compare(client, "audit-view-log", older, monkeypatch)
                _compare(client, "audit-view-log", _newer(html), monkeypatch)


def test_hostile_values_are_escaped(world, client_for, monkeypatch):
    for name in ("audit-view-log", "audit-overview"):
        html = _compare(client_for("manager_ab"), name, "", monkeypatch)
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;" in html
        assert "<script>alert" not in html
    html = _compare(client_for("manager_ab"), "audit-overview", "", monkeypatch, "de")
    assert "C-3 &lt;b&gt;" in html and "names, a &amp; b" in html


def test_an_empty_overview_and_view_log_are_the_bytes_they_were(personas, client_for, monkeypatch):
    for who in ("auditor_a", "admin", "guard_a", "outsider_c"):
        for language in ("en", "de"):
            _compare(client_for(who), "audit-overview", "", monkeypatch, language)
            _compare(client_for(who), "audit-view-log", "", monkeypatch, language)


def test_the_overview_with_a_check_and_over_the_compiled_sites(
    world, personas, client_for, monkeypatch
):
    AuditCheck.objects.create(requested_by=personas.auditor_a, scope="full")
    _compare(client_for("auditor_a"), "audit-overview", "", monkeypatch, "de")
    # More sites than the compiled statements take: the ORM's reads, the same bytes.
    monkeypatch.setattr(audit_overview_reads, "MAX_SITES", 1)
    _compare(client_for("manager_ab"), "audit-overview", "", monkeypatch)
    _compare(client_for("admin"), "audit-overview", "", monkeypatch)


def test_the_outsider_gets_nothing(world, client_for):
    client = client_for("outsider_c")
    for name in ("audit-view-log", "audit-overview"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert b"read 1" not in response.content


def test_the_overview_reads_in_one_round_trip_on_postgresql(world, client_for):
    client = client_for("manager_ab")
    client.get(reverse("audit-overview"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("audit-overview")).status_code == 200
    reads = [sql for sql in statements_of(captured) if "facility_log_recordview" in sql]
    assert len(reads) == 1
    if connection.vendor == "postgresql":
        assert "facility_log_disclosure" in reads[0] and "facility_log_ledgerentry" in reads[0]
        assert len(captured) <= 4


def test_the_view_log_pages_are_read_by_the_compiled_statements(world, client_for, monkeypatch):
    taken = []
    real = view_log_pages.page_rows

    def spy(*args):
        rows = real(*args)
        taken.append(rows is not None)
        return rows

    monkeypatch.setattr(view_log_pages, "page_rows", spy)
    client = client_for("manager_ab")
    html = _compare(client, "audit-view-log", "user=a&record=read&via=page", monkeypatch)
    html = _compare(client, "audit-view-log", "site=ALPHA", monkeypatch)  # 86 reads
    _compare(
        client,
        "audit-view-log",
        _newer(_compare(client, "audit-view-log", _older(html), monkeypatch)),
        monkeypatch,
    )
    assert taken and all(taken)
    taken.clear()
    _compare(client, "audit-view-log", f"day_from={world.date().isoformat()}", monkeypatch)
    assert taken and not any(taken)  # a day range: the ORM's read
    # Past the shapes a process compiles: the ORM's reads, the same bytes.
    monkeypatch.setattr(view_log_pages, "MAX_SHAPES", 0)
    monkeypatch.setattr(view_log_pages, "_shapes", CompiledShapes())
    _compare(client, "audit-view-log", "record=INC", monkeypatch)
    monkeypatch.setattr(view_log_pages, "MAX_SITES", 1)
    _compare(client, "audit-view-log", "", monkeypatch)
