"""People of a site, for its managers: invite by email, give and end roles, deactivate.
Also the page where an invited person sets their password from the emailed link."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _

from facility_log.forms.base import add_service_errors
from facility_log.forms.people import GiveRoleForm, InviteForm, ReasonOnlyForm
from facility_log.models import Membership, Site
from facility_log.scoping import MANAGE_ROLES, get_scoped_or_404
from facility_log.services import people, sites
from facility_log.services.audit import audited_change


def _managed_site(request, code: str) -> Site:
    return get_scoped_or_404(
        Site.objects.all(), request.user, MANAGE_ROLES, site_field="", code=code
    )


def people_invite(request, code: str):
    """Invite a new person with a role at this site; they get a link to set a password."""
    site = _managed_site(request, code)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = people.invite_user(
                site,
                request.user,
                email=data["email"],
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(user)s invited: the link to set a password went to %(email)s.")
                % {"user": user.get_username(), "email": user.email},
            )
            return redirect("site-page", code=site.code)
    return _form_page(request, site, form, "Invite someone", "Send invitation")


def people_give_role(request, code: str):
    """Give an existing account a role at this site."""
    site = _managed_site(request, code)
    form = GiveRoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership = people.give_role(
                site,
                request.user,
                username=data["username"],
                role=data["role"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(user)s is now %(role)s at %(site)s.")
                % {
                    "user": membership.user.get_username(),
                    "role": membership.get_role_display().lower(),
                    "site": site.code,
                },
            )
            return redirect("site-page", code=site.code)
    return _form_page(request, site, form, "Give a role", "Give the role")


def people_end_role(request, code: str, pk: int):
    """End one role at this site, after a confirmation page asking why."""
    site = _managed_site(request, code)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=pk, site=site, is_active=True
    )
    form = ReasonOnlyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sites.end_membership(membership, request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request, _("%(user)s's role ended.") % {"user": membership.user.get_username()}
        )
        return redirect("site-page", code=site.code)
    return _form_page(
        request,
        site,
        form,
        f"End {membership.user.get_username()}'s role as {membership.get_role_display().lower()}",
        "End the role",
        danger=True,
        note="They keep their account and any other roles; their records stay theirs.",
    )


def people_deactivate(request, code: str, pk: int):
    """Deactivate the account of a member of this site (all its roles end; it cannot sign
    in; its records stay attributed to it). Only when every role it holds is at sites the
    manager manages."""
    site = _managed_site(request, code)
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk, site=site)
    user = membership.user
    if not people.may_deactivate(request.user, user):
        raise PermissionDenied("This account holds roles at sites you do not manage.")
    form = ReasonOnlyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        people.deactivate_member(user, request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("%(user)s deactivated.") % {"user": user.get_username()})
        return redirect("site-page", code=site.code)
    return _form_page(
        request,
        site,
        form,
        f"Deactivate {user.get_username()}",
        "Deactivate the account",
        danger=True,
        note="They can no longer sign in and their API tokens stop working. Every role they "
        "hold ends. Their reports and history stay, under their name.",
    )


def people_resend(request, code: str, pk: int):
    """Send the set-password link again (POST)."""
    site = _managed_site(request, code)
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk, site=site)
    if request.method == "POST":
        try:
            people.resend_invitation(site, request.user, membership)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Invitation sent again to %(email)s.") % {"email": membership.user.email}
            )
    return redirect("site-page", code=site.code)


def _form_page(request, site, form, heading, button, *, danger=False, note=""):
    return render(
        request,
        "facility_log/sites/people_form.html",
        {
            "site": site,
            "form": form,
            "heading": heading,
            "button": button,
            "danger": danger,
            "note": note,
        },
    )


@method_decorator(login_not_required, name="dispatch")
class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The invited person chooses a password from the emailed link (one use; expires). The
    change is audited like any other, with the person as its author."""

    template_name = "facility_log/people/set_password.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        with audited_change(form.user, "password set from the emailed link"):
            response = super().form_valid(form)
        messages.success(self.request, "Your password is set: sign in with it.")
        return response
