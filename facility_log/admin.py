"""The Django admin for every model, with simple-history's history pages (read-only).

Changes made here go through the same audit context as the services: the admin form asks for
a reason, and the history row records it with the administrator's name. Nothing is deleted
here: records are deactivated (the design's rule), and the bulk "delete selected" action,
which would bypass history, is gone. Old versions are shown, never restored; submitted
incidents, alarms, evidence and append-only records are shown, never changed (the rules are
in facility_log/admin_base.py; tests/admin/ posts to every admin URL to prove it).

An incident's persons, vehicles, property, supplements, attachments and reviews are shown only
on that incident's page, as its own data: the admin has no list of them across incidents
(PRIVACY.md).
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group

from facility_log.admin_base import (
    AuditedAdmin,
    HistoryAdmin,
    ReadOnlyAdmin,
    ReasonedPasswordAdminMixin,
    reason_field,  # noqa: F401  (kept importable from here)
)
from facility_log.models import (
    AccessEvent,
    Alarm,
    AlarmRule,
    ApiToken,
    AuditCheck,
    Checkpoint,
    Disclosure,
    Door,
    DoorExternalId,
    ImportBatch,
    ImportJob,
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

User = get_user_model()


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ["code", "name", "time_zone", "is_active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "time_zone", "address", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        # Fixed once made, superusers included: it is part of every issued incident number
        # (the model refuses a change too, naming why).
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "code"] if obj is not None else fields


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

    def has_change_permission(self, request, obj=None):
        # A revoked token stays revoked: clearing `revoked_at` would bring it back to life.
        if obj is not None and obj.revoked_at is not None:
            return False
        return super().has_change_permission(request, obj)


admin.site.unregister(User)
# Roles are per-site memberships; Django's groups and permissions are not used, and changes to
# them would leave no history row.
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(ReasonedPasswordAdminMixin, AuditedAdmin, UserAdmin):
    """Users with history and a reason on every change, the password included; deactivate,
    never delete. Roles are memberships (above), not Django groups or permissions."""

    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]


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


class IncidentPartInline(admin.StackedInline):
    """A person, vehicle or property item, shown on its incident's page only. Typos in a
    draft can be fixed here (with the incident form's reason); after submission the part is
    read-only like the incident. Parts are added on the incident page, never deleted."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is None or not obj.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class PersonInline(IncidentPartInline):
    model = InvolvedPerson
    fields = ["role", "name", "description", "contact", "statement"]


class VehicleInline(IncidentPartInline):
    model = Vehicle
    fields = ["registration", "make_model", "colour", "description"]


class PropertyItemInline(IncidentPartInline):
    model = PropertyItem
    fields = ["kind", "description", "value"]


class AppendOnlyInline(admin.TabularInline):
    """Supplements, attachments and reviews of one incident: append-only, shown only."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SupplementInline(AppendOnlyInline):
    model = Supplement
    fields = ["created_at", "author", "reason", "text"]


class AttachmentInline(AppendOnlyInline):
    model = Attachment
    fields = ["original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]


class ReviewInline(AppendOnlyInline):
    model = Review
    fields = ["created_at", "reviewer", "decision", "comment"]


@admin.register(Incident)
class IncidentAdmin(AuditedAdmin):
    """Incidents, with their parts inline. After submission nothing is edited in place, here
    as anywhere: the admin shows the record but refuses changes (supplements and corrections
    are made on the incident page)."""

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
    inlines = [
        PersonInline,
        VehicleInline,
        PropertyItemInline,
        SupplementInline,
        AttachmentInline,
        ReviewInline,
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_draft:
            return False
        return super().has_change_permission(request, obj)


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
    """Where unmapped vendor types (stored as `other`) get their neutral type: for every site
    (site empty) or one site (managers also map those on Access → Vendor types)."""

    list_display = [
        "vendor",
        "vendor_type",
        "site",
        "neutral_type",
        "neutral_type_if_failed",
        "reason",
        "is_active",
    ]
    list_filter = ["vendor", "is_active"]
    fields = [
        "vendor",
        "vendor_type",
        "site",
        "neutral_type",
        "neutral_type_if_failed",
        "reason",
        "is_active",
    ]


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


@admin.register(Run)
class RunAdmin(ReadOnlyEvidenceAdmin, HistoryAdmin):
    list_display = ["route", "guard", "started_at", "finished_at", "window_start"]
    list_filter = ["site"]
    list_select_related = ["route__site", "guard"]


@admin.register(Scan)
class ScanAdmin(ReadOnlyEvidenceAdmin):
    list_display = ["checkpoint", "run", "method", "device_time", "received_at"]
    list_select_related = ["checkpoint__site", "run__route__site"]


@admin.register(RoundException)
class RoundExceptionAdmin(ReadOnlyEvidenceAdmin, HistoryAdmin):
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


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin, HistoryAdmin):
    """An upload's import: its progress and outcome change only through the import itself."""

    list_display = ["created_at", "site", "file_name", "status", "percent", "created"]
    list_filter = ["status"]
    list_select_related = ["site"]


@admin.register(AuditCheck)
class AuditCheckAdmin(ReadOnlyAdmin, HistoryAdmin):
    """A ledger check asked for on the audit page: changes only through the check itself."""

    list_display = ["requested_at", "requested_by", "scope", "status", "intact", "problem_count"]
    list_filter = ["status"]
    list_select_related = ["requested_by"]


@admin.register(Alarm)
class AlarmAdmin(ReadOnlyAdmin, HistoryAdmin):
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
class ShiftAdmin(ReadOnlyAdmin, HistoryAdmin):
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


# django-tasks-db registers its task results (the background jobs' queue) in the admin, with
# delete and re-run actions that write no history. An upload's import is followed on its job
# page (/access/import/jobs/<id>/) instead.
from django_tasks_db.models import DBTaskResult  # noqa: E402

if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)

# django-otp and django-axes register their devices and sign-in failures in the admin, where
# changes and deletions would write no history. A lost phone is handled by the person's
# recovery codes or by `manage.py reset_two_factor USERNAME --reason …` (logged); paused
# sign-ins by `manage.py axes_reset_username USERNAME` (docs/security.md).
from axes.models import AccessAttempt, AccessFailureLog, AccessLog  # noqa: E402
from django_otp.plugins.otp_static.models import StaticDevice  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

for _model in (AccessAttempt, AccessFailureLog, AccessLog, StaticDevice, TOTPDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
