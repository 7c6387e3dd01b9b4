"""The alarm console's items written per list (templatetags/alarm_console_tags.py: messages,
labels and zones looked up once per list) are exactly the markup the former per-item writer
gave, in English and German, for door, panic and acknowledged alarms, hostile names and
people who may or may not tick them."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from facility_log.models import Alarm, Door
from facility_log.services import access, alarm_console_reads, alarm_priorities, panic
from facility_log.services.accounts import system_actor
from facility_log.services.audit import audited_change
from facility_log.templatetags import alarm_console_tags
from facility_log.templatetags import facility_log_tags as tags
from facility_log.templatetags.alarm_console_tags import alarm_console_items
from tests.access.helpers import ingest, row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _items_written_afresh():
    """Each test writes its items afresh: the items a list keeps (`_WRITTEN`) are keyed by
    all they show, so an item kept from another test would be equal, but it would not prove
    that this test's writer writes it."""
    alarm_console_tags._WRITTEN.clear()
    yield
    alarm_console_tags._WRITTEN.clear()


HOSTILE = "<b>Gate</b> & \"co\" 'x'"

# The former writer, as facility_log_tags.py had it (each item through `_html_rows`, the
# model's own `get_FOO_display`, `_blocktranslate` per item).
OLD_ITEM = (
    '<li class="alarm alarm-{} {}" data-id="{}" data-priority="{}">\n'
    '    <div class="alarm-head">\n      {}\n'
    '      <span class="badge priority {}">{}</span>\n'
    '      <strong>{}</strong> · {} <span class="badge">{}{}</span>\n'
    '      <span class="help">{} · {}</span>\n      {}\n    </div>\n'
    '    <a class="button secondary" href="{}">{}</a>\n  </li>'
)
OLD_TICK = (
    '<input type="checkbox" name="alarm" value="{}" id="tick-{}" class="tick"> '
    '<label for="tick-{}" class="visually-hidden">{}</label>'
)


def _old_tick(alarm) -> str:
    if not alarm.can_acknowledge:
        return ""
    label = tags._blocktranslate("Tick alarm #%(pk)s", pk=alarm.pk)
    return tags._html(OLD_TICK, alarm.pk, alarm.pk, alarm.pk, label)


def _old_panic(alarm) -> str:
    if not alarm.panic_id:
        return ""
    panic_alert, guard = alarm.panic, alarm.panic.guard
    text = tags._blocktranslate(
        "Guard: %(name)s", name=guard.get_full_name() or guard.get_username()
    )
    if panic_alert.last_scanned_at:
        text += " " + tags._blocktranslate(
            "· last scan %(last_scanned_at)s",
            last_scanned_at=tags.site_time(panic_alert.last_scanned_at, alarm.site),
        )
    return tags._html('<div class="help">{}</div>', text)


def _old_items(alarms) -> str:
    def occurred(a):
        at = getattr(a, "event_occurred_at", None)
        return a.occurred_at if at is None else at

    return tags._html_rows(
        OLD_ITEM,
        (
            (
                a.state,
                a.priority_class,
                a.pk,
                a.priority,
                _old_tick(a),
                a.priority_class,
                a.priority_label,
                a.get_event_type_display(),
                a.where,
                a.site.code,
                f" {a.door.code}" if a.door_id else "",
                tags.site_time(occurred(a), a.site),
                a.get_state_display(),
                _old_panic(a),
                tags.url_of(a.pk, "access-alarm-page"),
                tags._blocktranslate("Open alarm #%(pk)s", pk=a.pk),
            )
            for a in alarms
        ),
    )


def _alarms(personas):
    site = personas.site_a
    access.create_door(
        site, system_actor(), zone=personas.zone_a, code="D-1", name=HOSTILE, reason="test"
    )
    ingest(site, [row(event_type="forced_open", external_id="f1")])
    ingest(site, [row(line=3, event_type="held_open", external_id="h1")])
    guard = personas.guard_a
    guard.first_name, guard.last_name = '<Al & "Bo">', "O'Neil"
    guard.save()
    panic.raise_panic(
        guard,
        site=site,
        client_uuid=uuid.uuid4(),
        pressed_at=timezone.now() - timedelta(minutes=5),
    )


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("who", ["supervisor_a", "guard_a"])
def test_items_equal_the_former_writer(personas, client_for, monkeypatch, language, who):
    # The former writer read model instances: the page's alarms read as such here (the
    # columns the page reads instead write the same, as the test below shows).
    monkeypatch.setattr(alarm_console_reads, "_items_of", _as_instances)
    _alarms(personas)
    client = client_for("supervisor_a")
    first = Alarm.objects.filter(site=personas.site_a).order_by("pk").first()
    client.post(reverse("access-alarm-acknowledge", args=[first.pk]), {"note": "seen"})
    response = client_for(who).get(reverse("access-alarm-console"))
    alarms = response.context["alarms"]
    assert len(alarms) == 3 and {a.state for a in alarms} == {"new", "acknowledged"}
    assert any(a.panic_id for a in alarms) and any(a.door_id for a in alarms)
    assert any(a.can_acknowledge for a in alarms) == (who == "supervisor_a")
    assert alarm_console_items(alarms) in response.content.decode()
    alarm_console_tags._WRITTEN.clear()
    with translation.override(language):
        ours = alarm_console_items(alarms)
        assert ours == _old_items(alarms)
    assert "&lt;b&gt;Gate&lt;/b&gt; &amp; &quot;co&quot; &#x27;x&#x27;" in ours
    assert "&lt;Al &amp; &quot;Bo&quot;&gt; O&#x27;Neil" in ours
    if language == "de":
        assert "öffnen" in ours and "Open alarm" not in ours


def test_the_outsider_sees_no_alarm(personas, client_for):
    _alarms(personas)
    response = client_for("outsider_c").get(reverse("access-alarm-console"))
    assert response.status_code in (200, 403, 404)
    assert b"data-id=" not in response.content


def _as_instances(rows, persons):
    return alarm_console_reads._picked([row["id"] for row in rows], True, persons)


def _alarm_list(response) -> str:
    page = response.content.decode()
    start = page.index('id="alarm-list"')
    return page[start : page.index("</ul>", start)]


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("who", ["supervisor_a", "guard_a", "manager_ab"])
def test_items_read_as_columns_write_what_model_instances_write(
    personas, client_for, monkeypatch, language, who
):
    # The page reads its door alarms as plain columns (alarm_console_reads.ConsoleItem); the
    # list it writes is the one the alarms read as model instances write, panic alarm included.
    _alarms(personas)
    client = client_for("supervisor_a")
    first = Alarm.objects.filter(site=personas.site_a).order_by("pk").first()
    client.post(reverse("access-alarm-acknowledge", args=[first.pk]), {"note": "seen"})
    client = client_for(who)
    url = reverse("access-alarm-console")
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    ours = client.get(url, **headers)
    assert {type(a).__name__ for a in ours.context["alarms"]} == {"ConsoleItem", "Alarm"}
    monkeypatch.setattr(alarm_console_reads, "_items_of", _as_instances)
    alarm_console_tags._WRITTEN.clear()
    theirs = client.get(url, **headers)
    assert {type(a).__name__ for a in theirs.context["alarms"]} == {"Alarm"}
    assert _alarm_list(ours) == _alarm_list(theirs)
    assert _alarm_list(ours).count('data-id="') == 3
    assert HOSTILE not in _alarm_list(ours) and "&lt;b&gt;Gate&lt;/b&gt;" in _alarm_list(ours)
    assert (f'id="tick-{first.pk}"' in _alarm_list(ours)) is False
    assert ('class="tick"' in _alarm_list(ours)) == (who != "guard_a")


def _kept_and_afresh(client, url: str, **headers) -> tuple[str, str]:
    """The page's list with the items kept from earlier requests, and written afresh."""
    kept = _alarm_list(client.get(url, **headers))
    alarm_console_tags._WRITTEN.clear()
    afresh = _alarm_list(client.get(url, **headers))
    return kept, afresh


def test_kept_items_are_taken_as_written_and_never_outlive_what_they_show(
    personas, client_for, monkeypatch
):
    _alarms(personas)
    written = []
    write = alarm_console_tags._write_items
    monkeypatch.setattr(
        alarm_console_tags,
        "_write_items",
        lambda alarms, prefix: written.append(len(alarms)) or write(alarms, prefix),
    )
    client, url = client_for("supervisor_a"), reverse("access-alarm-console")
    first = _alarm_list(client.get(url))
    assert first.count('data-id="') == 3 and written == [3]
    # Taken as written: only the panic alarm (it shows its guard) is written again.
    assert _alarm_list(client.get(url)) == first and written == [3, 1]

    # A renamed door, an acknowledged alarm, a new priority, another language: each list,
    # with what was kept, is the list written afresh.
    door = Door.objects.get(site=personas.site_a, code="D-1")
    with audited_change(personas.admin, "sign changed"):
        door.name = "North gate"
        door.save()
    kept, afresh = _kept_and_afresh(client, url)
    assert kept == afresh and "North gate" in kept and "Gate&lt;" not in kept

    alarm = Alarm.objects.filter(door=door, state="new").order_by("pk").first()
    client.post(reverse("access-alarm-acknowledge", args=[alarm.pk]), {"note": "seen"})
    kept, afresh = _kept_and_afresh(client, url)
    assert kept == afresh and 'class="alarm alarm-acknowledged' in kept
    assert f'id="tick-{alarm.pk}"' not in kept

    alarm_priorities.set_alarm_priority(
        personas.site_a,
        personas.manager_ab,
        event_type=alarm.event_type,
        priority=1,
        reason="drill",
    )
    kept, afresh = _kept_and_afresh(client, url)
    assert kept == afresh and f'data-id="{alarm.pk}" data-priority="1"' in kept

    kept, afresh = _kept_and_afresh(client, url, HTTP_ACCEPT_LANGUAGE="de")
    assert kept == afresh and "öffnen" in kept and "Open alarm" not in kept

    # The guard may not tick: the same alarms, kept for the supervisor, without tick boxes.
    kept, afresh = _kept_and_afresh(client_for("guard_a"), url)
    assert kept == afresh and 'class="tick"' not in kept and kept.count('data-id="') == 3
