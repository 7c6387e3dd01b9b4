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
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.formats import localize
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_noop

from facility_log.forms.access import QUICK_NOTES, ConsoleFilterForm, site_choices
from facility_log.models import Alarm
from facility_log.templatetags.facility_log_tags import (
    _blocktranslate,
    _choice,
    _esc,
    _format_local,
    _html,
    _t,
    _url_parts,
    form_fields,
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


# --- what the console shows above its items -----------------------------------------------
# Its template wrote these with a tag per value (five `{% blocktranslate %}` and four `{% url %}`
# for a manager of two sites, a form widget per option): a fifth of the page. Each is written
# here as the template wrote it (tests/views/test_alarm_console_head.py compares them with the
# former template, kept in tests/views/console_before/), and what depends only on the reader's
# sites is kept by what it shows.

CONSOLE_HELP = gettext_noop(
    "Open alarms, most urgent first (priority, then newest); this list refreshes by itself. "
    "Watching:"
)
# Written inside f-strings, which xgettext does not read: marked here for `makemessages`.
_MARKED = (
    gettext_noop("Priorities at %(code)s"),
    gettext_noop("Procedures at %(code)s"),
    gettext_noop("no site"),
)
_KEPT: dict[tuple, str] = {}
_KEPT_LIMIT = 1_000


def _kept(key: tuple, write) -> str:
    """The text kept under `key`, written by `write()` the first time (bounded: emptied when
    full)."""
    found = _KEPT.get(key)
    if found is None:
        if len(_KEPT) >= _KEPT_LIMIT:
            _KEPT.clear()
        found = _KEPT[key] = write()
    return found


def _where() -> tuple:
    """What any kept text depends on besides its values: the language and the URLs' prefix and
    URLconf."""
    return (translation.get_language(), get_script_prefix(), get_urlconf())


@register.simple_tag
def alarm_console_watching(sites, managed) -> str:
    """The console's help line: the sites it watches and, per site the reader manages, the
    links to its priorities and procedures. Kept by the sites' codes."""
    codes = tuple(site.code for site in sites)
    managed_codes = tuple(site.code for site in managed)
    key = ("watching", *_where(), codes, managed_codes)
    return mark_safe(_kept(key, lambda: _write_watching(codes, managed_codes)))  # noqa: S308


def _write_watching(codes: tuple, managed_codes: tuple) -> str:
    badges = "".join(f'<span class="badge">{_esc(code)}</span> ' for code in codes)
    links = "".join(
        f' · <a href="{_esc(reverse("access-alarm-priorities", args=[code]))}">'
        f"{_blocktranslate('Priorities at %(code)s', code=code)}</a>"
        f' · <a href="{_esc(reverse("procedure-list", args=[code]))}">'
        f"{_blocktranslate('Procedures at %(code)s', code=code)}</a>"
        for code in managed_codes
    )
    return f'<p class="help">{_t(CONSOLE_HELP)} {badges or _t("no site")}\n{links}</p>'


@register.simple_tag
def alarm_console_counts(counts: dict) -> str:
    """The counts above the list: all open, new and acknowledged, and per priority (numbers
    localized as the template's variables were)."""
    total = _blocktranslate("%(total)s open", total=localize(counts["total"]))
    states = _blocktranslate(
        "· %(new)s new · %(acknowledged)s acknowledged",
        new=localize(counts["new"]),
        acknowledged=localize(counts["acknowledged"]),
    )
    levels = "".join(
        f' · <span class="badge priority {_esc(p["class"])}">'
        f"{_esc(p['label'])}: {_esc(localize(p['n']))}</span>"
        for p in counts["priorities"]
    )
    return mark_safe(  # noqa: S308 - every value escaped
        '<p class="alarm-counts" id="alarm-counts" aria-live="polite">\n'
        f"  <strong>{total}</strong> {states}\n  {levels}\n</p>"
    )


@register.simple_tag
def alarm_console_filters(form, sites) -> str:
    """`{% form_fields form %}` of the console's filters, kept by what they show: the
    language, the value each field shows (the request's, as its widget reads it) and the
    sites offered. `form` is None without filters: it is made only if its markup is not
    kept. A form with errors, which shows them, is written each time."""
    if form is not None and form.errors:
        return form_fields(form)
    values = None
    if form is not None:
        values = tuple(
            field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
            for name, field in form.fields.items()
        )
    key = ("filters", *_where(), values, tuple(site_choices(sites)))
    if form is None:
        return mark_safe(_kept(key, lambda: str(form_fields(ConsoleFilterForm(sites=sites)))))  # noqa: S308
    return mark_safe(_kept(key, lambda: str(form_fields(form))))  # noqa: S308 - form_fields'


@register.simple_tag
def alarm_console_quick_notes() -> str:
    """The quick notes' options for the note's datalist (the same for everyone)."""
    return mark_safe("".join(f'<option value="{_esc(note)}">' for note in QUICK_NOTES))  # noqa: S308


@register.simple_tag
def alarm_console_quick_notes_joined() -> str:
    """The quick notes joined by "|" for the list's `data-quick-notes` (as `|join:'|'`)."""
    return mark_safe(_esc("|").join(_esc(note) for note in QUICK_NOTES))  # noqa: S308
