"""The rules every admin page of facility_log keeps (the registrations are in admin.py).

The Django admin is a second way into the data, so it must not become a way around the
services' rules:

* History is readable, never restored: simple-history's "revert" page shows an old version
  read-only and refuses every POST (reverting would rewrite a submitted incident or an
  acknowledged alarm, and would record no reason).
* A form that changes a record asks for the reason and runs inside `audited_change`, so the
  history row carries it, together with the rows its inlines change.
* Append-only records, evidence and records that change only through their service (alarms,
  shifts, runs) are shown, never added, changed or deleted.
* A password is changed only on the user's own admin page, with a reason (the admin site's
  "change my password" page leads there).
"""

from contextvars import ContextVar
from datetime import UTC, datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from facility_log.services.audit import audited_change


def reason_field() -> forms.CharField:
    return forms.CharField(
        label="Reason for this change",
        max_length=500,
        help_text="Kept in the history with your name and the time.",
    )


# --- history: readable, never restored -------------------------------------------------------


def _shown_value(record, field) -> str:
    """A history row's value of `field` as a person reads it (choice label, related record)."""
    value = getattr(record, field.attname, None)
    if value in (None, ""):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        try:
            return str(getattr(record.instance, field.name))
        except ObjectDoesNotExist:
            return f"#{value}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    return str(value)


class HistoryAdmin(SimpleHistoryAdmin):
    """simple-history's pages, read-only: the history list and each old version are shown;
    no version can be restored ("revert") or edited, whatever the user's permissions."""

    history_version_template = "admin/facility_log/history_version.html"

    def has_change_history_permission(self, request, obj=None):
        return False

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """One old version, read-only. simple-history's own view would save the old version
        over the current record on POST; here a POST is refused and nothing is written."""
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied("Earlier versions are kept as they were; none is restored.")
        opts = self.model._meta
        record = get_object_or_404(
            self.model.history.model.objects.select_related("history_user"),
            **{opts.pk.attname: unquote(object_id), "history_id": version_id},
        )
        if not self.has_view_history_or_change_history_permission(request, record.instance):
            raise PermissionDenied
        rows = [
            (field.verbose_name, _shown_value(record, field))
            for field in record.tracked_fields
            if not field.primary_key
        ]
        history_name = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_history"
        saved = f"{record.history_date:%Y-%m-%d %H:%M}"
        context = {
            **self.admin_site.each_context(request),
            "title": f"Version of {record.history_object} saved {saved}",
            "opts": opts,
            "record": record,
            "rows": rows,
            "history_url": reverse(history_name, args=[record.instance.pk]),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_version_template, context)


# --- changes with a reason --------------------------------------------------------------------


class AuditedAdmin(HistoryAdmin):
    """Base admin for audited models: reason required (for the record and its inlines), no
    deletion, no bulk actions, and a record stays at the site it was made for."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The reason is a form field, not a model field: keep it out of the model form's
        # field list and add it to the class the admin builds.
        fields = kwargs.get("fields", flatten_fieldsets(self.get_fieldsets(request, obj)))
        if fields is not None:
            kwargs["fields"] = [name for name in fields if name != "change_reason"]
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"change_reason": reason_field()})

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        names = [n for _, opts in fieldsets for n in opts.get("fields", ())]
        if "change_reason" in names:
            return fieldsets
        return [*fieldsets, ("Audit", {"fields": ["change_reason"]})]

    def get_readonly_fields(self, request, obj=None):
        # Moving a door, zone or membership to another site would hand that site's records
        # (events, incidents) to another site's people: a new record is made instead.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and "site" not in fields and _has_field(self.model, "site"):
            fields.append("site")
        return fields

    def save_model(self, request, obj, form, change):
        with audited_change(request.user, form.cleaned_data["change_reason"]):
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # Rows changed in inlines get their history rows under the same reason.
        with audited_change(request.user, form.cleaned_data["change_reason"]):
            super().save_related(request, form, formsets, change)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody edits here: append-only events and batches, evidence, and records that
    change only through their service (alarms are acknowledged and resolved on the console,
    each step with its note). Mix in HistoryAdmin first for a model with history."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


# --- passwords --------------------------------------------------------------------------------


# Who is changing a password: set for the length of one admin request (a context variable,
# so concurrent requests never see each other's administrator).
_password_actor: ContextVar = ContextVar("facility_log_password_actor", default=None)


class ReasonedPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" form for a user, with the reason the history row keeps."""

    change_reason = reason_field()

    def save(self, commit=True):
        reason = f"password changed: {self.cleaned_data['change_reason']}"
        with audited_change(_password_actor.get(), reason):
            return super().save(commit=commit)


class ReasonedPasswordAdminMixin:
    """UserAdmin's password page with a reason, stamped on the user's history row."""

    change_password_form = ReasonedPasswordChangeForm
    change_user_password_template = "admin/facility_log/user_change_password.html"

    def user_change_password(self, request, id, form_url=""):
        token = _password_actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)


def own_password_change(request):
    """The admin site's "change my password" page: a password is changed on the user's own
    admin page, which asks for the reason (Django's page saves without one)."""
    if not (request.user.is_active and request.user.is_staff):
        return redirect("admin:login")
    return redirect("admin:auth_user_password_change", request.user.pk)
