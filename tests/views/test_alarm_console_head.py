"""The alarm console's page around its items (templatetags/alarm_console_tags.py: the help
line, the counts, the filters and the quick notes written in Python, the rest kept per
language by `{% fixed %}`) is exactly what the former template wrote. That template is kept in
tests/views/console_before/ and rendered with the same context in place of the new one: in
English and German, for a manager of two sites, a guard of one and an outsider of none, with
no filters, valid filters and filters in error, a hostile site name, and again after the names
and counts it shows have changed, so kept text is never stale."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.template.backends.django import DjangoTemplates

from facility_log.forms.access import ConsoleFilterForm
from facility_log.models import Alarm
from facility_log.services import access
from facility_log.services.accounts import system_actor
from facility_log.services.audit import audited_change
from facility_log.templatetags import alarm_console_tags
from facility_log.views import alarm_console as console_views
from tests.access.helpers import door, ingest, row

pytestmark = pytest.mark.django_db

BEFORE = Path(__file__).parent / "console_before"
# The project's template settings, the kept template found first.
_OLD_ENGINE = DjangoTemplates(
    {
        "NAME": "console_before",
        "DIRS": [BEFORE],
        "APP_DIRS": True,
        "OPTIONS": settings.TEMPLATES[0]["OPTIONS"],
    }
)
HOSTILE = "<b>Gate</b> & \"co\" 'x'"
QUERIES = [
    "",
    "?site=ALPHA&type=forced_open&state=new&priority=2&door=D-1",
    "?door=D-1",
    "?priority=9&type=nonsense&site=ZZZ",  # errors: each named, the list empty
]


@pytest.fixture(autouse=True)
def _written_afresh():
    """Each test writes its text afresh (kept text of another test would prove nothing)."""
    alarm_console_tags._KEPT.clear()
    yield
    alarm_console_tags._KEPT.clear()


def _old_render(request, name, context):
    """The former template, with the form made as before (unbound without filters)."""
    if context["form"] is None:
        context = {**context, "form": ConsoleFilterForm(None, sites=context["sites"])}
    return HttpResponse(_OLD_ENGINE.get_template(name).render(context, request))


def _normalised(html: str) -> str:
    """The page without what differs on every request (the masked CSRF token, the nonce)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _both(client, url: str, monkeypatch, language: str) -> tuple[str, str]:
    new = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    with monkeypatch.context() as m:
        m.setattr(console_views, "render", _old_render)
        old = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert new.status_code == old.status_code == 200
    return _normalised(new.content.decode()), _normalised(old.content.decode())


def _alarms(p):
    door(p.site_a, p.zone_a)
    types = ["offline", "held_open", "tamper", "forced_open", "duress", "forced_open"]
    ingest(
        p.site_a,
        [
            row(
                line=n + 2,
                event_type=t,
                external_id=f"h-{n}",
                occurred_at=f"2026-03-28T22:{n:02d}:00Z",
            )
            for n, t in enumerate(types)
        ],
    )


def _rename(site, name: str) -> None:
    with audited_change(system_actor(), "test: a site's new name"):
        site.name = name
        site.save()


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_page_is_written_as_the_former_template_wrote_it(
    personas, client_for, monkeypatch, language
):
    _alarms(personas)
    _rename(personas.site_a, HOSTILE)
    pages = {}
    for persona in ("manager_ab", "supervisor_a", "outsider_c"):
        client = client_for(persona)
        for query in QUERIES:
            new, old = _both(client, f"/access/alarms/{query}", monkeypatch, language)
            assert new == old, (persona, query)
            pages[(persona, query)] = new
    manager = pages[("manager_ab", "")]
    assert "&lt;b&gt;Gate&lt;/b&gt;" in manager and "<b>Gate</b>" not in manager
    assert manager.count("/alarm-priorities/") == 2  # both managed sites
    assert ("Prioritäten" if language == "de" else "Priorities at") in manager
    assert "/alarm-priorities/" not in pages[("supervisor_a", "")]
    assert "data-id=" in manager and "data-id=" not in pages[("outsider_c", "")]
    assert 'class="errorlist' in pages[("manager_ab", QUERIES[3])]


def test_kept_text_follows_what_it_shows(personas, client_for, monkeypatch):
    """A renamed site, an acknowledged alarm (other counts) and another filter value are
    written anew: after each change the page still equals the former template's."""
    _alarms(personas)
    client = client_for("manager_ab")
    first, _old = _both(client, "/access/alarms/", monkeypatch, "en")
    assert alarm_console_tags._KEPT  # the help line and the filters were kept
    _rename(personas.site_a, "Renamed Alpha")
    access.acknowledge_alarm(
        Alarm.objects.filter(site=personas.site_a).first(), personas.supervisor_a, note="seen"
    )
    for url in ("/access/alarms/", "/access/alarms/?door=D-1", "/access/alarms/?door=D-2"):
        new, old = _both(client, url, monkeypatch, "en")
        assert new == old, url
    new, _old = _both(client, "/access/alarms/", monkeypatch, "en")
    assert "Renamed Alpha" in new and "Renamed Alpha" not in first
    assert "· 0 acknowledged" in first and "· 1 acknowledged" in new
