"""What the long lists' rows show, written in one pass by the template tags of
facility_log_tags (docs/performance.md): the same cells the template wrote, escaped; links equal
to `{% url %}`'s."""

import pytest
from django.urls import reverse, set_script_prefix

from facility_log.models import AccessEvent
from facility_log.services import view_log
from facility_log.templatetags.facility_log_tags import clip, site_time, url_of
from tests.access.helpers import door, forced_open_at, ingest, row
from tests.incident_factories import draft, submitted

HOSTILE = '<b>Gate</b> & "co"'
ESCAPED = "&lt;b&gt;Gate&lt;/b&gt; &amp; &quot;co&quot;"


def test_url_of_is_the_reversed_url_for_every_id_and_script_prefix():
    for pk in (1, 42, 9_000_000_000):
        assert url_of(pk, "incident-page") == reverse("incident-page", args=[pk])
        assert url_of(str(pk), "shift-report") == reverse("shift-report", args=[pk])
    try:
        set_script_prefix("/log/")
        assert (
            url_of(7, "incident-page") == "/log/incidents/7/" == reverse("incident-page", args=[7])
        )
    finally:
        set_script_prefix("/")


def test_clip_cuts_long_text_with_an_ellipsis_and_keeps_short_text():
    assert clip("short", 80) == "short"
    assert clip("x" * 80, 80) == "x" * 80
    assert clip("x" * 81, 80) == "x" * 79 + "…"
    assert clip(None, 10) == ""


@pytest.mark.django_db
def test_incident_list_and_queue_rows_show_every_cell_escaped(personas, client_for):
    waiting = submitted(personas, title=HOSTILE, location_text="Gate")
    untitled = draft(personas, narrative="N" * 100)
    html = client_for("manager_ab").get(reverse("incident-list")).content.decode()
    assert f'<a href="/incidents/{waiting.pk}/">{waiting.number}</a>' in html
    assert ESCAPED in html and HOSTILE not in html
    assert f"<td>{personas.site_a.code} / {personas.zone_a.name}</td>" in html
    severity = f'<span class="sev sev-{waiting.severity}">{waiting.get_severity_display()}</span>'
    assert severity in html and f"<td>{waiting.get_status_display()}</td>" in html
    assert f'<a href="/incidents/{untitled.pk}/">Draft {untitled.pk}</a>' in html
    assert "N" * 79 + "…" in html and "N" * 80 not in html
    queue = client_for("supervisor_a").get(reverse("incident-review-queue")).content.decode()
    assert ESCAPED in queue and HOSTILE not in queue
    assert f"<td>{waiting.author.get_username()}</td>" in queue
    assert "Still" not in queue and f"Draft {untitled.pk}" not in queue


@pytest.mark.django_db
def test_event_rows_show_type_reason_vendor_word_direction_and_card_escaped(personas, client_for):
    door(personas.site_a, personas.zone_a)
    ingest(
        personas.site_a,
        [
            row(line=2, external_id="e1", cardholder=HOSTILE),
            row(line=3, external_id="e2", event_type="denied", reason="expired", cardholder=""),
        ],
    )
    html = client_for("guard_a").get(reverse("access-event-list")).content.decode()
    assert f"<td>{ESCAPED}</td>" in html and HOSTILE not in html
    denied = AccessEvent.objects.get(external_id="e2")
    assert f"<td>{denied.get_event_type_display()} ({denied.get_reason_display()})</td>" in html
    assert "<td>—</td>" in html  # no cardholder, no card
    assert "No events." not in html


@pytest.mark.django_db
def test_console_items_show_type_door_site_time_state_and_link(personas, client_for):
    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    html = client_for("guard_a").get(reverse("access-alarm-console")).content.decode()
    assert f'<li class="alarm alarm-{alarm.state} p-high" data-id="{alarm.pk}"' in html
    assert f"<strong>{alarm.get_event_type_display()}</strong> · {alarm.door.name}" in html
    assert f'<span class="badge">{personas.site_a.code} {alarm.door.code}</span>' in html
    when = site_time(alarm.event.occurred_at, personas.site_a)
    assert f'<span class="help">{when} · {alarm.get_state_display()}</span>' in html
    assert f'href="/access/alarms/{alarm.pk}/">Open alarm #{alarm.pk}</a>' in html
    # (The sentence itself is always in the page: the script's strings carry it.)
    assert '<li class="alarm-empty">' not in html
    empty = client_for("outsider_c").get(reverse("access-alarm-console")).content.decode()
    assert '<li class="alarm-empty">No open alarms.</li>' in empty and "data-id=" not in empty


@pytest.mark.django_db
def test_view_log_rows_show_every_cell_escaped(personas, client_for):
    incident = submitted(personas)
    view_log.record_view(personas.guard_a, incident, site=personas.site_a, label=HOSTILE)
    html = client_for("auditor_a").get(reverse("audit-view-log")).content.decode()
    assert f"<td>{ESCAPED}</td>" in html and HOSTILE not in html
    assert f"<td>{personas.site_a.code}</td>" in html and "<td>guard_a</td>" in html
    assert "No reads match." not in html
