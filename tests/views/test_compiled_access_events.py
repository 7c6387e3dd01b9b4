"""The access-event page read by statements compiled once (services/access_event_pages.py,
services/list_sites.py), its rows written from tuples (templatetags/access_event_tags.py) and
its fixed fragments kept gives the bytes the page gave before: the old view and template are
kept below as they were and served at the same address. Every persona, English and German,
hostile values, every combination of the filters, paging forward and back by cursor, an
unreadable cursor and a forged one. On PostgreSQL the compiled read is taken (checked)."""

import itertools
import re
from datetime import timedelta

import pytest
from django.contrib import messages
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from config.urls import urlpatterns as real_urlpatterns
from facility_log import paging
from facility_log.forms.access import EventFilterForm
from facility_log.models import AccessEvent
from facility_log.scoping import MANAGE_ROLES, VIEW_ROLES, scoped_to_ids, site_id_list, sites_for
from facility_log.services import access as access_services
from facility_log.services import access_event_pages, access_mapping, keyset_rows, view_log
from facility_log.services.access_event_pages import PAGE_COLUMNS
from facility_log.templatetags import fixed_tags
from facility_log.views import access as views
from tests.access.helpers import door, ingest, row

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"q\""
PERSONAS = ("guard_a", "supervisor_a", "manager_ab", "outsider_c", "admin")
PAGE = "/access/events/"
T0 = "2026-03-20T08:00:00"

# --- the page as it was (views/access.py and access/events.html before the compiled read) --

OLD_TEMPLATE = """{% extends "facility_log/base.html" %}{% load i18n %}
{% load facility_log_tags %}
{% block title %}{% translate "Access events" %}{% endblock %}
{% block content %}
{% include "facility_log/access/_nav.html" %}
<h1>{% translate "Access events" %}</h1>
<p class="help">{% translate "Sites:" %} {% for site in sites %}<span class="badge">{{ site.code }}</span> {% empty %}{% translate "none" %}{% endfor %} {% translate "· times in each site's zone." %}</p>
<form method="get" class="card filters">
  {% form_fields form %}
  <div class="actions">
    <button type="submit">{% translate "Filter" %}</button>
    <button type="submit" name="format" value="csv" class="secondary">{% translate "Export CSV" %}</button>
  </div>
</form>
<div class="table-wrap"><table>
  <thead><tr><th scope="col">{% translate "When" %}</th><th scope="col">{% translate "Site" %}</th><th scope="col">{% translate "Door" %}</th><th scope="col">{% translate "Type" %}</th><th scope="col">{% translate "Direction" %}</th><th scope="col">{% translate "Cardholder" %}</th><th scope="col">{% translate "Card" %}</th></tr></thead>
  <tbody>
  {% if page.rows %}{% access_event_rows page.rows %}
  {% else %}<tr><td colspan="7">{% translate "No events." %}</td></tr>{% endif %}
  </tbody>
</table></div>
{% include "facility_log/_keyset_nav.html" %}
{% if unmapped %}
<h2>{% translate "Vendor types to map" %}</h2>
<p class="help">{% translate "Stored as “other” until mapped:" %} <a href="{% url 'access-vendor-types' %}">{% translate "map them for your sites" %}</a>.</p>
<div class="table-wrap"><table>
  <thead><tr><th scope="col">{% translate "Source" %}</th><th scope="col">{% translate "Vendor type" %}</th><th scope="col">{% translate "Events" %}</th></tr></thead>
  <tbody>{% for row in unmapped %}<tr><td>{{ row.source }}</td><td>{{ row.vendor_type }}</td><td>{{ row.events }}</td></tr>{% endfor %}</tbody>
</table></div>
{% endif %}
{% endblock %}
"""  # noqa: E501


def _old_filtered_events(request):
    sites = list(sites_for(request.user, VIEW_ROLES))
    site_ids = [site.pk for site in sites]
    form = EventFilterForm(request.GET or None, sites=sites)
    events = scoped_to_ids(AccessEvent.objects.all(), site_ids)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["site"]:
            site_ids = [form.sites[data["site"]].pk]
            events = events.filter(site_id__in=site_ids)
        if data["door"]:
            events = events.filter(door__code=data["door"])
        if data["event_type"]:
            events = events.filter(event_type=data["event_type"])
        if data["cardholder"]:
            events = events.filter(cardholder__icontains=data["cardholder"])
        if form.local("start"):
            events = events.filter(occurred_at__gte=form.local("start"))
        if form.local("end"):
            events = events.filter(occurred_at__lt=form.local("end"))
    elif form.is_bound:
        events, site_ids = events.none(), []
    return form, events, sites, site_ids


def _old_event_page(request, events, sites, site_ids):
    rows = events.values(*PAGE_COLUMNS)
    keyset = {"size": views.EVENTS_PER_PAGE, "split_field": "site_id", "split_values": site_ids}
    try:
        page = paging.keyset_page(
            rows, "occurred_at", cursor=request.GET.get("cursor") or None, **keyset
        )
    except paging.BadCursor as error:
        messages.warning(request, str(error))
        page = paging.keyset_page(rows, "occurred_at", **keyset)
    by_id = {site.pk: site for site in sites}
    for event in page.rows:
        event["site"] = by_id[event["site_id"]]
    return page


def _old_event_list(request):
    form, events, sites, site_ids = _old_filtered_events(request)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    view_log.access_events_read(
        request.user,
        events,
        cardholder=data.get("cardholder", ""),
        site=form.sites.get(data.get("site") or ""),
        query=view_log.filters_text(request.GET, skip=("page", "format", "cursor")),
        csv=False,
    )
    page = _old_event_page(request, events, sites, site_ids)
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("page", None)
    managed_ids = set(site_id_list(request.user, MANAGE_ROLES))
    managed = [site for site in sites if site.pk in managed_ids]
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "sites": sites,
        "unmapped": _old_unmapped(managed) if managed else [],
    }
    return HttpResponse(engines["django"].from_string(OLD_TEMPLATE).render(context, request))


def _old_unmapped(sites):
    """unmapped_vendor_types with the counts read by the ORM (not the compiled statement)."""
    real = access_mapping._unmapped_counts
    access_mapping._unmapped_counts = lambda ids: list(
        access_mapping._unmapped_query(len(ids), **{f"site{n}": v for n, v in enumerate(ids)})
    )
    try:
        return access_services.unmapped_vendor_types(sites)
    finally:
        access_mapping._unmapped_counts = real


_serve_old = False


def _either(request):
    return (_old_event_list if _serve_old else views.event_list)(request)


# This module is the URLconf of its tests: the page at its address, old or new, then the rest.
urlpatterns = [path(PAGE[1:], _either), *real_urlpatterns]


# --- the comparison -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _urls(settings, monkeypatch):
    settings.ROOT_URLCONF = __name__
    monkeypatch.setattr(views, "EVENTS_PER_PAGE", 7)


@pytest.fixture
def world(personas):
    """Events at A and B over several pages (times shared by several), hostile cardholders,
    vendor types and a hostile door code, denials with reasons, both directions."""
    for site, zone in ((personas.site_a, personas.zone_a), (personas.site_b, personas.zone_b)):
        door(site, zone, "D-1")
        door(site, zone, "D-<1>")
        rows, unknown = [], []
        for n in range(24):
            kind = ("granted", "denied", "rex", "door_opened")[n % 4]
            fields = {
                "line": n + 2,
                "external_id": f"w-{site.code}-{n}",
                "occurred_at": f"{T0[:-5]}{8 + n // 3:02d}:{n % 3 * 5:02d}Z",
                "door": "D-<1>" if n % 3 == 0 else "D-1",
                "cardholder": f"{HOSTILE} {n}" if n % 2 else "",
                "credential": f"{n:08d}" if n % 5 else "",
                "direction": ("in", "out", "")[n % 3],
            }
            if n % 6 == 5:  # a type the vendor names and nothing maps: `other`, its word kept
                unknown.append(
                    row(
                        **fields,
                        source="gallagher",
                        vendor="gallagher",
                        vendor_type=f"v {HOSTILE}",
                        vendor_type_id="40001",
                        vendor_group_id="71",
                    )
                )
                continue
            reason = "expired" if kind == "denied" and n % 8 == 1 else ""
            rows.append(row(**fields, event_type=kind, reason=reason))
        ingest(site, rows)
        ingest(site, unknown, vendor="gallagher")
    assert AccessEvent.objects.filter(vendor_type__contains="<script>").exists()


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="\?([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _compare(client, url, monkeypatch, language="en", compiled=None) -> str:
    """The page's bytes by the new view and by the old one; returns the HTML."""
    global _serve_old
    calls = []
    real = access_event_pages.compiled_page

    def spy(*args):
        page = real(*args)
        calls.append(page is not None)
        return page

    with monkeypatch.context() as patch:
        patch.setattr(access_event_pages, "compiled_page", spy)
        new = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    _serve_old = True
    try:
        old = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    finally:
        _serve_old = False
    assert new.status_code == old.status_code == 200, url
    html = new.content.decode()
    assert _normalised(html) == _normalised(old.content.decode()), url
    if compiled is not None:
        assert calls and all(calls) == compiled, url
    return html


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_persona_every_page_forward_and_back_is_the_bytes_it_was(
    world, client_for, monkeypatch, language
):
    for who in PERSONAS:
        client = client_for(who)
        query, queries = "", []
        while query is not None:
            html = _compare(client, f"{PAGE}?{query}", monkeypatch, language)
            queries.append(query)
            query = _link(html, "next")
        for query in queries[1:]:  # back from each page: "Newer"
            html = _compare(client, f"{PAGE}?{query}", monkeypatch, language)
            back = _link(html, "prev")
            assert back is not None
            _compare(client, f"{PAGE}?{back}", monkeypatch, language)
        bad = _compare(client, f"{PAGE}?cursor=not-a-cursor", monkeypatch, language)
        if who == "outsider_c":
            assert len(queries) == 1 and "ALPHA" not in html and "BRAVO" not in html
            assert "D-&lt;1&gt;" not in bad
        if who == "manager_ab":
            assert len(queries) == 7  # 48 events, 7 a page
            assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;" in html
            assert "<script>alert" not in html
            assert "Vendor types to map" in html or language != "en"


def test_the_compiled_read_is_taken_on_postgresql(world, client_for, monkeypatch):
    compiled = _on_postgres() or None
    for who in ("guard_a", "supervisor_a", "manager_ab"):
        html = _compare(client_for(who), PAGE, monkeypatch, compiled=compiled)
        older = _link(html, "next")
        html = _compare(client_for(who), f"{PAGE}?{older}", monkeypatch, compiled=compiled)
        _compare(client_for(who), f"{PAGE}?{_link(html, 'prev')}", monkeypatch, compiled=compiled)


def test_a_forged_cursor_stays_in_the_users_sites(world, personas, client_for, monkeypatch):
    newest = AccessEvent.objects.order_by("-occurred_at", "-id").first()
    cursor = paging.encode(paging.OLDER, newest.occurred_at + timedelta(days=1), 10**9)
    for who in ("outsider_c", "supervisor_a"):
        html = _compare(client_for(who), f"{PAGE}?cursor={cursor}", monkeypatch)
        assert "BRAVO</td>" not in html
    html = _compare(client_for("supervisor_a"), f"{PAGE}?site=BRAVO&cursor={cursor}", monkeypatch)
    assert "BRAVO</td>" not in html and "ALPHA</td>" not in html


FILTERS = {
    "site": ["ALPHA", "BRAVO"],
    "door": ["D-<1>", "D-1"],
    "event_type": ["denied", "other"],
    "start": ["2026-03-20T10:00"],
    "end": ["2026-03-20T14:00"],
    "cardholder": ["script", "%_\\"],
}


def _combinations():
    names = list(FILTERS)
    for size in range(len(names) + 1):
        for chosen in itertools.combinations(names, size):
            yield {name: FILTERS[name][0] for name in chosen}


def _quoted(value: str) -> str:
    return value.replace("%", "%25").replace("<", "%3C").replace(">", "%3E").replace("\\", "%5C")


def test_every_filter_combination_is_the_bytes_it_was(world, client_for, monkeypatch):
    monkeypatch.setattr(keyset_rows, "MAX_SHAPES", 10_000)  # every shape compiled
    client = client_for("manager_ab")
    combinations = list(_combinations())
    assert len(combinations) == 2 ** len(FILTERS)
    extra = [
        {"site": "BRAVO", "cardholder": "%_\\"},
        {"site": "CHARLIE"},  # not the user's: the form refuses it, nothing is shown
        {"start": "not a time"},
        {"event_type": "nonsense"},
        {"site": "ALPHA", "door": "D-1", "event_type": "other", "cardholder": "<script>"},
    ]
    rows = 0
    for filters in combinations + extra:
        query = "&".join(f"{k}={_quoted(v)}" for k, v in filters.items())
        html = _compare(client, f"{PAGE}?{query}", monkeypatch)
        rows += html.count("<tr>\n    <td>")
        older = _link(html, "next")
        if older:
            html = _compare(client, f"{PAGE}?{older}", monkeypatch)
            _compare(client, f"{PAGE}?{_link(html, 'prev')}", monkeypatch)
    assert rows > 0


def test_the_kept_fragments_are_the_ones_rendered_fresh(world, client_for, monkeypatch):
    for language in ("en", "de"):
        kept = client_for("manager_ab").get(PAGE, HTTP_ACCEPT_LANGUAGE=language)
        monkeypatch.setattr(fixed_tags, "KEEP_FIXED", False)
        fresh = client_for("manager_ab").get(PAGE, HTTP_ACCEPT_LANGUAGE=language)
        monkeypatch.setattr(fixed_tags, "KEEP_FIXED", True)
        assert _normalised(kept.content.decode()) == _normalised(fresh.content.decode())


def test_the_sites_read_marks_what_scoping_says(world, personas):
    for who in PERSONAS:
        user = getattr(personas, who)
        sites = access_event_pages.page_sites(user)
        if who == "admin":
            assert sites is None  # every site: read through scoping
            continue
        assert [s.pk for s in sites] == list(
            sites_for(user, VIEW_ROLES).values_list("pk", flat=True)
        )
        managed = set(site_id_list(user, MANAGE_ROLES))
        assert {s.pk for s in sites if s.marked} == managed
        stored = AccessEvent.objects.filter(event_type="other").exclude(vendor_type="")
        assert {s.pk for s in sites if s.unmapped} == set(
            stored.filter(site__in=sites).values_list("site_id", flat=True)
        )


def test_with_nothing_to_map_the_notice_is_not_read(personas, client_for, monkeypatch):
    door(personas.site_a, personas.zone_a, "D-1")
    ingest(personas.site_a, [row(line=2, external_id="plain", cardholder=HOSTILE)])
    asked = []
    real = access_services.unmapped_vendor_types
    monkeypatch.setattr(
        access_services, "unmapped_vendor_types", lambda s: asked.append(s) or real(s)
    )
    for language in ("en", "de"):
        html = _compare(client_for("manager_ab"), PAGE, monkeypatch, language)
        assert "Vendor types to map" not in html and "&lt;script&gt;" in html
    assert len(asked) == 2  # the old view's two reads, none by the new one
