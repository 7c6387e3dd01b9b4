"""The alarm console: open alarms of the user's sites, most urgent first (priority, then
newest), coloured by priority, with counts, filters by site, door, type, state and priority,
and one note for several alarms at once; and the managers' page setting a site's priorities.

What the console reads (the counts, the most urgent CONSOLE_LIMIT alarms) is in
services/alarm_console_reads.py.
"""

from collections import Counter

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from facility_log.forms.access import QUICK_NOTES, ConsoleFilterForm
from facility_log.models import (
    Alarm,
    AlarmPriority,
    AlarmPriorityLevel,
    AlarmState,
    EventType,
)
from facility_log.scoping import (
    MANAGE_ROLES,
    REVIEW_ROLES,
    get_site_or_404,
    scoped_to_ids,
    site_id_list,
)
from facility_log.services import access as access_services
from facility_log.services import alarm_console_reads as reads
from facility_log.services import alarm_priorities, procedures
from facility_log.services.alarm_priorities import PRIORITY_CLASSES, PRIORITY_NAMES
from facility_log.services.history import merged_history
from facility_log.templatetags.facility_log_tags import site_time


def _console(request, page: bool = False):
    """(form, the shown alarms, counts, the user's sites): the filtered open alarms of the
    user's sites; the form is None without filters. For the `page`, a door alarm's event is
    not read, only its time (as `event_occurred_at`): the page shows nothing else of it."""
    sites, priority, counts = reads.console_basics(request.user)
    site_ids = [site.pk for site in sites]
    # Unbound, the form is only shown, and its markup is kept by what it shows
    # (`{% alarm_console_filters %}` makes it when it is not): made here only to be checked.
    form = ConsoleFilterForm(request.GET, sites=sites) if request.GET else None
    if form is not None and not form.is_valid():
        return form, [], _counts({}, {}), sites
    wanted, data, counted_sites = None, {}, site_ids
    if form is not None:
        data = form.cleaned_data
        if data["site"]:
            counted_sites = [{site.code: site.pk for site in sites}[data["site"]]]
        wanted = data["priority"]
    # Made only if a read needs it: where one prepared read names the sites, the console's
    # reads are precompiled and never look at it, and making the queryset was 2 % of the page.
    alarms = SimpleLazyObject(lambda: _open_alarms(site_ids, counted_sites, data))
    by_priority, by_state, pairs, sizes = Counter(), Counter(), {}, {}
    for (site_id, event_type), (n, new) in reads.pair_counts(
        alarms, data, counted_sites, counts
    ).items():
        level = priority(site_id, event_type)
        if wanted is not None and level != wanted:
            continue
        by_priority[level] += n
        by_state[AlarmState.NEW] += new
        by_state[AlarmState.ACKNOWLEDGED] += n - new
        pairs[(site_id, event_type)] = level
        sizes[(site_id, event_type)] = n
    shown = reads.most_urgent(
        alarms, counted_sites, data, pairs, sizes, {site.pk: site for site in sites}, page
    )
    for alarm in shown:
        alarm.priority = pairs[(alarm.site_id, alarm.event_type)]
    # (priority, newest raised, newest id): newest first, then a stable sort by priority.
    shown.sort(key=lambda a: (a.raised_at, a.pk), reverse=True)
    shown.sort(key=lambda a: a.priority)
    return form, shown, _counts(by_priority, by_state), sites


def _open_alarms(site_ids: list[int], counted_sites: list[int], data: dict):
    """The open alarms of `site_ids` the console's filters (`data`) keep; `counted_sites` is
    the filtered site, or all of them."""
    alarms = scoped_to_ids(Alarm.objects.exclude(state=AlarmState.RESOLVED), site_ids)
    if data.get("site"):
        alarms = alarms.filter(site_id=counted_sites[0])
    if data.get("door"):
        alarms = alarms.filter(door__code=data["door"])
    if data.get("type"):
        alarms = alarms.filter(event_type=data["type"])
    if data.get("state"):
        alarms = alarms.filter(state=data["state"])
    return alarms


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
