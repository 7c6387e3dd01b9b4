"""Forms of the people pages of a site: invite, give a role, end a role, deactivate."""

from django import forms

from facility_log.forms.base import ReasonFormMixin
from facility_log.models import Role

# Roles a manager hands out from the pages; integration accounts get tokens from an admin.
PAGE_ROLES = [(value, label) for value, label in Role.choices if value != "integration"]


class InviteForm(ReasonFormMixin, forms.Form):
    """A new person: their address (the set-password link goes there), name and role."""

    email = forms.EmailField(label="Email address", max_length=254)
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    username = forms.RegexField(
        label="Username",
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text="Letters, digits and @ . + - _ only; they sign in with it.",
    )
    role = forms.ChoiceField(label="Role at this site", choices=PAGE_ROLES)


class GiveRoleForm(ReasonFormMixin, forms.Form):
    """A role for someone who already has an account (found by exact username)."""

    username = forms.CharField(label="Username", max_length=150)
    role = forms.ChoiceField(label="Role at this site", choices=PAGE_ROLES)


class ReasonOnlyForm(ReasonFormMixin, forms.Form):
    """Ending a role or deactivating an account: only the reason is asked."""
