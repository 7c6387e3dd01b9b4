"""The incident list with its filter form kept by what it shows (views/incident_filters.py),
its rows kept by what they show (templatetags `incident_rows`) and its sites, categories and
page read in one round trip (views/incident_lists.py) gives the bytes it gave: the page as
it was is rendered with the template kept in tests/views/incident_list_before/ and the form
built as the view built it (its categories read by the field, its rows written anew), for
every persona, in English and German, unfiltered and with every filter chosen, valid or not,
the kept parts written (first request) and taken (second). A kept part is never stale, the
memos are bounded, site scoping holds and the round trips are counted per database."""

import re
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.template.backends.django import DjangoTemplates
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from facility_log.forms import incidents as incident_forms
from facility_log.models import Category, Incident
from facility_log.scoping import VIEW_ROLES, sites_for
from facility_log.services import incidents as svc
from facility_log.services.audit import audited_change
from facility_log.services.list_sites import sites_in_order
from facility_log.templatetags import facility_log_tags as tags
from facility_log.views import incident_filters, incident_lists
from tests.incident_factories import draft
from tests.views.test_compiled_html_lists import HOSTILE, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

BEFORE = Path(__file__).parent / "incident_list_before"
_OLD_ENGINE = DjangoTemplates(
    {
        "NAME": "incident_list_before",
        "DIRS": [BEFORE],
        "APP_DIRS": True,
        "OPTIONS": settings.TEMPLATES[0]["OPTIONS"],
    }
)
URL = "/incidents/"


def _old_render(request, name, context):
    """The page as it was rendered: `{% form_fields form %}` of the form built as the view
    built it (the sites read apart, the categories read by the field), rows written anew."""
    sites = sites_in_order(request.user, VIEW_ROLES)
    if sites is None:
        sites = list(sites_for(request.user, VIEW_ROLES))
    form = incident_forms.FilterForm(request.GET or None, sites=sites)
    if form.is_bound:
        form.is_valid()
    with mock.patch.object(tags, "_ROWS_WRITTEN", {}):
        html = _OLD_ENGINE.get_template(name).render({**context, "form": form}, request)
    return HttpResponse(html)


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _pages(client, url: str, monkeypatch, language: str) -> tuple[str, str, str]:
    """The page written (kept parts written), again (kept parts taken), and as it was."""
    pages = [client.get(url, HTTP_ACCEPT_LANGUAGE=language) for _ in range(2)]
    with monkeypatch.context() as patch:
        patch.setattr(incident_lists, "render", _old_render)
        pages.append(client.get(url, HTTP_ACCEPT_LANGUAGE=language))
    assert all(page.status_code == 200 for page in pages)
    first, again, old = (_normalised(page.content.decode()) for page in pages)
    return first, again, old


def _queries(odd: Category) -> list[str]:
    today = timezone.now().date()
    text = quote(HOSTILE[:12])
    every = (
        f"site=ALPHA&status=submitted&severity=high&category={odd.pk}"
        f"&date_from={today.replace(day=1).isoformat()}&date_to={today.isoformat()}&text={text}"
    )
    return [
        "",
        "cursor=",
        "site=ALPHA",
        "site=BRAVO&status=draft",
        "status=submitted&severity=high",
        f"category={odd.pk}",
        f"date_from={today.isoformat()}&date_to={today.isoformat()}",
        f"text={text}",
        "text=ladder&severity=low",
        every,
        "site=CHARLIE",  # not the manager's or the guard's: refused, nothing shown
        "date_from=not-a-date",
        "category=999999",
        "status=nonsense",
    ]


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("who", ["guard_a", "manager_ab", "outsider_c", "admin"])
def test_the_page_is_the_bytes_it_was(world, client_for, monkeypatch, language, who):  # noqa: F811
    incident_filters._WRITTEN.clear()
    tags._ROWS_WRITTEN.clear()
    client = client_for(who)
    for query in _queries(world):
        first, again, old = _pages(client, f"{URL}?{query}", monkeypatch, language)
        assert first == old, query
        assert again == old, query
    # The valid forms were kept, and the rows shown.
    assert incident_filters._WRITTEN
    assert tags._ROWS_WRITTEN or who == "outsider_c"
    # An older page by its cursor, and back.
    html = client.get(URL).content.decode()
    older = re.search(r'rel="next" href="\?([^"]*)"', html)
    if older:
        first, again, old = _pages(
            client, f"{URL}?{older.group(1).replace('&amp;', '&')}", monkeypatch, language
        )
        assert first == again == old


def test_a_kept_form_or_row_is_never_stale(world, personas, client_for):  # noqa: F811
    client = client_for("manager_ab")

    def page(query: str = "", language: str = "en") -> str:
        return client.get(f"{URL}?{query}", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    page()
    assert incident_filters._WRITTEN and tags._ROWS_WRITTEN  # kept, taken from now on
    site = personas.site_a
    with audited_change(personas.admin, "renamed for the test"):
        site.name = "Renamed <site>"
        site.save()
    assert "ALPHA – Renamed &lt;site&gt;" in page()
    with audited_change(personas.admin, "new category"):
        new = Category.objects.create(name="Brand new & fresh", sort_order=2)
    html = page()
    assert f'<option value="{new.pk}">Brand new &amp; fresh</option>' in html
    with audited_change(personas.admin, "renamed category"):
        new.name = "Renamed category"
        new.save()
    html = page()
    assert "Renamed category" in html and "Brand new" not in html
    chosen = page(f"category={new.pk}")
    assert f'<option value="{new.pk}" selected>Renamed category</option>' in chosen
    # A row whose status changes is written again.
    incident = draft(personas, title="Fresh draft row", occurred_from=timezone.now())
    row = re.search(r"<tr>(?:(?!</tr>).)*Fresh draft row.*?</tr>", page(), re.S).group(0)
    svc.submit_incident(incident, personas.guard_a)
    incident.refresh_from_db()
    changed = re.search(r"<tr>(?:(?!</tr>).)*Fresh draft row.*?</tr>", page(), re.S).group(0)
    assert changed != row and incident.number in changed
    # Another language is another key: the German labels, not the English kept ones.
    german = page(language="de")
    assert "Alle meine Standorte" in german and "All my sites" not in german
    assert "Jeder Status" in german and "Any status" not in german
    assert "Any status" in page() and "Jeder Status" not in page()


def test_the_kept_parts_are_bounded(world, client_for, monkeypatch):  # noqa: F811
    monkeypatch.setattr(incident_filters, "_WRITTEN_LIMIT", 2)
    monkeypatch.setattr(tags, "_ROWS_WRITTEN_LIMIT", 30)
    client = client_for("manager_ab")
    for text in ("a", "b", "c", "d"):
        assert client.get(f"{URL}?text={text}").status_code == 200
        assert len(incident_filters._WRITTEN) <= 2
    for query in ("", "cursor="):
        html = client.get(f"{URL}?{query}").content.decode()
        older = re.search(r'rel="next" href="\?([^"]*)"', html)
        client.get(f"{URL}?{older.group(1).replace('&amp;', '&')}")
        assert len(tags._ROWS_WRITTEN) <= 50 + 30


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        ("guard_a", {"ALPHA"}),
        ("supervisor_a", {"ALPHA"}),
        ("manager_ab", {"ALPHA", "BRAVO"}),
        ("outsider_c", set()),
    ],
)
def test_each_sees_only_their_sites(world, client_for, who, shown):  # noqa: F811
    client = client_for(who)
    for query in ("", "cursor=", "status=submitted", "site=ALPHA", "site=BRAVO"):
        response = client.get(f"{URL}?{query}")
        codes = {row["site__code"] for row in response.context["page"].rows}
        assert codes <= shown, (who, query)
        if not query:
            assert codes == shown
        offered = {code for code, _label in response.context["form"].fields["site"].choices}
        assert offered - {""} <= shown | {"CHARLIE"}
        assert ("CHARLIE" in offered) is (who == "outsider_c")
    html = client.get(URL).content.decode()
    if who == "outsider_c":
        assert "ladder" not in html and "No incidents match." in html


def _counted(client, query: str) -> int:
    client.get(f"{URL}?{query}")  # the session's row read with its device from now on
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{URL}?{query}").status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("who", "postgresql", "sqlite"),
    [
        # PostgreSQL: the session (with its device and memberships on a verified session;
        # a guard's user and memberships apart), then the categories, sites and page in one
        # round trip. SQLite: each read alone (session, device or user and memberships,
        # categories, sites, page).
        ("manager_ab", 2, 5),
        ("supervisor_a", 2, 5),
        ("guard_a", 4, 6),
    ],
)
def test_round_trips(world, client_for, who, postgresql, sqlite):  # noqa: F811
    client = client_for(who)
    on_postgresql = connection.vendor == "postgresql"
    expected = postgresql if on_postgresql else sqlite
    for query in ("", "cursor=", "status=submitted&text=ladder", "severity=low"):
        assert _counted(client, query) == expected, query
    # A chosen site: the page is read once the sites are (one more on PostgreSQL).
    assert _counted(client, "site=ALPHA") == expected + on_postgresql
    # A chosen category is checked by its field's own read, as before.
    odd = world
    assert _counted(client, f"category={odd.pk}") == expected + 1


def _fresh_rows(rows) -> str:
    """The rows written anew, nothing kept."""
    with mock.patch.object(tags, "_ROWS_WRITTEN", {}):
        return tags.incident_rows(rows)


def test_a_kept_row_follows_every_value_it_shows(personas):
    draft(personas, title="", narrative="N " * 60)
    (row,) = Incident.objects.values(*tags.INCIDENT_ROW_FIELDS)
    changes = {
        "id": row["id"] + 1000,
        "number": "ALPHA-2026-0001",
        "site__code": "ZULU",
        "site__time_zone": "Asia/Tokyo",
        "zone__name": "Gate <1>",
        "category__name": "Theft",
        "occurred_from": row["occurred_from"] + timedelta(minutes=1),
        "severity": "critical",
        "status": "closed",
        "title": "A title & more",
        "narrative": "M " * 60,
    }
    tags._ROWS_WRITTEN.clear()
    for name, value in changes.items():
        assert tags.incident_rows([row]) == _fresh_rows([row])  # kept
        changed = {**row, name: value}
        assert tags.incident_rows([changed]) == _fresh_rows([changed]) != _fresh_rows([row]), name
    with translation.override("de"):
        assert tags.incident_rows([row]) == _fresh_rows([row])
        assert "Entwurf" in tags.incident_rows([row])
