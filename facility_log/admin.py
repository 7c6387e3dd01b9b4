"""The Django admin for every model, with simple-history's history pages.

Changes made here go through the same audit context as the services: the admin form asks for
a reason, and the history row records it with the administrator's name. Nothing is deleted
here: records are deactivated (the design's rule), and the bulk "delete selected" action,
which would bypass history, is gone.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from facility_log.models import (
    AccessEvent,
    Alarm,
    AlarmRule,
    ApiToken,
    Door,
    DoorExternalId,
    ImportBatch,
    Membership,
    Site,
    VendorTypeMapping,
    WebhookSecret,
    Zone,
)
from facility_log.services.audit import audited_change

User = get_user_model()


def reason_field() -> forms.CharField:
    return forms.CharField(
        label="Reason for this change",
        max_length=500,
        help_text="Kept in the history with your name and the time.",
    )


class AuditedAdmin(SimpleHistoryAdmin):
    """Base admin for audited models: reason required, no deletion, no bulk actions."""

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

    def save_model(self, request, obj, form, change):
        with audited_change(request.user, form.cleaned_data["change_reason"]):
            super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ["code", "name", "time_zone", "is_active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "time_zone", "address", "is_active"]


@admin.register(Zone)
class ZoneAdmin(AuditedAdmin):
    list_display = ["name", "site", "is_active"]
    list_filter = ["site"]
    list_select_related = ["site"]
    fields = ["site", "name", "description", "is_active"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "site", "role", "is_active"]
    list_filter = ["site", "role", "is_active"]
    list_select_related = ["site", "user"]
    fields = ["user", "site", "role", "is_active"]


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    """Tokens are issued with `manage.py issue_token` (the key is shown once); here they can
    only be looked at and revoked."""

    list_display = ["prefix", "user", "created_at", "revoked_at"]
    list_select_related = ["user"]
    fields = ["user", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["user", "prefix", "created_at"]

    def has_add_permission(self, request):
        return False


admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    """Users with history and a reason on every change; deactivate, never delete."""


# --- access control ---------------------------------------------------------------------------


@admin.register(Door)
class DoorAdmin(AuditedAdmin):
    list_display = ["code", "name", "site", "zone", "is_active"]
    list_filter = ["site", "is_active"]
    list_select_related = ["site", "zone"]
    fields = ["site", "zone", "code", "name", "is_active"]


@admin.register(DoorExternalId)
class DoorExternalIdAdmin(AuditedAdmin):
    list_display = ["source", "external_id", "door", "site"]
    list_select_related = ["door", "site"]
    fields = ["site", "door", "source", "external_id"]


@admin.register(VendorTypeMapping)
class VendorTypeMappingAdmin(AuditedAdmin):
    """Where unmapped vendor types (stored as `other`) get their neutral type."""

    list_display = ["vendor", "vendor_type", "neutral_type", "neutral_type_if_failed", "is_active"]
    list_filter = ["vendor", "is_active"]
    fields = ["vendor", "vendor_type", "neutral_type", "neutral_type_if_failed", "is_active"]


@admin.register(AlarmRule)
class AlarmRuleAdmin(AuditedAdmin):
    list_display = ["site", "door", "event_type", "is_active", "escalate_after_minutes"]
    list_filter = ["site", "event_type", "is_active"]
    list_select_related = ["site", "door"]
    fields = [
        "site",
        "door",
        "event_type",
        "is_active",
        "held_open_seconds",
        "escalate_after_minutes",
    ]


@admin.register(WebhookSecret)
class WebhookSecretAdmin(AuditedAdmin):
    list_display = ["site", "source", "is_active"]
    list_select_related = ["site"]
    fields = ["site", "source", "secret", "is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody edits here: append-only events and batches, and alarms, which change
    only through the console (acknowledge, resolve) so each step carries its note."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "site", "door", "event_type", "reason", "vendor_type"]
    list_filter = ["site", "event_type"]
    list_select_related = ["site", "door"]
    search_fields = ["external_id"]
    exclude = ["credential_hash"]

    def get_readonly_fields(self, request, obj=None):
        return [
            name for name in super().get_readonly_fields(request, obj) if name != "credential_hash"
        ]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "site", "channel", "source_format", "created", "duplicates"]
    list_select_related = ["site"]


@admin.register(Alarm)
class AlarmAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["raised_at", "site", "door", "event_type", "state"]
    list_filter = ["site", "state"]
    list_select_related = ["site", "door"]
