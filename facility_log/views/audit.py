"""The auditor's pages: the ledger's state, checked on demand, and the view log's search."""

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from facility_log.forms.audit import ViewLogSearchForm
from facility_log.scoping import AUDIT_ROLES, site_id_list, sites_for
from facility_log.services import audit_checks, audit_overview_reads, view_log
from facility_log.services.ledger_seal import Head, head_file_text
from facility_log.services.list_sites import sites_in_order
from facility_log.tasks import verify_ledger
from facility_log.templatetags.audit_list_tags import (
    DISCLOSURE_COLUMNS,
    OVERVIEW_VIEW_COLUMNS,
    VIEW_LOG_COLUMNS,
)

MAX_ID = 2**63 - 1  # a larger `before` would overflow the database's integer


def _audited_sites(request) -> list:
    # By a statement compiled once (services/list_sites.py), in the same order (by code).
    sites = sites_in_order(request.user, AUDIT_ROLES)
    if sites is None:
        sites = list(sites_for(request.user, AUDIT_ROLES))
    if not sites:
        raise PermissionDenied("The audit pages are for auditors and managers.")
    return sites


def audit_overview(request):
    """Ledger head, the last verification (asked for here, run by the task worker, with its
    progress), and the latest disclosures and record views of the sites the user audits
    (auditors and managers). POST asks for a check and comes back here."""
    # The ids once (the memberships this request reads anyway), both lists narrowed to them.
    site_ids = site_id_list(request.user, AUDIT_ROLES)
    if not site_ids:
        raise PermissionDenied("The audit page is for auditors and managers.")
    if request.method == "POST":
        # Checking since the last checkpoint reads only what is new (seconds on a large
        # ledger); the whole ledger is re-read on request and nightly by the command.
        scope = "full" if request.POST.get("scope") == "full" else "since"
        asked = audit_checks.request_audit_check(request.user, scope)
        if asked.started:
            transaction.on_commit(partial(verify_ledger.enqueue, asked.check.pk))
            messages.success(request, _("Check asked for: the worker runs it; this page shows it."))
        elif asked.wait_seconds:
            messages.error(
                request,
                _(
                    "A check was asked for less than %(interval)s seconds ago: ask again in "
                    "%(wait)s seconds. Its result is below."
                )
                % {"interval": settings.AUDIT_CHECK_INTERVAL, "wait": asked.wait_seconds},
            )
        else:
            messages.info(request, _("A check is already under way: its progress is below."))
        return redirect("audit-overview")
    # Five small reads in one round trip (services/audit_overview_reads.py); the lists as tuples
    # of the columns shown (templatetags/audit_list_tags.py).
    read = audit_overview_reads.overview(site_ids, DISCLOSURE_COLUMNS, OVERVIEW_VIEW_COLUMNS)
    seq, head = read.head
    return render(
        request,
        "facility_log/audit/overview.html",
        {
            "check": read.check,
            "checkpoint": read.checkpoint,
            "head_file": _head_file(read.check),
            "seq": seq,
            "head": head,
            "disclosures": read.disclosures,
            "views": read.views,
        },
    )


def _head_file(check) -> str:
    """The signed head to keep outside the server, offered after an intact check."""
    if check is None or not check.intact:
        return ""
    return head_file_text(Head(check.head_seq, check.head_hash, check.finished_at))


def view_log_search(request):
    """Who read which personal data, when and how: the view log of the sites the user audits,
    searched by user, record, route and local days, 50 a page, newest first."""
    sites = _audited_sites(request)
    form = ViewLogSearchForm(request.GET or None, sites=sites)
    page = view_log.ViewLogPage([], None, None)
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else view_log.ViewLogFilters()
        page = view_log.search_view_log(
            request.user,
            filters,
            before=_id(request, "before"),
            after=_id(request, "after"),
            audited=sites,
            columns=VIEW_LOG_COLUMNS,
        )
    query = request.GET.copy()
    query.pop("before", None)
    query.pop("after", None)
    return render(
        request,
        "facility_log/audit/view_log.html",
        {
            "form": form,
            "rows": page.rows,  # tuples of VIEW_LOG_COLUMNS
            "older": page.older,
            "newer": page.newer,
            "paged": page.newer is not None or "before" in request.GET,
            "query": query.urlencode(),
            "sites": sites,
        },
    )


def _id(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return min(int(value), MAX_ID) if value.isdigit() else None
