"""Forms of the people pages of a site: invite, give a role, end a role, deactivate."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.forms.base import ReasonFormMixin
from facility_log.models import Role

# Roles a manager hands out from the pages; integration accounts get tokens from an admin.
PAGE_ROLES = [(value, label) for value, label in Role.choices if value != "integration"]


class InviteForm(ReasonFormMixin, forms.Form):
    """A new person: their address (the set-password link goes there), name and role."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text=_("Letters, digits and @ . + - _ only; they sign in with it."),
    )
    role = forms.ChoiceField(label=_("Role at this site"), choices=PAGE_ROLES)


class GiveRoleForm(ReasonFormMixin, forms.Form):
    """A role for someone who already has an account (found by exact username)."""

    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role at this site"), choices=PAGE_ROLES)


class ReasonOnlyForm(ReasonFormMixin, forms.Form):
    """Ending a role or deactivating an account: only the reason is asked."""
