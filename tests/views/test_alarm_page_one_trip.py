"""The alarm page's history, ticks and procedure read in one round trip
(services/alarm_page.py) give the bytes the page gave when each was read on its own: in
English and German, with hostile notes and reasons, for an alarm with a procedure and ticks
and one without; the outsider gets nothing."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import Alarm
from facility_log.services import access as access_services
from facility_log.services import alarm_page, procedures
from facility_log.services.history import alarm_history
from facility_log.services.prepared import with_statements
from tests.access.helpers import door, ingest, row
from tests.onsite.procedure_helpers import alarm_procedure

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"Ö\""


def _old_read_alarm(alarm, using="default"):
    """What alarm_detail read before: each on its own."""
    return alarm_history(alarm), procedures.alarm_checklist(alarm)


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _alarms(p):
    alarm_procedure(p)  # forced_open has a procedure; held_open has none
    door(p.site_a, p.zone_a)
    ingest(
        p.site_a,
        [
            row(line=2, event_type="forced_open", external_id="one-trip-forced"),
            row(line=3, event_type="held_open", external_id="one-trip-held"),
        ],
    )
    forced = Alarm.objects.get(event__external_id="one-trip-forced")
    for i in range(3):
        procedures.tick_step(p.supervisor_a, step_number=1 + i, alarm=forced)
    procedures.tick_step(p.supervisor_a, step_number=2, alarm=forced, undo=True, reason=HOSTILE)
    access_services.acknowledge_alarm(forced, p.supervisor_a, note=HOSTILE)
    held = Alarm.objects.get(event__external_id="one-trip-held")
    return [forced, held]


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_alarm_page_is_the_bytes_it_was(personas, client_for, monkeypatch, language):
    alarms = _alarms(personas)
    for viewer in ("supervisor_a", "guard_a"):
        client = client_for(viewer)
        for alarm in alarms:
            url = reverse("access-alarm-page", args=[alarm.pk])
            new = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            with monkeypatch.context() as patch:
                patch.setattr(alarm_page, "read_alarm", _old_read_alarm)
                old = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            assert _normalised(new) == _normalised(old)
    html = client_for("supervisor_a").get(reverse("access-alarm-page", args=[alarms[0].pk]))
    html = html.content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "Check the door on camera" in html


def test_one_round_trip_and_the_same_history_and_checklist(personas, client_for):
    alarms = _alarms(personas)
    url = reverse("access-alarm-page", args=[alarms[0].pk])
    client = client_for("supervisor_a")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    statements = [with_statements(q["sql"]) for q in captured.captured_queries]
    reads = [s for s in statements if "facility_log_proceduretick" in s]
    assert len(reads) == 1  # history and checklist share the ticks read
    if connection.vendor == "postgresql":
        assert "facility_log_historicalalarm" in reads[0] and "facility_log_procedure" in reads[0]
    for alarm in alarms:
        history, checklist = alarm_page.read_alarm(alarm)
        old_history, old_checklist = _old_read_alarm(alarm)
        assert history == old_history and checklist == old_checklist
    assert client_for("outsider_c").get(url).status_code == 404
