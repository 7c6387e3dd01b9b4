"""The list rows and the header written without Django's per-call helpers (facility_log_tags:
`_esc`, `_html_rows`, `main_nav`, cached script strings) give exactly the markup Django's own
helpers and templates gave: the same escaping of <, &, quotes, safe and lazy strings, and the
same rows, navigation and strings in English and German."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.urls import set_script_prefix
from django.utils import translation
from django.utils.html import format_html, format_html_join, json_script
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from facility_log.models import AccessEvent, Incident
from facility_log.templatetags import facility_log_tags as tags
from facility_log.templatetags.facility_log_tags import clip, site_time, url_of
from facility_log.templatetags.script_strings import script_strings
from facility_log.views import access as access_views
from facility_log.views.page_strings import script_strings as strings_of
from tests.access.helpers import door, ingest, row
from tests.incident_factories import category, draft, submitted

HOSTILE = [
    "<b>Gate</b> & \"co\" 'x'",
    mark_safe("<em>kept</em>"),
    SafeString("&amp; already"),
    gettext_lazy("Draft %(pk)s"),
    42,
    None,
    3.5,
    "",
    "plain",
]


def test_rows_escape_every_value_as_format_html_join_does():
    fmt = '<tr><td>{}</td><td title="{}">{}</td></tr>'
    rows = [(a, b, c) for a in HOSTILE for b in HOSTILE[:3] for c in HOSTILE[3:]]
    ours = tags._html_rows(fmt, rows)
    assert ours == format_html_join("\n  ", fmt, rows)
    assert isinstance(ours, SafeString)
    assert "&lt;b&gt;Gate&lt;/b&gt; &amp; &quot;co&quot; &#x27;x&#x27;" in ours
    assert "<em>kept</em>" in ours and "&amp; already" in ours


def test_one_fragment_escapes_as_format_html_does():
    for value in HOSTILE:
        ours = tags._html('<span class="{}">{}</span>', value, value)
        assert ours == format_html('<span class="{}">{}</span>', value, value)
        assert isinstance(ours, SafeString)


def test_blocktranslate_escapes_its_values_and_translates_the_message():
    with translation.override("de"):
        text = tags._blocktranslate("Guard: %(name)s", name='<b>&"')
        expected = translation.gettext("Guard: %(name)s") % {"name": "&lt;b&gt;&amp;&quot;"}
    assert text == expected and text != "Guard: &lt;b&gt;&amp;&quot;"
    assert tags._blocktranslate("Guard: %(name)s", name="x") == "Guard: x"


def _old_incident_rows(incidents) -> str:
    """The incident list's rows as the tag wrote them before (format_html_join, the model's
    own label and category text)."""
    return format_html_join(
        "\n  ",
        tags.INCIDENT_ROW,
        (
            (
                url_of(i.pk, "incident-page"),
                i.label,
                i.site.code,
                f" / {i.zone.name}" if i.zone_id else "",
                site_time(i.occurred_from, i.site),
                str(i.category) if i.category_id else "—",
                i.severity,
                i.get_severity_display(),
                i.get_status_display(),
                clip(tags._first_filled(i.title, i.narrative), 80),
            )
            for i in incidents
        ),
    )


def _old_queue_rows(incidents) -> str:
    return format_html_join(
        "\n  ",
        tags.QUEUE_ROW,
        (
            (
                url_of(i.pk, "incident-page"),
                i.label,
                site_time(i.submitted_at, i.site),
                str(i.category) if i.category_id else "—",
                i.severity,
                i.get_severity_display(),
                i.author.get_username(),
                clip(tags._first_filled(i.title, i.narrative), 80),
            )
            for i in incidents
        ),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "de"])
def test_incident_and_queue_rows_equal_the_old_markup(personas, language):
    submitted(personas, title="<script>\"&'</script>", location_text="Gate")
    draft(personas, narrative="N & <n> " * 20, category=category("Theft"))
    draft(personas, title="no category", category=None, zone=None)
    incidents = list(
        Incident.objects.select_related("site", "zone", "category", "author").order_by("pk")
    )
    by_pk = Incident.objects.order_by("pk")
    rows = list(by_pk.values(*tags.INCIDENT_ROW_FIELDS))
    queue_rows = list(by_pk.values(*tags.QUEUE_ROW_FIELDS))
    with translation.override(language):
        new, old = tags.incident_rows(rows), _old_incident_rows(incidents)
        assert new == old
        assert tags.review_queue_rows(queue_rows) == _old_queue_rows(incidents)
    assert "&lt;script&gt;&quot;&amp;&#x27;&lt;/script&gt;" in new
    assert ("<td>Diebstahl</td>" in new) is (language == "de")  # a seeded name, translated
    assert "<td>—</td>" in new


OLD_NAV = (
    "{% load i18n %}"
    "<nav aria-label=\"{% translate 'Main' %}\">\n"
    '      <a href="{% url \'home\' %}">{% translate "Home" %}</a>\n'
    '      <a href="{% url \'tablet\' %}">{% translate "Tablet" %}</a>\n'
    '      <a href="{% url \'incident-list\' %}">{% translate "Incidents" %}</a>\n'
    '      <a href="{% url \'incident-new\' %}">{% translate "Report" %}</a>\n'
    '      <a href="{% url \'access-alarm-console\' %}">{% translate "Alarms" %}</a>\n'
    '      <a href="{% url \'access-event-list\' %}">{% translate "Door events" %}</a>\n'
    '      <a href="{% url \'notification-list\' %}">{% translate "Notifications" %}</a>\n'
    '      <a href="{% url \'dashboard\' %}">{% translate "Dashboard" %}</a>\n'
    "      {% if user.is_staff %}<a href=\"{% url 'admin:index' %}\">"
    '{% translate "Admin" %}</a>{% endif %}\n'
    '      <a href="{% url \'api-docs\' %}">{% translate "API" %}</a>\n'
    "    </nav>"
)


class _User(AnonymousUser):
    def __init__(self, is_staff):
        self.is_staff = is_staff


def test_main_nav_equals_the_template_for_each_language_prefix_and_staff_flag():
    try:
        for prefix in ("/", "/log/"):
            set_script_prefix(prefix)
            for language in ("de", "en"):
                for is_staff in (True, False, True):
                    user = _User(is_staff)
                    with translation.override(language):
                        expected = Template(OLD_NAV).render(Context({"user": user}))
                        assert tags.main_nav(user) == expected
                        assert ("/admin/" in tags.main_nav(user)) is is_staff
                        assert f'href="{prefix}incidents/"' in tags.main_nav(user)
    finally:
        set_script_prefix("/")


@pytest.mark.django_db
def test_pages_show_the_admin_link_to_staff_only_and_in_the_readers_language(personas, client_for):
    staff = client_for("admin").get("/incidents/").content.decode()
    manager = client_for("manager_ab").get("/incidents/").content.decode()
    assert 'href="/admin/"' in staff and 'href="/admin/"' not in manager
    with translation.override("de"):
        expected = tags.main_nav(_User(False))
    german = client_for("manager_ab").get("/incidents/", HTTP_ACCEPT_LANGUAGE="de")
    assert expected in german.content.decode() and expected not in manager


def test_script_strings_are_written_per_language():
    for language in ("de", "en", "de"):
        with translation.override(language):
            for group in ("page", "alarm-console"):
                expected = json_script(strings_of(group), f"{group}-strings")
                assert script_strings(group) == expected
    with translation.override("de"):
        german = script_strings("page")
    assert german != script_strings("page")


def _old_event_rows(events) -> str:
    """The access-event rows as the tag wrote them from events (format_html_join)."""

    def type_cell(event):
        cell = format_html("{}", event.get_event_type_display())
        if event.reason:
            cell += format_html(" ({})", event.get_reason_display())
        if event.vendor_type:
            cell += format_html(' <span class="help">“{}”</span>', event.vendor_type)
        return cell

    return format_html_join(
        "\n  ",
        tags.EVENT_ROW,
        (
            (
                site_time(e.occurred_at, e.site),
                e.site.code,
                e.door.code,
                type_cell(e),
                e.get_direction_display() or "—",
                e.cardholder or "—",
                f"…{e.credential_hint}" if e.credential_hint else "—",
            )
            for e in events
        ),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "de"])
def test_event_rows_equal_the_old_markup(personas, language):
    door(personas.site_a, personas.zone_a, code='D-<1> & "x"')
    ingest(
        personas.site_a,
        [
            row(line=2, external_id="e1", door='D-<1> & "x"', cardholder="<i>A & 'B'</i>"),
            row(
                line=3,
                external_id="e2",
                door='D-<1> & "x"',
                event_type="denied",
                reason="expired",
                direction="in",
                credential="12345678",
            ),
            row(
                line=4,
                external_id="e3",
                door='D-<1> & "x"',
                event_type="other",
                vendor_type='Alarm <"odd">',
                direction="out",
            ),
        ],
    )
    events = list(AccessEvent.objects.select_related("site", "door").order_by("pk"))
    rows = list(AccessEvent.objects.order_by("pk").values(*access_views.PAGE_COLUMNS))
    for row_ in rows:
        row_["site"] = personas.site_a
    with translation.override(language):
        new, old = tags.access_event_rows(rows), _old_event_rows(events)
    assert new == old and len(events) == 3
    assert "&lt;i&gt;A &amp; &#x27;B&#x27;&lt;/i&gt;" in new and "D-&lt;1&gt;" in new


OLD_SHIFT_LOOP = (
    "{% load i18n facility_log_tags %}"
    "{% for shift in page %}\n"
    "  <tr><td>{{ shift.guard.get_full_name|default:shift.guard.get_username }}</td>"
    "<td>{{ shift.started_at|site_time:site }}</td>\n"
    "      <td>{% if shift.ended_at %}{{ shift.ended_at|site_time:site }}{% else %}"
    '<span class="badge">{% translate "open" %}</span>{% endif %}</td>\n'
    "      <td>{{ shift.entry_count }}</td>\n"
    '      <td><a href="{{ shift.pk|url_of:\'shift-report\' }}">{% translate "Report" %}</a>'
    ' · <a href="{{ shift.pk|url_of:\'shift-report-pdf\' }}">{% translate "PDF" %}</a>'
    "</td></tr>\n"
    "  {% endfor %}"
)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "de"])
def test_shift_rows_equal_the_old_loop(personas, client_for, language):
    from django.db.models import Count

    from facility_log.models import Shift
    from tests.shifts_helpers import ago, entry, start, worked

    guard = personas.guard_a
    guard.first_name, guard.last_name = '<Al & "Bo">', "O'Neil"
    guard.save()
    ended = worked(personas, at=ago(days=2))
    entry(ended, "seen", at=ago(days=2) + timedelta(hours=1))
    start(personas, at=ago(hours=1), guard=personas.supervisor_a)
    shifts = list(
        Shift.objects.filter(site=personas.site_a)
        .select_related("guard")
        .annotate(entry_count=Count("entries"))
        .order_by("-started_at", "-pk")
    )
    rows = list(
        Shift.objects.filter(site=personas.site_a)
        .order_by("-started_at", "-pk")
        .values(*tags.SHIFT_ROW_FIELDS)
        .annotate(entry_count=Count("entries"))
    )
    assert [r["id"] for r in rows] == [s.pk for s in shifts] and len(rows) == 2
    site = personas.site_a
    with translation.override(language):
        old = Template(OLD_SHIFT_LOOP).render(Context({"page": shifts, "site": site}))
        assert tags.shift_rows(rows, site) == old
    assert "&lt;Al &amp; &quot;Bo&quot;&gt; O&#x27;Neil" in old and '<span class="badge">' in old
    html = client_for("supervisor_a").get(f"/sites/{site.code}/shifts/").content.decode()
    assert "&lt;Al &amp; &quot;Bo&quot;&gt;" in html and "No shifts yet." not in html
    assert str(tags.shift_rows(rows, site)) in html
    assert client_for("outsider_c").get(f"/sites/{site.code}/shifts/").status_code == 404


@pytest.mark.django_db
def test_the_shift_list_reads_as_many_queries_for_one_shift_as_for_many(personas, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.shifts_helpers import ago, worked

    worked(personas, at=ago(days=5))
    client = client_for("supervisor_a")
    url = f"/sites/{personas.site_a.code}/shifts/"
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for days in (4, 3, 2):
        worked(personas, at=ago(days=days))
    with CaptureQueriesContext(connection) as four:
        html = client.get(url).content.decode()
    assert len(one) == len(four) and html.count("report.pdf") == 4


INCLUDE = Template('{% include "facility_log/form_fields.html" %}')


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("manager_ab", "/incidents/"),
        ("manager_ab", "/incidents/?text=%3Cb%3E%22&date_from=not-a-date&site=NOPE"),
        ("manager_ab", "/access/events/"),
        ("manager_ab", "/access/events/?door=%3Cx%3E&start=bad"),
        ("manager_ab", "/access/alarms/?door=%22%3E&priority=9"),
        ("auditor_a", "/audit/views/"),
        ("auditor_a", "/audit/views/?user=%3Cq%3E&day_from=31.02.&site=NOPE"),
    ],
)
def test_filter_forms_written_as_the_included_template_writes_them(personas, client_for, who, url):
    response = client_for(who).get(url)
    form = response.context["form"]
    for language in ("en", "de"):
        with translation.override(language):
            expected = INCLUDE.render(Context({"form": form}))
            assert tags.form_fields(form) == expected
    html = response.content.decode()
    assert tags.form_fields(form) in html
    if "?" in url:
        assert form.errors and 'class="errorlist"' in html
        assert "<b>" not in html.split("<main", 1)[1].split("</form>", 1)[0]


def test_the_cached_navigation_depends_on_the_staff_flag_alone():
    """`main_nav` renders `_main_nav.html` once per language, script prefix and staff flag and
    gives that to every user: the template must not read anything else (a role, a site, the
    request, a CSRF token), or one user's menu would be served to all."""
    import re
    from pathlib import Path

    import facility_log

    source = (
        Path(facility_log.__file__).parent / "templates/facility_log/_main_nav.html"
    ).read_text()
    source = re.sub(r"\{#.*?#\}", "", source)
    variables = set(re.findall(r"\{\{\s*([\w.]+)", source))
    conditions = re.findall(r"\{%\s*(?:if|elif|for|with)\s+([^%]*)%\}", source)
    names = {w for c in conditions for w in re.findall(r"[A-Za-z_][\w.]*", c)} - {
        "not",
        "and",
        "or",
        "in",
    }
    tags_used = set(re.findall(r"\{%\s*(\w+)", source))
    assert variables | names <= {"is_staff"}, variables | names
    assert tags_used <= {"load", "translate", "url", "if", "endif"}, tags_used
