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
    Checkpoint,
    Disclosure,
    Door,
    DoorExternalId,
    ImportBatch,
    IncidentSource,
    LedgerCheckpoint,
    LedgerEntry,
    LegalHold,
    Membership,
    PurgeCount,
    PurgeRun,
    RecordView,
    RetentionPolicy,
    RoundException,
    Route,
    RouteStop,
    Run,
    Scan,
    Schedule,
    Shift,
    ShiftEntry,
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


# --- incidents ---------------------------------------------------------------------------
from facility_log.models import (  # noqa: E402
    Attachment,
    Category,
    Incident,
    IncidentCounter,
    InvolvedPerson,
    PropertyItem,
    Review,
    Supplement,
    Vehicle,
)
from facility_log.models.incidents import REPORT_FIELDS  # noqa: E402


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    """The editable list of incident categories (deactivate, never delete)."""

    list_display = ["name", "sort_order", "is_active"]
    fields = ["name", "sort_order", "is_active"]


class SubmittedIsReadOnlyMixin:
    """After submission nothing is edited in place, here as anywhere: the admin shows the
    record but refuses changes (use supplements and corrections on the incident page)."""

    def _incident_of(self, obj):
        return obj if isinstance(obj, Incident) else getattr(obj, "incident", None)

    def has_change_permission(self, request, obj=None):
        incident = self._incident_of(obj) if obj is not None else None
        if incident is not None and incident.status != "draft":
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return False


@admin.register(Incident)
class IncidentAdmin(SubmittedIsReadOnlyMixin, AuditedAdmin):
    list_display = ["__str__", "site", "status", "severity", "category", "occurred_from"]
    list_filter = ["site", "status", "severity", "category"]
    list_select_related = ["site", "category"]
    search_fields = ["number", "title"]
    readonly_fields = ["number", "status", "version", "author", "submitted_at", "void_reason"]
    fields = [
        "site", "number", "status", "version", "author",
        *REPORT_FIELDS,
        "submitted_at", "void_reason",
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "site"]
        return self.readonly_fields


@admin.register(InvolvedPerson)
class InvolvedPersonAdmin(SubmittedIsReadOnlyMixin, AuditedAdmin):
    list_display = ["incident", "role", "name"]
    list_select_related = ["incident"]
    fields = ["incident", "role", "name", "description", "contact", "statement"]
    readonly_fields = ["incident"]


@admin.register(Vehicle)
class VehicleAdmin(SubmittedIsReadOnlyMixin, AuditedAdmin):
    list_display = ["incident", "registration", "make_model"]
    list_select_related = ["incident"]
    fields = ["incident", "registration", "make_model", "colour", "description"]
    readonly_fields = ["incident"]


@admin.register(PropertyItem)
class PropertyItemAdmin(SubmittedIsReadOnlyMixin, AuditedAdmin):
    list_display = ["incident", "kind", "description", "value"]
    list_select_related = ["incident"]
    fields = ["incident", "kind", "description", "value"]
    readonly_fields = ["incident"]


@admin.register(IncidentCounter)
class IncidentCounterAdmin(AuditedAdmin):
    """Read-only: numbers are issued by submission, never set by hand."""

    list_display = ["site", "year", "last_number"]
    readonly_fields = ["site", "year", "last_number"]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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


class AppendOnlyAdmin(ReadOnlyAdmin):
    """Append-only records are looked at here, never added, changed or deleted."""


# --- Guard rounds -----------------------------------------------------------------------------
# Checkpoints, routes, stops and schedules can be corrected here with a reason. Runs, scans and
# round exceptions are evidence: they are only looked at here (services/rounds.py writes them).


@admin.register(Checkpoint)
class CheckpointAdmin(AuditedAdmin):
    list_display = ["name", "site", "zone", "is_active"]
    list_filter = ["site", "is_active"]
    list_select_related = ["site", "zone"]
    search_fields = ["name"]
    fields = ["site", "zone", "name", "instructions", "tag_code", "is_active"]
    readonly_fields = ["tag_code"]


class RouteStopInline(admin.TabularInline):
    model = RouteStop
    extra = 0
    can_delete = False
    fields = ["position", "checkpoint", "expected_minutes"]
    readonly_fields = ["position", "checkpoint", "expected_minutes"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Route)
class RouteAdmin(AuditedAdmin):
    list_display = ["name", "site", "must_follow_order", "random_order", "is_active"]
    list_filter = ["site", "is_active"]
    list_select_related = ["site"]
    fields = ["site", "name", "must_follow_order", "random_order", "is_active"]
    inlines = [RouteStopInline]


@admin.register(RouteStop)
class RouteStopAdmin(AuditedAdmin):
    list_display = ["route", "position", "checkpoint", "expected_minutes"]
    list_select_related = ["route__site", "checkpoint__site"]
    fields = ["route", "position", "checkpoint", "expected_minutes"]


@admin.register(Schedule)
class ScheduleAdmin(AuditedAdmin):
    list_display = ["__str__", "kind", "grace_minutes", "active_from", "is_active"]
    list_select_related = ["route__site"]
    fields = [
        "route",
        "name",
        "kind",
        "start_time",
        "end_time",
        "every_hours",
        "fixed_times",
        "grace_minutes",
        "active_from",
        "active_until",
        "is_active",
    ]


class ReadOnlyEvidenceAdmin(ReadOnlyAdmin):
    """Shown, never changed here: services/rounds.py writes runs, scans and exceptions."""


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


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AppendOnlyAdmin):
    list_display = ["seq", "created_at", "kind", "record_label", "actor_name", "hash"]
    list_filter = ["kind"]
    search_fields = ["record_label", "object_pk", "hash"]


@admin.register(Disclosure)
class DisclosureAdmin(AppendOnlyAdmin):
    list_display = ["object_label", "recipient", "case_number", "disclosed_by_name", "disclosed_at"]
    list_select_related = ["site"]
    list_filter = ["site"]


@admin.register(LedgerCheckpoint)
class LedgerCheckpointAdmin(AppendOnlyAdmin):
    list_display = ["seq", "created_at", "full"]


@admin.register(RecordView)
class RecordViewAdmin(AppendOnlyAdmin):
    list_display = ["object_label", "viewer_name", "viewed_at"]
    list_filter = ["site"]


@admin.register(Attachment)
class AttachmentAdmin(AppendOnlyAdmin):
    list_display = ["original_name", "incident", "content_type", "size", "uploaded_at"]
    list_select_related = ["incident"]
    exclude = ["file"]


@admin.register(Supplement)
class SupplementAdmin(AppendOnlyAdmin):
    list_display = ["incident", "author", "created_at", "reason"]
    list_select_related = ["incident", "author"]


@admin.register(Review)
class ReviewAdmin(AppendOnlyAdmin):
    list_display = ["incident", "decision", "reviewer", "created_at"]
    list_select_related = ["incident", "reviewer"]


@admin.register(Run)
class RunAdmin(ReadOnlyEvidenceAdmin, SimpleHistoryAdmin):
    list_display = ["route", "guard", "started_at", "finished_at", "window_start"]
    list_filter = ["site"]
    list_select_related = ["route__site", "guard"]


@admin.register(Scan)
class ScanAdmin(ReadOnlyEvidenceAdmin):
    list_display = ["checkpoint", "run", "method", "device_time", "received_at"]
    list_select_related = ["checkpoint__site", "run__route__site"]


@admin.register(RoundException)
class RoundExceptionAdmin(ReadOnlyEvidenceAdmin, SimpleHistoryAdmin):
    list_display = ["kind", "site", "detail", "detected_at", "withdrawn_at"]
    list_filter = ["site", "kind"]
    list_select_related = ["site"]


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


@admin.register(IncidentSource)
class IncidentSourceAdmin(AppendOnlyAdmin):
    list_display = ["incident", "alarm", "scan", "created_by", "created_at"]
    list_select_related = ["incident", "created_by"]


# --- shifts -----------------------------------------------------------------------------------
# Shifts change only through services/shifts.py (start, end with pass-down notes), which
# enforce the rules on times; log entries are append-only. Both are only looked at here.


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["site", "guard", "started_at", "ended_at"]
    list_filter = ["site"]
    list_select_related = ["site", "guard"]


@admin.register(ShiftEntry)
class ShiftEntryAdmin(ReadOnlyAdmin):
    list_display = ["shift", "kind", "occurred_at", "recorded_by", "recorded_at"]
    list_filter = ["kind"]
    list_select_related = ["shift__site", "recorded_by"]


# --- retention --------------------------------------------------------------------------------
# Periods and legal holds change only on the site's retention page and the incident page
# (services/retention.py checks the manager role and asks the reason); purge runs are
# append-only. All are only looked at here.


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(ReadOnlyAdmin):
    list_display = ["site", "kind", "days"]
    list_select_related = ["site"]


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    list_display = ["incident", "placed_by", "placed_at", "released_at"]
    list_select_related = ["incident", "placed_by"]


@admin.register(PurgeRun)
class PurgeRunAdmin(AppendOnlyAdmin):
    list_display = ["started_at", "actor_name", "applied", "outcome"]


@admin.register(PurgeCount)
class PurgeCountAdmin(AppendOnlyAdmin):
    list_display = ["run", "site", "kind", "days", "records", "rows", "held", "kept"]
    list_select_related = ["run", "site"]
