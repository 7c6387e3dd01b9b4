"""The alarm console: open alarms of the user's sites, most urgent first (priority, then
newest), coloured by priority, with counts, filters by site, door, type, state and priority,
and one note for several alarms at once; and the managers' page setting a site's priorities.

The console shows at most CONSOLE_LIMIT open alarms, by their live priority
(services/alarm_priorities.py), then newest; the counts above the list cover every open alarm
the filters keep. Open alarms can pile up to thousands (a controller left raising them), so
the shown ones are picked per (site, type) from an index, not by sorting all (`_most_urgent`).
"""

from collections import Counter

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, F, Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from facility_log.forms.access import QUICK_NOTES
from facility_log.models import (
    Alarm,
    AlarmPriority,
    AlarmPriorityLevel,
    AlarmState,
    EventType,
    Site,
)
from facility_log.scoping import (
    MANAGE_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    get_site_or_404,
    scoped_to_ids,
    site_id_list,
    sites_for,
)
from facility_log.services import access as access_services
from facility_log.services import alarm_priorities, procedures
from facility_log.services.alarm_priorities import PRIORITY_CLASSES, PRIORITY_NAMES
from facility_log.services.history import merged_history
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery, sql_prepared_by_text
from facility_log.templatetags.facility_log_tags import site_time

CONSOLE_LIMIT = 100
OPEN_STATES = [(AlarmState.NEW, "New"), (AlarmState.ACKNOWLEDGED, "Acknowledged")]


class ConsoleFilterForm(forms.Form):
    """The console's filters (all optional; a bad value is named, and the list is empty)."""

    site = forms.ChoiceField(label=_("Site"), required=False)
    door = forms.CharField(label=_("Door code"), required=False, max_length=64)
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any type")), *EventType.choices]
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Open")), *OPEN_STATES]
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any priority")), *AlarmPriorityLevel.choices],
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("All my sites"))] + [
            (site.code, f"{site.code} – {site.name}") for site in sites
        ]


def _console(request, page: bool = False):
    """(form, the shown alarms, counts, the user's sites): the filtered open alarms of the
    user's sites. For the `page`, a door alarm's event is not read, only its time (as
    `event_occurred_at`): the page shows nothing else of it."""
    sites = list(sites_for(request.user, VIEW_ROLES))
    site_ids = [site.pk for site in sites]
    form = ConsoleFilterForm(request.GET or None, sites=sites)
    if form.is_bound and not form.is_valid():
        return form, [], _counts({}, {}), sites
    alarms = scoped_to_ids(Alarm.objects.exclude(state=AlarmState.RESOLVED), site_ids)
    wanted = None
    if form.is_bound:
        data = form.cleaned_data
        by_code = {site.code: site.pk for site in sites}
        if data["site"]:
            alarms = alarms.filter(site_id=by_code[data["site"]])
        if data["door"]:
            alarms = alarms.filter(door__code=data["door"])
        if data["type"]:
            alarms = alarms.filter(event_type=data["type"])
        if data["state"]:
            alarms = alarms.filter(state=data["state"])
        wanted = data["priority"]
    priority = alarm_priorities.priority_lookup(site_ids)
    # One grouped query gives both counts and the (site, type) pairs that hold open alarms.
    # Grouped by the index's leading columns (site, type), with the new ones counted apart,
    # the database aggregates in index order instead of hashing every open alarm.
    by_priority, by_state, pairs = Counter(), Counter(), {}
    grouped = alarms.order_by().values_list("site_id", "event_type")
    grouped = grouped.annotate(n=Count("id"), new=Count("id", filter=Q(state=AlarmState.NEW)))
    for site_id, event_type, n, new in grouped:
        level = priority(site_id, event_type)
        if wanted is not None and level != wanted:
            continue
        by_priority[level] += n
        by_state[AlarmState.NEW] += new
        by_state[AlarmState.ACKNOWLEDGED] += n - new
        pairs[(site_id, event_type)] = level
    shown = _most_urgent(alarms, pairs, {site.pk: site for site in sites}, page)
    for alarm in shown:
        alarm.priority = pairs[(alarm.site_id, alarm.event_type)]
    # (priority, newest raised, newest id): newest first, then a stable sort by priority.
    shown.sort(key=lambda a: (a.raised_at, a.pk), reverse=True)
    shown.sort(key=lambda a: a.priority)
    return form, shown, _counts(by_priority, by_state), sites


# Stand-ins for one (site, type) part's values, compiled once and replaced per pair.
_SITE_MARK, _TYPE_MARK = -987654321, "__alarm_console_type__"
# Alarms of these types may come from a panic button or a missed check-in, whose guard and
# checkpoint the items show; other types never do, and their rows need no such joins.
_PERSON_TYPES = frozenset({EventType.DURESS, EventType.MISSED_CHECK_IN})


def _part(alarms, site_id: int, event_type: str):
    newest = alarms.filter(site_id=site_id, event_type=event_type).order_by("-raised_at", "-id")
    return newest.values_list("id", "raised_at")[:CONSOLE_LIMIT].query.sql_with_params()


def _parts(alarms, pairs: list) -> list[tuple[str, list]]:
    """Each pair's part, its SQL compiled once with stand-ins in its two slots (compiling a
    part per pair was most of the console's query building). If a filter's own value equals
    a stand-in, each part is compiled on its own."""
    sql, params = _part(alarms, _SITE_MARK, _TYPE_MARK)
    slots = [n for n, value in enumerate(params) if value in (_SITE_MARK, _TYPE_MARK)]
    if len(slots) != 2 or {params[n] for n in slots} != {_SITE_MARK, _TYPE_MARK}:
        return [_part(alarms, site_id, event_type) for site_id, event_type in pairs]
    parts = []
    for site_id, event_type in pairs:
        values = list(params)
        for n in slots:
            values[n] = site_id if params[n] == _SITE_MARK else event_type
        parts.append((sql, values))
    return parts


def _most_urgent(
    alarms, pairs: dict[tuple[int, str], int], sites: dict[int, Site], page: bool = False
) -> list[Alarm]:
    """The CONSOLE_LIMIT alarms first by (priority, newest raised, newest id) among `alarms`,
    without sorting every open alarm: each (site, type) pair has one priority, so the newest
    CONSOLE_LIMIT of each pair (read in order from the `alarm_open_type` index) hold the
    answer; one UNION ALL of those picks their ids, and a second query reads the rows (as a
    subquery of that one, PostgreSQL would join every alarm before matching the ids). `sites`
    (the user's, by id) are set on the rows instead of joined."""
    if not pairs:
        return []
    ordered = sorted(pairs.items())
    parts, params = [], []
    for n, ((sql, part_params), (_pair, level)) in enumerate(
        zip(_parts(alarms, [pair for pair, _level in ordered]), ordered, strict=True)
    ):
        # Only Django's own SQL for each part, and integers: nothing from the request.
        part = f"SELECT p{n}.id, p{n}.raised_at, {int(level)} AS priority FROM ({sql}) p{n}"  # noqa: S608
        parts.append(part)
        params.extend(part_params)
    top = (
        f"SELECT picked.id FROM ({' UNION ALL '.join(parts)}) picked"  # noqa: S608
        f" ORDER BY picked.priority, picked.raised_at DESC, picked.id DESC LIMIT {CONSOLE_LIMIT}"
    )
    # Planning this union took the database longer than running it (12 ms against 11 at
    # 100,000 alarms): prepared once per connection and text (services/prepared.py).
    with connection.cursor() as cursor:
        cursor.execute(sql_prepared_by_text(connection, top, params), params)
        ids = [row[0] for row in cursor.fetchall()]
    persons = any(event_type in _PERSON_TYPES for _site, event_type in pairs)
    alarms = _picked(ids, page, persons)
    for alarm in alarms:
        alarm.site = sites[alarm.site_id]
    return alarms


def _picked_query(key, **ids):
    """The picked alarms' read for `key` (page, persons, how many): for the page a door
    alarm's event time only, for the feed its event; the panic and missed check-in joins
    only when a picked type can come from a person."""
    page, persons, count = key
    related = ["door"] if page else ["door", "event"]
    if persons:
        related += ["panic__guard", "panic__last_checkpoint", "missed_check_in__shift__guard"]
    read = Alarm.objects.select_related(*related).order_by()
    read = read.filter(pk__in=[ids[f"id{n}"] for n in range(count)])
    return read.annotate(event_occurred_at=F("event__occurred_at")) if page else read


# Compiled once per process per (page, persons, number of ids) (services/precompiled.py):
# compiling the read with its joins cost about a millisecond per console request. The ids
# are those the scoped UNION picked; the stand-ins are negative, so no alarm's id.
_PICKED: dict[int, PreparedQuery] = {}
_ID_MARK = -(2**31) + 1000


def _picked(ids: list[int], page: bool, persons: bool) -> list[Alarm]:
    if not ids:
        return []
    query = _PICKED.get(len(ids))
    if query is None:
        field = Alarm._meta.pk
        slots = {f"id{n}": Slot(_ID_MARK + n, field) for n in range(len(ids))}
        query = _PICKED[len(ids)] = PreparedQuery(_picked_query, slots)
    return query.all((page, persons, len(ids)), **{f"id{n}": pk for n, pk in enumerate(ids)})


def _counts(by_priority: Counter, by_state: Counter) -> dict:
    return {
        "total": sum(by_priority.values()),
        "priorities": [
            {"value": v, "label": PRIORITY_NAMES[v], "class": PRIORITY_CLASSES[v], "n": n}
            for v, n in sorted(by_priority.items())
        ],
        "new": by_state.get(AlarmState.NEW, 0),
        "acknowledged": by_state.get(AlarmState.ACKNOWLEDGED, 0),
    }


def _procedure_json(alarm: Alarm, checklist, can_tick: bool) -> dict | None:
    """The alarm's procedure for the console: each step done or not, by whom and when."""
    if checklist is None:
        return None
    procedure, steps = checklist
    return {
        "title": procedure.title,
        "tick_url": reverse("alarm-procedure-tick", args=[alarm.pk]),
        "can_tick": can_tick,
        "steps": [
            {
                "number": step.number,
                "text": step.text,
                "done": step.done,
                "by": step.last.ticked_by.get_username() if step.done else None,
                "at": site_time(step.last.ticked_at, alarm.site) if step.done else None,
            }
            for step in steps
        ],
    }


def _alarm_json(alarm: Alarm, reviewer_sites: set[int], checklist=None) -> dict:
    panic = alarm.panic if alarm.panic_id else None
    last = panic.last_checkpoint if panic else None
    return {
        "id": alarm.pk,
        "site": alarm.site.code,
        "door": alarm.door.code if alarm.door_id else "",
        "door_name": alarm.where,
        "type": alarm.get_event_type_display(),
        "event_type": alarm.event_type,
        "priority": alarm.priority,
        "priority_label": PRIORITY_NAMES[alarm.priority],
        "priority_class": PRIORITY_CLASSES[alarm.priority],
        "state": alarm.state,
        "state_label": alarm.get_state_display(),
        "occurred_at": site_time(alarm.occurred_at, alarm.site),
        "raised_at": site_time(alarm.raised_at, alarm.site),
        "panic": panic
        and {
            "guard": panic.guard.get_full_name() or panic.guard.get_username(),
            "last_checkpoint": last.name if last else None,
            "last_scanned_at": site_time(panic.last_scanned_at, alarm.site)
            if panic.last_scanned_at
            else None,
        },
        "note": alarm.acknowledge_note,
        "url": reverse("access-alarm-page", args=[alarm.pk]),
        "acknowledge_url": reverse("access-alarm-acknowledge", args=[alarm.pk]),
        "can_acknowledge": alarm.site_id in reviewer_sites and alarm.state == AlarmState.NEW,
        "procedure": _procedure_json(alarm, checklist, alarm.site_id in reviewer_sites),
    }


def alarm_console(request):
    """The console page; it refreshes itself by polling `access-alarm-feed` with the same
    filters (static/facility_log/js/alarm_console.js)."""
    form, alarms, counts, sites = _console(request, page=True)
    reviewer_sites = set(site_id_list(request.user, REVIEW_ROLES))
    managed_ids = set(site_id_list(request.user, MANAGE_ROLES))
    # Each lazy label translated once for the page, not once per alarm shown.
    labels = {level: str(name) for level, name in PRIORITY_NAMES.items()}
    for alarm in alarms:
        alarm.priority_label = labels[alarm.priority]
        alarm.priority_class = PRIORITY_CLASSES[alarm.priority]
        alarm.can_acknowledge = alarm.site_id in reviewer_sites and alarm.state == AlarmState.NEW
    return render(
        request,
        "facility_log/access/console.html",
        {
            "form": form,
            "alarms": alarms,
            "counts": counts,
            "sites": sites,
            # Managing is a viewing role: the managed sites are among `sites`.
            "managed": [site for site in sites if site.pk in managed_ids],
            "quick_notes": QUICK_NOTES,
            "query": request.GET.urlencode(),
        },
    )


def alarm_feed(request):
    """The console's data: the filtered open alarms, most urgent first, and their counts."""
    _form, alarms, counts, sites = _console(request)
    reviewer_sites = set(site_id_list(request.user, REVIEW_ROLES))
    codes = [site.code for site in sites]
    checklists = procedures.checklists_for_alarms(alarms)
    return JsonResponse(
        {
            "sites": codes,
            "counts": counts,
            "alarms": [
                _alarm_json(alarm, reviewer_sites, checklists.get(alarm.pk)) for alarm in alarms
            ],
        }
    )


@require_POST
def alarm_acknowledge_many(request):
    """Acknowledge the ticked alarms with one note: all of them or, if one is refused,
    none (services/access.py acknowledge_alarms)."""
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    ids = [int(i) for i in request.POST.getlist("alarm") if i.isdigit()]
    alarms = list(
        scoped_to_ids(
            Alarm.objects.select_related("site").filter(pk__in=ids),
            site_id_list(request.user, REVIEW_ROLES),
        )
    )
    try:
        if not ids or len(alarms) != len(set(ids)):
            raise ValidationError(
                {"alarm": "Choose alarms of the sites you supervise (some were not found)."}
            )
        access_services.acknowledge_alarms(alarms, request.user, note=request.POST.get("note", ""))
    except ValidationError as error:
        text = " ".join(error.messages)
        if wants_json:
            return JsonResponse({"error": text}, status=400)
        messages.error(request, text)
        return redirect("access-alarm-console")
    if wants_json:
        return JsonResponse({"acknowledged": sorted(a.pk for a in alarms)})
    messages.success(
        request,
        ngettext("%(count)d alarm acknowledged.", "%(count)d alarms acknowledged.", len(alarms))
        % {"count": len(alarms)},
    )
    return redirect("access-alarm-console")


class PriorityForm(forms.Form):
    event_type = forms.ChoiceField(label=_("Alarm type"), choices=EventType.choices)
    priority = forms.TypedChoiceField(
        label=_("Priority"), coerce=int, choices=AlarmPriorityLevel.choices
    )
    reason = forms.CharField(label=_("Reason for the change"), max_length=500)


def alarm_priorities_page(request, code: str):
    """A site's alarm priorities (its own and the defaults), set by its managers with a
    reason; the changes' history below."""
    site = get_site_or_404(request.user, code, MANAGE_ROLES)
    form = PriorityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            alarm_priorities.set_alarm_priority(site, request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Priority saved."))
            return redirect("access-alarm-priorities", code=site.code)
    current = alarm_priorities.site_priorities(site)
    own = set(AlarmPriority.objects.filter(site=site).values_list("event_type", flat=True))
    rows = sorted(
        (
            {
                "type": label,
                "priority": current[value],
                "label": PRIORITY_NAMES[current[value]],
                "class": PRIORITY_CLASSES[current[value]],
                "own": value in own,
            }
            for value, label in EventType.choices
        ),
        key=lambda row: (row["priority"], row["type"]),
    )
    history = merged_history(AlarmPriority.history.filter(site_id=site.pk))
    return render(
        request,
        "facility_log/access/priorities.html",
        {"site": site, "form": form, "rows": rows, "history": history},
    )
