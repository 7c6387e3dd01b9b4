"""Routes and schedules from the set-up pages (the site's managers): add a route with its
ordered stops, change it (a new version when stops or order rules change); schedules and their
week. Also the sign-off of round exceptions (supervisors and managers)."""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from facility_log.forms.base import add_service_errors
from facility_log.forms.people import ReasonOnlyForm
from facility_log.forms.routes import RouteForm, ScheduleForm, stop_formset
from facility_log.models import RoundException, Route, Schedule, Site
from facility_log.scoping import MANAGE_ROLES, REVIEW_ROLES, get_scoped_or_404
from facility_log.services import rounds


def _site(request, code: str) -> Site:
    return get_scoped_or_404(
        Site.objects.all(), request.user, MANAGE_ROLES, site_field="", code=code
    )


def route_add(request, code: str):
    """A new route: its name, order rules and stops."""
    site = _site(request, code)
    form = RouteForm(request.POST or None)
    stops = stop_formset(request.POST or None, site)
    if request.method == "POST" and _saved(
        form,
        stops,
        lambda data, stop_list: rounds.create_route(
            site,
            request.user,
            name=data["name"],
            stops=stop_list,
            reason=data["reason"],
            must_follow_order=data["must_follow_order"],
            random_order=data["random_order"],
        ),
    ):
        messages.success(
            request, _("Route %(route)s added.") % {"route": form.cleaned_data["name"]}
        )
        return redirect("checkpoints", code=site.code)
    return _page(request, site, form, stops, None)


def route_edit(request, code: str, pk: int):
    """Change a route; runs already started keep the version and stops they were given."""
    site = _site(request, code)
    route = get_object_or_404(Route, pk=pk, site=site)
    current = [(s.checkpoint, s.expected_minutes) for s in route.stops.select_related("checkpoint")]
    form = RouteForm(
        request.POST or None,
        initial={
            "name": route.name,
            "must_follow_order": route.must_follow_order,
            "random_order": route.random_order,
            "version": route.version,
        },
    )
    stops = stop_formset(request.POST or None, site, current)
    if request.method == "POST" and _saved(
        form,
        stops,
        lambda data, stop_list: rounds.update_route(
            route,
            request.user,
            reason=data["reason"],
            expected_version=data["version"],
            name=data["name"],
            must_follow_order=data["must_follow_order"],
            random_order=data["random_order"],
            stops=stop_list,
        ),
    ):
        route.refresh_from_db()
        messages.success(
            request,
            _("Route %(route)s saved (version %(version)s).")
            % {"route": route.name, "version": route.version},
        )
        return redirect("checkpoints", code=site.code)
    return _page(request, site, form, stops, route)


def _saved(form, stops, save) -> bool:
    """Validate both forms, run the service; its refusals land on the form."""
    if not (form.is_valid() and stops.is_valid()):
        return False
    try:
        save(form.cleaned_data, stops.stops())
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    except rounds.RouteVersionConflict as conflict:
        form.add_error(None, f"{conflict} Open the route again to see the change.")
        return False
    return True


def _page(request, site, form, stops, route):
    return render(
        request,
        "facility_log/rounds/route_form.html",
        {"site": site, "form": form, "stops": stops, "route": route},
    )


def schedules(request, code: str):
    """The site's schedules and a week of their windows in the site's time (clock changes
    marked); `?week=YYYY-MM-DD` picks the first day."""
    site = _site(request, code)
    first_day = _week_start(request, site)
    context = {
        "site": site,
        "days": rounds.week_view(site, first_day),
        "schedules": Schedule.objects.filter(route__site=site).select_related("route"),
        "previous": first_day - timedelta(days=7),
        "next": first_day + timedelta(days=7),
        "first_day": first_day,
    }
    return render(request, "facility_log/rounds/schedules.html", context)


def _week_start(request, site) -> date:
    try:
        return date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        if request.GET.get("week"):
            messages.warning(request, _("The week must be a date (YYYY-MM-DD): showing this week."))
        return timezone.localtime(timezone.now(), site.tzinfo).date()


def schedule_add(request, code: str):
    """A new schedule for one of the site's routes."""
    site = _site(request, code)
    form = ScheduleForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        try:
            rounds.create_schedule(
                form.cleaned_data["route"],
                request.user,
                reason=form.cleaned_data["reason"],
                **form.schedule_fields(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Schedule added: its windows are in the week below."))
            return redirect("schedules", code=site.code)
    return render(request, "facility_log/rounds/schedule_form.html", {"site": site, "form": form})


def schedule_end(request, code: str, pk: int):
    """Stop a schedule from now on, after a confirmation asking why."""
    site = _site(request, code)
    schedule = get_object_or_404(Schedule, pk=pk, route__site=site, is_active=True)
    form = ReasonOnlyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rounds.end_schedule(schedule, request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("Schedule %(schedule)s ended.") % {"schedule": schedule})
        return redirect("schedules", code=site.code)
    return render(
        request,
        "facility_log/sites/people_form.html",
        {
            "site": site,
            "form": form,
            "heading": f"End schedule {schedule}",
            "button": "End the schedule",
            "danger": True,
            "note": "No more windows from now on; missed rounds stop being recorded for it. "
            "Its runs and history stay.",
        },
    )


EXCEPTIONS_SHOWN = 200


def round_exceptions(request, code: str):
    """Supervisors and managers: the site's round exceptions waiting for a sign-off (oldest
    first, 200 at a time), signed off several at once with one comment; the latest signed off
    below."""
    site = get_scoped_or_404(
        Site.objects.all(), request.user, REVIEW_ROLES, site_field="", code=code
    )
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("exceptions") if v.isdigit()]
        try:
            count = rounds.sign_off_exceptions(
                site, request.user, ids, comment=request.POST.get("comment", "")
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d exception signed off.", "%(count)d exceptions signed off.", count
                )
                % {"count": count},
            )
            return redirect("round-exceptions", code=site.code)
    waiting = rounds.open_exceptions(site).select_related("run__route", "schedule__route")
    done = (
        RoundException.objects.filter(site=site, signed_off_at__isnull=False)
        .select_related("signed_off_by")
        .order_by("-signed_off_at", "-pk")[:50]
    )
    return render(
        request,
        "facility_log/rounds/exceptions.html",
        {
            "site": site,
            "waiting": list(waiting[:EXCEPTIONS_SHOWN]),
            "waiting_count": waiting.count(),
            "done": done,
            "comment": request.POST.get("comment", ""),
        },
    )
