"""Post order pages: a site's current post orders (every member reads them), one post order
with all its versions, writing and editing (supervisors and managers of the site), and its
files, served only to members of the site. Rules live in services/post_orders.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from facility_log.forms.base import ReasonFormMixin, add_service_errors
from facility_log.forms.post_orders import PostOrderForm
from facility_log.models import PostOrder, PostOrderAttachment, PostOrderVersion, Site
from facility_log.scoping import (
    REVIEW_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    get_site_or_404,
    has_role,
)
from facility_log.services import post_orders as services


def _site(request, code: str, roles=VIEW_ROLES) -> Site:
    return get_site_or_404(request.user, code, roles)


def _order(request, pk: int, roles=VIEW_ROLES) -> PostOrder:
    return get_scoped_or_404(
        PostOrder.objects.select_related("site", "zone"), request.user, roles, pk=pk
    )


def site_post_orders(request, code: str):
    """The site's post orders as they stand, each with its files; a fixed number of
    queries however many there are."""
    site = _site(request, code)
    orders = (
        PostOrder.objects.filter(site=site)
        .select_related("zone")
        .prefetch_related(Prefetch("attachments", queryset=PostOrderAttachment.objects.all()))
        .order_by("title", "pk")
    )
    context = {
        "site": site,
        "orders": [o for o in orders if o.retired_at is None],
        "retired": [o for o in orders if o.retired_at is not None],
        "may_write": has_role(request.user, site, REVIEW_ROLES),
    }
    return render(request, "facility_log/post_orders/list.html", context)


def post_order_detail(request, pk: int):
    """One post order: its current text and every earlier version, who wrote it and why."""
    order = _order(request, pk)
    order = PostOrder.objects.select_related("site", "zone", "retired_by").get(pk=order.pk)
    versions = (
        PostOrderVersion.objects.filter(post_order=order)
        .select_related("written_by")
        .prefetch_related("attachments")
        .order_by("-number")
    )
    context = {
        "order": order,
        "site": order.site,
        "versions": versions,
        "may_write": has_role(request.user, order.site, REVIEW_ROLES),
    }
    return render(request, "facility_log/post_orders/detail.html", context)


def _files(form) -> list:
    upload = form.cleaned_data.get("attachment")
    return [upload] if upload else []


def post_order_add(request, code: str):
    site = _site(request, code, REVIEW_ROLES)
    form = PostOrderForm(request.POST or None, request.FILES or None, site=site)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.create_post_order(
                site,
                request.user,
                title=data["title"],
                body=data["body"],
                zone=data["zone"],
                reason=data["reason"],
                attachments=_files(form),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Post order written (version 1)."))
            return redirect("post-order", pk=order.pk)
    heading = _("New post order for %(site)s") % {"site": site.code}
    return render(
        request,
        "facility_log/post_orders/form.html",
        {"form": form, "site": site, "heading": heading},
    )


def post_order_edit(request, pk: int):
    """Write the next version. The version the editor read rides with the form: another
    edit in between is shown, not overwritten."""
    order = _order(request, pk, REVIEW_ROLES)
    if order.retired_at is not None:
        messages.info(request, _("A retired post order is not edited: write a new one."))
        return redirect("post-order", pk=order.pk)
    initial = {
        "title": order.title,
        "body": order.body,
        "zone": order.zone,
        "version": order.version,
    }
    form = PostOrderForm(
        request.POST or None, request.FILES or None, site=order.site, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.edit_post_order(
                order,
                request.user,
                expected_version=data["version"] or 0,
                title=data["title"],
                body=data["body"],
                zone=data["zone"],
                reason=data["reason"],
                attachments=_files(form),
            )
        except services.StaleVersion as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved as version %(number)s.") % {"number": order.version})
            return redirect("post-order", pk=order.pk)
    heading = _("Edit “%(title)s” (version %(number)s)") % {
        "title": order.title,
        "number": order.version,
    }
    return render(
        request,
        "facility_log/post_orders/form.html",
        {"form": form, "site": order.site, "order": order, "heading": heading},
    )


def post_order_retire(request, pk: int):
    """Confirm, then retire a post order with a reason (supervisors and managers): it is no
    longer asked for at a shift start nor shown on the tablet; its versions stay readable."""
    order = _order(request, pk, REVIEW_ROLES)
    if order.retired_at is not None:
        messages.info(request, _("This post order is already retired."))
        return redirect("post-order", pk=order.pk)
    form = ReasonFormMixin(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.retire_post_order(order, request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("“%(title)s” retired.") % {"title": order.title})
            return redirect("site-post-orders", code=order.site.code)
    return render(
        request,
        "facility_log/post_orders/retire.html",
        {"order": order, "site": order.site, "form": form},
    )


def post_order_file(request, pk: int):
    """A post order's file, only to members of its site, always as a download."""
    attachment = get_scoped_or_404(
        PostOrderAttachment.objects.select_related("post_order__site"),
        request.user,
        VIEW_ROLES,
        site_field="post_order__site",
        pk=pk,
    )
    return services.serve_attachment(attachment)
