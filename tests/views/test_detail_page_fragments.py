"""The detail pages' kept fragments and one-pass rows (templatetags/detail_page_tags.py) give
the bytes the templates gave: `{% fixed %}` kept against the same nodes rendered on every
request, and the report's rows against the template loops they replace (kept verbatim here),
in English and German, with hostile values, for each persona (the outsider gets nothing);
and a fragment that could vary by reader is refused, not kept."""

import re
import zoneinfo
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.template import Context, TemplateSyntaxError, engines
from django.urls import reverse
from django.utils import translation

from facility_log.models import Alarm
from facility_log.services import access as access_services
from facility_log.services import links
from facility_log.services.accounts import system_actor
from facility_log.services.activity_report import IncidentLine, RunLine
from facility_log.templatetags import fixed_tags
from tests.access.helpers import ingest, row
from tests.views.test_shift_report_one_trip import _hostile_shift

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"Ö\" 'q' 100% \u202eRTL\u202c 🚨"
VIEWERS = ("guard_a", "supervisor_a", "manager_ab")

OLD_RUN_ROWS = """{% load i18n %}{% load facility_log_tags %}<tbody>
  {% for line in runs %}
  <tr><td>{{ line.route_name }}</td><td>{{ line.guard_name }}</td><td>{{ line.started_at|site_time:site }}</td>
      <td>{% if line.finished_at %}{{ line.finished_at|site_time:site }}{% else %}{% translate "not finished" %}{% endif %}</td>
      <td>{% blocktranslate trimmed with scanned=line.scanned planned=line.planned %}{{ scanned }} of {{ planned }}{% endblocktranslate %}</td>
      <td>{% for text in line.exceptions %}{{ text }}{% if not forloop.last %}<br>{% endif %}{% empty %}{% translate "none" %}{% endfor %}</td></tr>
  {% empty %}<tr><td colspan="6">{% translate "No rounds walked." %}</td></tr>{% endfor %}
  </tbody>"""  # noqa: E501 - the old template's lines, as they were

OLD_INCIDENT_ROWS = """{% load i18n %}{% load facility_log_tags %}<tbody>
  {% for line in incidents %}
  <tr><td>{% if pdf %}{{ line.label }}{% else %}<a href="{% url 'incident-page' line.incident.pk %}">{{ line.label }}</a>{% endif %}</td>
      <td>{{ line.occurred_at|site_time:site }}</td><td>{{ line.category }}</td>
      <td><span class="sev sev-{{ line.incident.severity }}">{{ line.severity }}</span></td><td>{{ line.status }}</td><td>{{ line.summary }}</td></tr>
  {% empty %}<tr><td colspan="6">{% translate "No incidents." %}</td></tr>{% endfor %}
  </tbody>"""  # noqa: E501 - the old template's lines, as they were


def _normalised(html: str) -> str:
    """The page without what differs on every request (the masked CSRF token, the nonce)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _kept_and_fresh(client, url, language, monkeypatch) -> tuple[list, str]:
    """The page twice with its fragments kept (the second from what the first kept), and once
    with every fragment rendered afresh (the old path)."""
    kept = [client.get(url, HTTP_ACCEPT_LANGUAGE=language) for _ in range(2)]
    with monkeypatch.context() as patch:
        patch.setattr(fixed_tags, "KEEP_FIXED", False)
        fresh = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert fresh.status_code == 200
    return [_normalised(r.content.decode()) for r in kept], _normalised(fresh.content.decode())


def _hostile_alarms(p):
    access_services.create_door(
        p.site_a, system_actor(), zone=p.zone_a, code="D-1", name=HOSTILE, reason="test door"
    )
    ingest(
        p.site_a,
        [
            row(line=2, event_type="forced_open", external_id="frag-forced"),
            row(line=3, event_type="held_open", external_id="frag-held"),
        ],
    )
    forced = Alarm.objects.get(event__external_id="frag-forced")
    access_services.acknowledge_alarm(forced, p.supervisor_a, note=HOSTILE)
    held = Alarm.objects.get(event__external_id="frag-held")
    links.open_incident_from_alarm(held, p.supervisor_a)
    return [forced, held]


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_alarm_page_kept_is_the_alarm_page_rendered(
    personas, client_for, monkeypatch, language
):
    alarms = _hostile_alarms(personas)
    for viewer in VIEWERS:
        client = client_for(viewer)
        for alarm in alarms:
            url = reverse("access-alarm-page", args=[alarm.pk])
            kept, fresh = _kept_and_fresh(client, url, language, monkeypatch)
            assert kept == [fresh, fresh]
            assert "<script>alert" not in fresh and "&lt;script&gt;" in fresh
            assert ('lang="de"' in fresh) is (language == "de")
    forced, held = alarms
    page = client_for("supervisor_a").get(reverse("access-alarm-page", args=[held.pk]))
    link = reverse("incident-page", args=[held.incident_source.incident_id])
    assert f'href="{link}"' in page.content.decode()
    page = client_for("supervisor_a").get(reverse("access-alarm-page", args=[forced.pk]))
    assert reverse("access-alarm-open-incident", args=[forced.pk]) in page.content.decode()
    for alarm in alarms:
        url = reverse("access-alarm-page", args=[alarm.pk])
        assert client_for("outsider_c").get(url).status_code == 404


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_shift_report_kept_is_the_shift_report_rendered(
    personas, client_for, monkeypatch, language
):
    shift = _hostile_shift(personas)
    url = reverse("shift-report", args=[shift.pk])
    for viewer in VIEWERS:
        kept, fresh = _kept_and_fresh(client_for(viewer), url, language, monkeypatch)
        assert kept == [fresh, fresh]
        assert "<script>alert" not in fresh and "&lt;script&gt;" in fresh
    assert client_for("outsider_c").get(url).status_code == 404


def _site():
    return SimpleNamespace(tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))


def _run_lines():
    at = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    line = RunLine(
        run=None,
        route_name=HOSTILE,
        guard_name=HOSTILE,
        started_at=at,
        finished_at=at,
        scanned=3,
        planned=1200,
        exceptions=[HOSTILE, "missed: <b>Gate</b>"],
    )
    return [line, RunLine(None, "Yard", "Ann", at, None, 0, 4, [])]


def _incident_lines():
    at = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    incident = SimpleNamespace(pk=42, severity='high"><script>')
    return [
        IncidentLine(incident, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, at),
        IncidentLine(SimpleNamespace(pk=7, severity="low"), "Draft 7", "—", "Low", "Draft", "", at),
    ]


def _new_rows(name: str, context: dict) -> str:
    html = engines["django"].engine.get_template(name).render(Context(context))
    return html[html.index("<tbody>") : html.index("</tbody>") + len("</tbody>")]


@pytest.mark.parametrize("language", ["en-gb", "de"])
@pytest.mark.parametrize("pdf", [False, True])
def test_the_report_rows_are_the_template_loops_bytes(language, pdf):
    engine = engines["django"].engine
    site = _site()
    cases = [
        ("facility_log/shifts/_runs.html", OLD_RUN_ROWS, "runs", _run_lines()),
        ("facility_log/shifts/_incidents.html", OLD_INCIDENT_ROWS, "incidents", _incident_lines()),
    ]
    with translation.override(language):
        for name, old, key, lines in cases:
            for rows in (lines, lines[:1], []):
                context = {key: rows, "site": site, "pdf": pdf}
                expected = engine.from_string(old).render(Context(context))
                assert _new_rows(name, context) == expected
                assert "<script>" not in expected or not rows


@pytest.mark.parametrize(
    "inside",
    [
        "{{ name }}",
        "{% translate name %}",
        '{% translate "Alarms" as label %}',
        "{% url 'incident-page' pk %}",
        "{% url 'incident-page' 1|add:pk %}",
        '{% include "facility_log/shifts/_runs.html" %}',
        '{% include "facility_log/access/_nav.html" with x=1 %}',
        "{% if name %}x{% endif %}",
    ],
)
def test_a_fragment_that_could_vary_is_refused(inside):
    engine = engines["django"].engine
    page = engine.from_string(
        "{% load i18n detail_page_tags %}{% fixed %}" + inside + "{% endfixed %}"
    )
    with pytest.raises(TemplateSyntaxError):
        page.render(Context({"name": "Alarms", "pk": 1, "runs": [], "site": _site()}))


def test_a_fixed_fragment_is_kept_per_language():
    engine = engines["django"].engine
    page = engine.from_string(
        '{% load i18n detail_page_tags %}{% fixed %}{% translate "Alarms" %} '
        "{% url 'access-alarm-console' %}{% endfixed %}"
    )
    with translation.override("en-gb"):
        english = page.render(Context())
    with translation.override("de"):
        german = page.render(Context())
    with translation.override("en-gb"):
        assert page.render(Context()) == english
    assert english != german and english.startswith("Alarms ")
