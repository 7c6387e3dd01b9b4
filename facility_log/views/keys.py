"""Key control pages for a site's supervisors and managers: the key box (every key and set
with who holds it), adding keys and sets, issuing, taking back (after a confirmation), and
the overdue list. The rules are in services/keys.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from facility_log.forms.base import ReasonFormMixin, add_service_errors
from facility_log.forms.keys import IssueForm, KeyForm, KeySetForm
from facility_log.models import KeyIssue, Site
from facility_log.scoping import REVIEW_ROLES, get_scoped_or_404
from facility_log.services import keys as svc

RECENT_MOVEMENTS = 20


def _site(request, code: str) -> Site:
    return get_scoped_or_404(
        Site.objects.all(), request.user, REVIEW_ROLES, site_field="", code=code
    )


def key_list(request, code: str):
    """The key box: each key and set, in or out (to whom, due when, overdue), and the latest
    movements."""
    site = _site(request, code)
    keys, sets = svc.keys_with_state(site)
    recent = (
        KeyIssue.objects.filter(site=site)
        .select_related("key", "key_set", "holder", "issued_by", "received_by")
        .order_by("-issued_at", "-pk")[:RECENT_MOVEMENTS]
    )
    return render(
        request,
        "facility_log/keys/list.html",
        {
            "site": site,
            "loose_keys": [key for key in keys if key.key_set_id is None],
            "sets": sets,
            "recent": recent,
            "now": timezone.now(),
        },
    )


def key_overdue(request, code: str):
    """Keys and sets out past their expected return, the longest overdue first."""
    site = _site(request, code)
    return render(
        request,
        "facility_log/keys/overdue.html",
        {"site": site, "issues": svc.overdue_issues([site.pk])},
    )


def key_add(request, code: str):
    site = _site(request, code)
    form = KeyForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            key = svc.add_key(
                site,
                request.user,
                label=data["label"],
                opens=data["opens"],
                key_set=data["key_set"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Key %(label)s added.") % {"label": key.label})
            return redirect("keys", code=site.code)
    return _form_page(request, site, form, _("Add a key"), _("Add the key"))


def key_set_add(request, code: str):
    site = _site(request, code)
    form = KeySetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            key_set = svc.add_key_set(
                site, request.user, label=data["label"], opens=data["opens"], reason=data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Key set %(label)s added.") % {"label": key_set.label})
            return redirect("keys", code=site.code)
    return _form_page(request, site, form, _("Add a key set"), _("Add the set"))


def key_issue(request, code: str):
    site = _site(request, code)
    # The expected return is typed in the site's time, whatever the browser's zone.
    with timezone.override(site.tzinfo):
        form = IssueForm(request.POST or None, site=site, initial=_initial(request))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                issue = svc.issue_key(
                    site,
                    request.user,
                    **form.chosen(),
                    holder=data["holder"],
                    contractor_name=data["contractor_name"],
                    contractor_company=data["contractor_company"],
                    expected_return_at=data["expected_return_at"],
                    reason=data["reason"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("%(what)s issued to %(who)s.")
                    % {"what": issue.what, "who": issue.holder_text},
                )
                return redirect("keys", code=site.code)
        return _form_page(request, site, form, _("Issue a key or set"), _("Issue it"))


def _initial(request) -> dict:
    item = request.GET.get("item", "")
    return {"item": item} if item[:4] in ("key-", "set-") else {}


def key_return(request, code: str, pk: int):
    """Confirm, then record that the key (or set) came back, received by the signed-in user."""
    site = _site(request, code)
    issue = get_scoped_or_404(
        KeyIssue.objects.filter(site=site).select_related("site", "key", "key_set", "holder"),
        request.user,
        REVIEW_ROLES,
        pk=pk,
    )
    form = ReasonFormMixin(request.POST or None, initial={"reason": _("returned to the key box")})
    if request.method == "POST" and form.is_valid():
        try:
            svc.return_key(issue, request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(what)s is back.") % {"what": issue.what})
            return redirect("keys", code=site.code)
    return render(
        request,
        "facility_log/keys/return.html",
        {"site": site, "issue": issue, "form": form},
    )


def _form_page(request, site, form, heading, button):
    return render(
        request,
        "facility_log/keys/form.html",
        {"site": site, "form": form, "heading": heading, "button": button},
    )
