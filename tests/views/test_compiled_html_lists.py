"""The incident list, its search and the review queue read by statements compiled once
(services/keyset_rows.py, services/list_sites.py) give the bytes the ORM's reads gave: every
persona, English and German, hostile values, every combination of the list's filters, paging
forward and back by cursor and an unreadable cursor. On PostgreSQL the compiled reads are
taken (checked); on SQLite the ORM's are, and the comparison holds all the same."""

import itertools
import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Category
from facility_log.services import incidents as svc
from facility_log.services import keyset_rows
from facility_log.services import sites as site_services
from facility_log.services.audit import audited_change
from facility_log.views import incident_lists
from tests.incident_factories import draft
from tests.sql_text import statements_of

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"q\" \u202eevil\u202c \U0001f525"
PERSONAS = ("guard_a", "supervisor_a", "manager_ab", "outsider_c", "admin")


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="\?([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def world(personas):
    """Incidents at A and B (times shared by several, hostile titles, zone, category and
    narrative), drafts and submitted ones, over more than one page."""
    with audited_change(personas.admin, "hostile category"):
        odd = Category.objects.create(name=f"Cat {HOSTILE}", sort_order=1)
    zone_b = site_services.create_zone(
        personas.site_b, personas.manager_ab, name=f"Zone {HOSTILE}", reason="test"
    )
    start = timezone.now() - timedelta(days=2)
    for n in range(72):
        at_b = n % 3 == 0
        fields = {
            "occurred_from": start + timedelta(hours=n // 4),  # four share a time
            "title": f"{HOSTILE} ladder {n}" if n % 2 else "",
            "severity": ("low", "medium", "high", "critical")[n % 4],
        }
        if n % 5 == 0:
            fields["category"] = odd
        if at_b:
            incident, _ = svc.create_incident(
                personas.manager_ab,
                site=personas.site_b,
                client_uuid=uuid.uuid4(),
                narrative=f"B {HOSTILE} {n}",
                zone=zone_b if n % 2 else None,
                category=fields.pop("category", None) or Category.objects.first(),
                **fields,
            )
        else:
            incident = draft(personas, narrative=f"A {HOSTILE} {n}", **fields)
        if n % 4 != 1:
            author = personas.manager_ab if at_b else personas.guard_a
            svc.submit_incident(incident, author)
    return odd


def _compare(client, url, monkeypatch, language="en", compiled=None):
    """The page's bytes by the compiled reads and by the ORM's; returns the HTML."""
    calls = []
    real = keyset_rows.KeysetStatements.page_of

    def spy(*args, **kwargs):
        calls.append(True)
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(keyset_rows.KeysetStatements, "page_of", spy)
        new = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    with monkeypatch.context() as patch:
        patch.setattr(keyset_rows.KeysetStatements, "usable", lambda *args: False)
        patch.setattr(incident_lists, "sites_in_order", lambda *args: None)
        patch.setattr(incident_lists, "sites_statement", lambda *args: None)
        old = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert new.status_code == old.status_code == 200
    html = new.content.decode()
    assert _normalised(html) == _normalised(old.content.decode()), url
    if compiled is not None:
        assert bool(calls) == compiled, url
    return html


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("name", ["incident-list", "incident-review-queue"])
def test_every_persona_every_page_forward_and_back_is_the_bytes_it_was(
    world, personas, client_for, monkeypatch, language, name
):
    url = reverse(name)
    shown = 0
    for who in PERSONAS:
        client = client_for(who)
        query, queries = "", []
        while query is not None:
            html = _compare(client, f"{url}?{query}", monkeypatch, language)
            queries.append(query)
            query = _link(html, "next")
            shown += html.count('href="/incidents/') if who == "manager_ab" else 0
        for query in queries[1:]:  # back from each page: "Newer"/"Earlier"
            html = _compare(client, f"{url}?{query}", monkeypatch, language)
            back = _link(html, "prev")
            assert back is not None
            _compare(client, f"{url}?{back}", monkeypatch, language)
        bad = _compare(client, f"{url}?cursor=not-a-cursor", monkeypatch, language)
        assert "alert alert-warning" in bad or "cursor" in bad.lower()
        if who == "outsider_c":
            assert "ALPHA" not in html and "BRAVO" not in html and "ladder" not in html
        if who == "manager_ab":
            assert len(queries) == 2  # 72 (54 waiting) rows: two pages of 50
    assert shown
    html = client_for("manager_ab").get(url).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;" in html
    assert "<script>alert" not in html


def test_the_compiled_reads_are_taken_on_postgresql(world, client_for, monkeypatch):
    compiled = _on_postgres() or None
    pages = [(who, "incident-list") for who in PERSONAS[:4]]
    # A guard and the outsider review at no site: their queue reads nothing at all.
    pages += [(who, "incident-review-queue") for who in ("supervisor_a", "manager_ab")]
    for who, name in pages:
        url = reverse(name)
        html = _compare(client_for(who), url, monkeypatch, compiled=compiled)
        older = _link(html, "next")
        if older:
            _compare(client_for(who), f"{url}?{older}", monkeypatch, compiled=compiled)


FILTERS = {
    "site": ["ALPHA", "BRAVO", "CHARLIE"],
    "status": ["submitted"],
    "severity": ["high"],
    "category": None,  # the hostile category's id
    "date_from": [(timezone.now() - timedelta(days=1)).date().isoformat()],
    "date_to": [timezone.now().date().isoformat()],
    "text": ["ladder", "%_\\", HOSTILE[:8]],
}


def _combinations(odd):
    names = list(FILTERS)
    values = {**FILTERS, "category": [str(odd.pk)]}
    for size in range(len(names) + 1):
        for chosen in itertools.combinations(names, size):
            for picked in itertools.product(*(values[n][:1] for n in chosen)):
                yield dict(zip(chosen, picked, strict=True))


def test_every_filter_combination_is_the_bytes_it_was(world, client_for, monkeypatch):
    monkeypatch.setattr(keyset_rows, "MAX_SHAPES", 10_000)  # every shape compiled
    client = client_for("manager_ab")
    url = reverse("incident-list")
    combinations = list(_combinations(world))
    assert len(combinations) == 2 ** len(FILTERS)
    extra = [{"text": t} for t in FILTERS["text"][1:]] + [
        {"site": "CHARLIE"},  # not the user's: the form refuses it, nothing is shown
        {"date_from": "not a date"},
        {"site": "BRAVO", "text": "ladder", "status": "draft"},
    ]
    rows = 0
    for filters in combinations + extra:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        query = query.replace("%", "%25").replace("&q", "%26q").replace('"', "%22")
        html = _compare(client, f"{url}?{query}", monkeypatch)
        rows += html.count('<a href="/incidents/') - html.count('<a href="/incidents/new')
        older = _link(html, "next")
        if older:
            html = _compare(client, f"{url}?{older}", monkeypatch)
            _compare(client, f"{url}?{_link(html, 'prev')}", monkeypatch)
    assert rows > 0


def test_queries_do_not_grow_with_rows(world, personas, client_for):
    client = client_for("manager_ab")
    for name in ("incident-list", "incident-review-queue"):
        url = reverse(name)
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(f"{url}?text=ladder" if name == "incident-list" else url)
        for n in range(30):
            draft(personas, title=f"more {n}")
        with CaptureQueriesContext(connection) as many:
            client.get(f"{url}?text=ladder" if name == "incident-list" else url)
        assert len(many) == len(few)
        if _on_postgres():
            # The sites (with the memberships) and the page: one statement each.
            reads = [sql for sql in statements_of(many) if "facility_log_incident" in sql]
            assert len(reads) == 1 and "UNION ALL" in reads[0]
            # (On a verified session they come with its device: facility_log/signed_in.py.)
            assert not any(
                '"facility_log_membership"' in sql
                and "facility_log_site" not in sql
                and '"otp_totp_totpdevice"' not in sql
                for sql in statements_of(many)
            )
