"""The alarm console's items (`{% alarm_console_items alarms %}`), written in one pass.

The console shows up to CONSOLE_LIMIT (100) alarms, twice a list page's 50 rows; written
through the generic row helpers each item asked the catalogue for two messages, built two
choice labels through Django's `get_FOO_display` and escaped some twenty values, most of them
the same for every item. Here what is the same for the whole list (the two per-item messages,
the type and state labels in the reader's language, each site's zone) is looked up once per
list, and only each item's own values are escaped. The markup is what the template's script
draws from the feed (static/facility_log/js/alarm_console.js); tests/views/
test_alarm_console_items.py compares it with the former writer, English and German.
"""

from django import template
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.safestring import mark_safe

from facility_log.models import Alarm
from facility_log.templatetags.facility_log_tags import (
    _blocktranslate,
    _choice,
    _esc,
    _format_local,
    _html,
    _t,
    _url_parts,
    site_time,
)

register = template.Library()

ALARM_ITEM = (
    '<li class="alarm alarm-{} {}" data-id="{}" data-priority="{}">\n'
    '    <div class="alarm-head">\n      {}\n'
    '      <span class="badge priority {}">{}</span>\n'
    '      <strong>{}</strong> · {} <span class="badge">{}{}</span>\n'
    '      <span class="help">{} · {}</span>\n      {}\n    </div>\n'
    '    <a class="button secondary" href="{}">{}</a>\n  </li>'
)
ALARM_TICK = (
    '<input type="checkbox" name="alarm" value="{}" id="tick-{}" class="tick"> '
    '<label for="tick-{}" class="visually-hidden">{}</label>'
)


def _alarm_panic(alarm) -> str:
    if not alarm.panic_id:
        return ""
    panic, guard = alarm.panic, alarm.panic.guard
    text = _blocktranslate("Guard: %(name)s", name=guard.get_full_name() or guard.get_username())
    if panic.last_scanned_at:
        text += " " + _blocktranslate(
            "· last scan %(last_scanned_at)s",
            last_scanned_at=site_time(panic.last_scanned_at, alarm.site),
        )
    return _html('<div class="help">{}</div>', text)


def _alarm_occurred(alarm):
    """`alarm.occurred_at`: the console page reads a door alarm's event time as
    `event_occurred_at` instead of reading its event (views/alarm_console.py)."""
    at = getattr(alarm, "event_occurred_at", None)
    return alarm.occurred_at if at is None else at


def _when(at, zone) -> str:
    """`site_time` with the site's zone looked up once per list."""
    return "—" if at is None else _format_local(at, zone)


# Each door alarm's item as last written, by everything it shows (`_shown`): the console is
# reloaded by its operators, by hand and on every visit, mostly over the same open alarms, and
# an item is written from its key alone, so a kept item is never stale (a new state, door name,
# priority, zone or language is another key). Panic and missed check-in alarms, which show their
# guard, are written each time. Bounded: emptied when full.
_WRITTEN: dict[tuple, str] = {}
_WRITTEN_LIMIT = 5_000


def _shown(a, site, where: str, language: str, prefix: str) -> tuple:
    """What a door alarm's item shows, and so writes it: its id, state, type, priority (its
    label and class), whether the reader may tick it, its site's code and zone, its door's code
    and name (`where`), when its event occurred, and the reader's language and URL prefix."""
    return (
        int(a.pk),
        a.state,
        a.event_type,
        a.priority,
        a.priority_label,
        a.priority_class,
        bool(a.can_acknowledge),
        site.code,
        site.time_zone,
        a.door.code if a.door_id else None,
        where,
        _alarm_occurred(a),
        language,
        prefix,
    )


@register.simple_tag
def alarm_console_items(alarms) -> str:
    """The alarm console's items (as its script draws them from the feed): tick box for those
    the user may acknowledge, priority, type, where, site and door, occurred (site time),
    state, the guard of a panic alarm, and the link to the alarm's page. Each alarm carries
    `priority`, `priority_class`, `priority_label` and `can_acknowledge` (the view sets them).
    A door alarm's item already written with the same `_shown` values is taken as written."""
    language, prefix = translation.get_language(), get_script_prefix()
    items = []
    to_write = []
    for a in alarms:
        if a.panic_id:
            items.append(None)
            to_write.append((len(items) - 1, a, None))
            continue
        key = _shown(a, a.site, a.where, language, prefix)
        found = _WRITTEN.get(key)
        items.append(found)
        if found is None:
            to_write.append((len(items) - 1, a, key))
    if to_write:
        written = _write_items([a for _n, a, _key in to_write], prefix)
        if len(_WRITTEN) + len(written) > _WRITTEN_LIMIT:
            _WRITTEN.clear()
        for (n, _a, key), item in zip(to_write, written, strict=True):
            items[n] = item
            if key is not None:
                _WRITTEN[key] = item
    return mark_safe("\n  ".join(items))  # noqa: S308 - every value escaped by _esc


def _write_items(alarms, prefix: str) -> list[str]:
    """Each of `alarms`' items, written (every value escaped)."""
    # `{% blocktranslate with pk=… %}`: the translated text taken as written, the id (an
    # integer, which escaping leaves as it is) put in its place.
    tick_message, open_message = _t("Tick alarm #%(pk)s"), _t("Open alarm #%(pk)s")
    zones, items = {}, []
    # What repeats across items (a type's or state's label, a door's name, a priority's
    # class and label, a site's code) is escaped once per list: most of the 100 items share
    # them, and escaping each value of each item was a third of this tag's time.
    same: dict = {}

    def once(kind, value) -> str:
        key = (kind, value)
        found = same.get(key)
        if found is None:
            found = same[key] = _esc(value)
        return found

    types, states = {}, {}
    page_url = _url_parts("access-alarm-page", prefix)  # `url_of`, looked up once
    for a in alarms:
        pk, site = int(a.pk), a.site
        zone = zones.get(site.pk)
        if zone is None:
            zone = zones[site.pk] = site.tzinfo
        kind = types.get(a.event_type)
        if kind is None:
            kind = types[a.event_type] = _esc(_choice(Alarm, "event_type", a.event_type))
        state = states.get(a.state)
        if state is None:
            state = states[a.state] = _esc(_choice(Alarm, "state", a.state))
        tick = ALARM_TICK.format(pk, pk, pk, tick_message % {"pk": pk}) if a.can_acknowledge else ""
        priority_class = once("class", a.priority_class)
        items.append(
            ALARM_ITEM.format(
                once("state", a.state),
                priority_class,
                pk,
                once("priority", a.priority),
                tick,
                priority_class,
                once("label", a.priority_label),
                kind,
                once("where", a.where),
                once("site", site.code),
                once("door", f" {a.door.code}") if a.door_id else "",
                _esc(_when(_alarm_occurred(a), zone)),
                state,
                _alarm_panic(a),
                f"{page_url[0]}{pk}{page_url[1]}",
                open_message % {"pk": pk},
            )
        )
    return items
