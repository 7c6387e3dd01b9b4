"""base.html's fixed parts (`{% fixed %}`, templatetags/fixed_tags.py) and the filter forms'
labels kept per language (facility_log/lazy_text.py) give the bytes the old templates gave.

The old path is the old templates themselves (base.html and the access pages' nav, kept
verbatim here and put in front of the app's) with every label translated on every request:
each page is compared with it for each persona, signed out too, in English and German, with
hostile values in the user's name, the records and the filters. Then what belongs to one
request must still vary: the user's name, their messages, their CSRF token, the admin link,
the language, the chosen filter values."""

import difflib
import re
import uuid
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.middleware.csrf import _unmask_cipher_token
from django.template import Context, TemplateSyntaxError, engines
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from facility_log.forms import renderer
from facility_log.templatetags import facility_log_tags
from tests.access.helpers import door, ingest, row
from tests.incident_factories import draft, submitted
from tests.shifts_helpers import ago, worked

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"Ö\" 'q' 100% 🚨"
LANGUAGES = ("en-gb", "de")
PEOPLE = ("guard_a", "supervisor_a", "manager_ab", "auditor_a", "outsider_c", "admin")

# The templates as they were before `{% fixed %}` (verbatim).
OLD_BASE = """{% load i18n %}{% load static %}{% load script_strings facility_log_tags %}<!doctype html>
{% get_current_language as page_language %}<html lang="{{ page_language }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="dark light">
  <title>{% block title %}facility_log{% endblock %} · facility_log</title>
  <link rel="icon" href="{% static 'facility_log/favicon.svg' %}" type="image/svg+xml">
  <link rel="stylesheet" href="{% static 'facility_log/css/app.css' %}">
  <script src="{% static 'facility_log/js/theme.js' %}"></script>
  {% if user.is_authenticated %}<script src="{% static 'facility_log/js/tablet/outbox.js' %}" defer></script>{% endif %}
  {% block head %}{% endblock %}
</head>
<body{% if user.is_authenticated %} data-user="{{ user.get_username }}" data-tablet-url="{% url 'tablet' %}"{% endif %}>
  <a class="skip" href="#main">{% translate "Skip to content" %}</a>
  <header class="top">
    <a class="brand" href="{% url 'home' %}">facility_log</a>
    {% if user.is_authenticated %}
    {% main_nav user %}
    <span class="who">{{ user.get_full_name|default:user.get_username }}</span>
    <button type="button" id="theme-toggle" class="secondary">{% translate "Theme" %}</button>
    <form method="post" action="{% url 'logout' %}">{% csrf_token %}
      <button type="submit" class="secondary">{% translate "Sign out" %}</button>
    </form>
    {% else %}
    <span style="flex:1"></span>
    <button type="button" id="theme-toggle" class="secondary">{% translate "Theme" %}</button>
    {% endif %}
  </header>
  <main id="main">
    {% if messages %}<ul class="messages">{% for message in messages %}<li class="{{ message.tags }}">{{ message }}</li>{% endfor %}</ul>{% endif %}
    {% block content %}{% endblock %}
  </main>
  {% script_strings "page" %}
  {% block scripts %}{% endblock %}
</body>
</html>
"""  # noqa: E501 - the old template's lines, as they were

OLD_ACCESS_NAV = """{% load i18n %}<nav class="subnav" aria-label="{% translate 'Access control' %}">
  <a href="{% url 'access-alarm-console' %}">{% translate "Alarms" %}</a>
  <a href="{% url 'access-event-list' %}">{% translate "Events" %}</a>
  <a href="{% url 'access-door-list' %}">{% translate "Doors" %}</a>
  <a href="{% url 'access-import' %}">{% translate "Import" %}</a>
  <a href="{% url 'access-vendor-types' %}">{% translate "Vendor types" %}</a>
</nav>
"""  # noqa: E501 - the old template's lines, as they were


def _normalised(html: str) -> str:
    """The page without what differs on every request (the masked CSRF token, the nonce, the
    home page's "local time" of each site, which a new minute changes)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    html = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d [^<(]*\(UTC[+-]\d\d:\d\d\)</p>", "now</p>", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


@pytest.fixture
def old_path(settings, tmp_path, monkeypatch):
    """A context manager: the requests inside it take the old path."""
    folder = tmp_path / "old-templates"
    (folder / "facility_log" / "access").mkdir(parents=True)
    (folder / "facility_log" / "base.html").write_text(OLD_BASE, encoding="utf-8")
    (folder / "facility_log" / "access" / "_nav.html").write_text(OLD_ACCESS_NAV, "utf-8")
    templates = [{**settings.TEMPLATES[0], "DIRS": [str(folder)]}]

    @contextmanager
    def old():
        with monkeypatch.context() as patch, override_settings(TEMPLATES=templates):
            for module in (facility_log_tags, renderer):  # labels translated every time
                patch.setattr(module, "text", lambda value: value)
            patch.setattr(renderer, "_option", renderer._option_html)  # options written too
            yield

    return old


def _hostile_world(p, client_for) -> None:
    """Records with hostile text on every list page, a user whose name is hostile, and the
    view log holding that user's read of an incident."""
    get_user_model().objects.filter(pk=p.supervisor_a.pk).update(first_name=HOSTILE)
    incident = submitted(p, title=HOSTILE, narrative=HOSTILE)
    draft(p, narrative=HOSTILE)
    worked(p, at=ago(hours=30), notes=HOSTILE)
    door(p.site_a, p.zone_a)
    ingest(p.site_a, [row(line=2, external_id=f"base-{uuid.uuid4()}", cardholder=HOSTILE)])
    read = client_for("supervisor_a").get(reverse("incident-page", args=[incident.pk]))
    assert read.status_code == 200


def _pages(p) -> list[str]:
    hostile = {"text": HOSTILE}
    return [
        reverse("home"),
        reverse("incident-list"),
        reverse("incident-list") + "?status=submitted&severity=high&" + _query(hostile),
        reverse("audit-view-log"),
        reverse("audit-view-log") + "?via=page&" + _query({"user": HOSTILE}),
        reverse("access-event-list"),
        reverse("access-event-list") + f"?site={p.site_a.code}&" + _query({"cardholder": HOSTILE}),
        reverse("site-shifts", args=[p.site_a.code]),
    ]


def _query(values: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


def _difference(old: str, new: str) -> str:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1)
    return "\n".join(lines)


def _old_and_new(client, url, language, old_path) -> tuple[tuple, list[tuple]]:
    """The page once by the old path, then twice by the new (the second from what the first
    kept): status and normalised body of each."""
    with old_path():
        old = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    new = [client.get(url, HTTP_ACCEPT_LANGUAGE=language) for _ in range(2)]
    return (old.status_code, _normalised(old.content.decode())), [
        (r.status_code, _normalised(r.content.decode())) for r in new
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_persona_gets_the_old_bytes(personas, client_for, old_path, language):
    _hostile_world(personas, client_for)
    for name in PEOPLE:
        client = client_for(name)
        for url in _pages(personas):
            old, new = _old_and_new(client, url, language, old_path)
            assert new == [old, old], (name, url, _difference(old[1], new[0][1]))
    home = client_for("supervisor_a").get(reverse("home"), HTTP_ACCEPT_LANGUAGE=language)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)" in home.content.decode()
    assert "<script>alert(" not in home.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_signed_out_pages_get_the_old_bytes(personas, old_path, language):
    client = Client()
    for url in (reverse("login"), reverse("login") + "?next=/incidents/"):
        old, new = _old_and_new(client, url, language, old_path)
        assert old[0] == 200 and new == [old, old]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_outsider_gets_nothing_of_site_a(personas, client_for, language):
    _hostile_world(personas, client_for)
    outsider = client_for("outsider_c")
    shifts = outsider.get(
        reverse("site-shifts", args=[personas.site_a.code]), HTTP_ACCEPT_LANGUAGE=language
    )
    assert shifts.status_code in (403, 404)
    pages = _pages(personas)
    for url in (pages[0], pages[1], pages[3], pages[5]):  # home and the lists, no filter
        page = outsider.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert "alert(" not in page and personas.site_a.code not in page


def _page(client, url="/incidents/", language="en-gb") -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_the_reader_s_own_name_and_flag_still_vary(personas, client_for):
    get_user_model().objects.filter(pk=personas.supervisor_a.pk).update(first_name=HOSTILE)
    pages = {name: _page(client_for(name)) for name in ("guard_a", "supervisor_a", "admin")}
    for name, html in pages.items():
        user = personas.all_people()[name]
        assert f'<body data-user="{user.get_username()}" data-tablet-url="/tablet/">' in html
        assert html.count('data-user="') == 1
    assert '<span class="who">&lt;script&gt;alert(&#x27;x&#x27;)' in pages["supervisor_a"]
    assert f'<span class="who">{personas.guard_a.get_full_name()}</span>' in pages["guard_a"]
    admin_link = f'href="{reverse("admin:index")}"'
    assert admin_link in pages["admin"] and admin_link not in pages["guard_a"]


def test_each_reader_gets_their_own_csrf_token(personas, client_for):
    tokens = []
    for name in ("guard_a", "manager_ab"):
        client = client_for(name)
        html = _page(client)
        masked = re.search(r'name="csrfmiddlewaretoken" value="([^"]*)"', html).group(1)
        secret = client.cookies["csrftoken"].value
        assert _unmask_cipher_token(masked) == secret
        tokens.append(secret)
    assert tokens[0] != tokens[1]


def test_messages_are_the_reader_s_own(personas, client_for):
    told, other = client_for("guard_a"), client_for("supervisor_a")
    storage = CookieStorage(RequestFactory().get("/"))
    told.cookies[storage.cookie_name] = storage._encode([Message(constants.WARNING, HOSTILE)])
    html = _page(told)
    assert '<ul class="messages"><li class="warning">&lt;script&gt;alert(' in html
    assert '<ul class="messages">' not in _page(other)
    assert '<ul class="messages">' not in _page(told)  # shown once


def test_each_language_keeps_its_own_fixed_parts(personas, client_for):
    client = client_for("guard_a")
    english, german, again = (_page(client, language=lang) for lang in ("en-gb", "de", "en-gb"))
    assert ">Sign out</button>" in english and ">Sign out</button>" not in german
    assert ">Skip to content</a>" in english and ">Skip to content</a>" not in german
    assert '<html lang="de">' in german
    assert _normalised(english) == _normalised(again)


def test_signed_out_after_signed_in_has_no_reader(personas, client_for):
    _page(client_for("guard_a"))
    html = Client().get(reverse("login")).content.decode()
    assert "<body>" in html and 'action="/logout/"' not in html and "outbox.js" not in html


def test_the_chosen_filter_values_are_each_request_s(personas, client_for):
    client = client_for("manager_ab")
    chosen = _page(client, "/incidents/?status=submitted&text=" + _query({"x": HOSTILE})[2:])
    plain = _page(client, "/incidents/?status=draft")
    assert '<option value="submitted" selected>' in chosen
    assert '<option value="submitted" selected>' not in plain
    assert '<option value="draft" selected>' in plain
    assert 'name="text" value="&lt;script&gt;' in chosen and 'name="text" value' not in plain
    logged = _page(client, "/audit/views/?via=page")
    again = _page(client, "/audit/views/")
    assert '<option value="page" selected>' in logged
    assert '<option value="page" selected>' not in again
    assert '<option value="" selected>Any route</option>' in again


@pytest.mark.parametrize("inside", ["{% static name %}", "{% static 'x.css' as href %}"])
def test_a_static_file_that_could_vary_is_refused(inside):
    page = engines["django"].engine.from_string(
        "{% load static fixed_tags %}{% fixed %}" + inside + "{% endfixed %}"
    )
    with pytest.raises(TemplateSyntaxError):
        page.render(Context({"name": "x.css"}))


def test_a_kept_include_inside_a_fixed_fragment_is_taken():
    page = engines["django"].engine.from_string(
        "{% load fixed_tags %}{% fixed %}"
        '{% include "facility_log/access/_nav.html" %}{% endfixed %}'
    )
    assert page.render(Context()).startswith('<nav class="subnav"')
