"""Lost-and-found pages: the site's list, recording a found item (with a photo), one item
with its handover form, disposing of one (after a confirmation) and the items due for
disposal. The rules are in services/lost_found.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from facility_log.forms.base import ReasonFormMixin, add_service_errors
from facility_log.forms.lost_found import FoundItemForm, HandOverForm
from facility_log.models import FoundItem, FoundItemState, Incident, Site
from facility_log.scoping import (
    REPORT_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    get_site_or_404,
    has_role,
)
from facility_log.services import lost_found as svc

RECENTLY_LEFT = 20


def _site(request, code: str, roles=VIEW_ROLES) -> Site:
    return get_site_or_404(request.user, code, roles)


def _item(request, site: Site, pk: int, roles=VIEW_ROLES) -> FoundItem:
    return get_scoped_or_404(
        svc.site_items(site).select_related("site"), request.user, roles, pk=pk
    )


def found_list(request, code: str):
    """Items kept at the site, and the latest that left (handed over or disposed of)."""
    site = _site(request, code)
    items = svc.site_items(site)
    return render(
        request,
        "facility_log/lost_found/list.html",
        {
            "site": site,
            "stored": items.filter(state=FoundItemState.STORED),
            "left": items.exclude(state=FoundItemState.STORED).order_by("-left_at", "-pk")[
                :RECENTLY_LEFT
            ],
            "can_record": has_role(request.user, site, REPORT_ROLES),
            "keep_days": svc.keep_days(),
        },
    )


def found_due(request, code: str):
    site = _site(request, code, REVIEW_ROLES)
    return render(
        request,
        "facility_log/lost_found/due.html",
        {"site": site, "items": svc.due_for_disposal(site), "keep_days": svc.keep_days()},
    )


def found_add(request, code: str):
    site = _site(request, code, REPORT_ROLES)
    with timezone.override(site.tzinfo):
        form = FoundItemForm(
            request.POST or None,
            request.FILES or None,
            site=site,
            initial={"found_at": timezone.localtime().replace(second=0, microsecond=0)},
        )
        if request.method == "POST" and form.is_valid():
            try:
                item = svc.record_found_item(
                    site,
                    request.user,
                    _input(site, form.cleaned_data),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Found item #%(pk)s recorded.") % {"pk": item.pk})
                return redirect("found-item", code=site.code, pk=item.pk)
    return render(request, "facility_log/lost_found/form.html", {"site": site, "form": form})


def _input(site: Site, data: dict) -> svc.FoundItemInput:
    number = (data.get("incident_number") or "").strip()
    incident = None
    if number:
        incident = Incident.objects.filter(site=site, number__iexact=number).first()
        if incident is None:
            raise ValidationError(
                {"incident_number": _("No incident %(number)s at this site.") % {"number": number}}
            )
    return svc.FoundItemInput(
        description=data["description"],
        found_at=data["found_at"],
        found_by=data["found_by"],
        storage_location=data["storage_location"],
        zone=data["zone"],
        incident=incident,
        photo=data["photo"] or None,
    )


def found_item(request, code: str, pk: int):
    """One item; while it is stored, the handover form (owner's name and confirmation)."""
    site = _site(request, code)
    item = _item(request, site, pk)
    form = HandOverForm(request.POST or None, initial={"reason": _("handed over to its owner")})
    if request.method == "POST":
        item = _item(request, site, pk, REPORT_ROLES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                svc.hand_over(
                    item,
                    request.user,
                    owner_name=data["owner_name"],
                    owner_confirms=data["owner_confirms"],
                    reason=data["reason"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Item #%(pk)s handed over.") % {"pk": item.pk})
                return redirect("found-list", code=site.code)
    return render(
        request,
        "facility_log/lost_found/item.html",
        {
            "site": site,
            "item": item,
            "form": form,
            "can_hand_over": has_role(request.user, site, REPORT_ROLES),
            "can_dispose": has_role(request.user, site, REVIEW_ROLES),
            "due_at": svc.disposal_due_at(item),
        },
    )


def found_dispose(request, code: str, pk: int):
    """Confirm, then dispose of an item kept for the retention period, with a reason."""
    site = _site(request, code, REVIEW_ROLES)
    item = _item(request, site, pk, REVIEW_ROLES)
    form = ReasonFormMixin(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.dispose(item, request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Item #%(pk)s disposed of.") % {"pk": item.pk})
            return redirect("found-due", code=site.code)
    return render(
        request,
        "facility_log/lost_found/dispose.html",
        {"site": site, "item": item, "form": form, "due_at": svc.disposal_due_at(item)},
    )


def found_photo(request, code: str, pk: int):
    site = _site(request, code)
    return svc.serve_photo(_item(request, site, pk))
