"""The cross-site check pattern: every URL of the project is classified here, and the
outsider (a guard at site C) is sent to each one with site A's objects in it.

When a later issue adds a URL, `test_every_url_is_classified` fails until the URL is added to
one of the three tables below — so no page or endpoint escapes the check.

* SITE_A_OBJECT_URLS: URLs that name one of site A's records. The outsider gets 403/404 for
  GET and for POST, and nothing is written.
* LIST_URLS: URLs that list what the caller may see. The outsider gets 200 with none of site
  A's or B's records in it.
* AUDIT_LIST_URLS: auditors' lists over the sites they audit. Anyone who audits no site
  (the outsider) gets 403 and nothing of site A; an auditor sees only the sites audited.
* MANAGER_LIST_URLS: managers' lists over the sites they manage. Anyone who manages no site
  (the outsider) gets 403 and nothing of site A; the manager of A and B gets the page.
* NOT_SITE_DATA: URLs that carry no site data (sign-in, the API schema).
"""

from collections.abc import Callable

from django.urls import URLPattern, URLResolver, get_resolver

from facility_log.models import Membership
from tests.access.helpers import site_a_alarm, site_a_import_job
from tests.onsite.procedure_helpers import procedure_at_a
from tests.personas import Personas
from tests.post_orders_helpers import site_a_post_order

SITE_A_OBJECT_URLS: dict[str, Callable[[Personas], dict]] = {
    "site-page": lambda p: {"code": p.site_a.code},
    "site-edit": lambda p: {"code": p.site_a.code},
    "zone-add": lambda p: {"code": p.site_a.code},
    "people-invite": lambda p: {"code": p.site_a.code},
    "route-add": lambda p: {"code": p.site_a.code},
    "door-add": lambda p: {"code": p.site_a.code},
    "alarm-rules": lambda p: {"code": p.site_a.code},
    "door-id-add": lambda p: {"pk": site_a_alarm(p).door_id},
    "schedules": lambda p: {"code": p.site_a.code},
    "round-exceptions": lambda p: {"code": p.site_a.code},
    "schedule-add": lambda p: {"code": p.site_a.code},
    "schedule-end": lambda p: {"code": p.site_a.code, "pk": rounds_at_a(p).schedule.pk},
    "route-edit": lambda p: {"code": p.site_a.code, "pk": rounds_at_a(p).route.pk},
    "people-give-role": lambda p: {"code": p.site_a.code},
    "people-end-role": lambda p: {"code": p.site_a.code, "pk": _membership_at_a(p)},
    "people-deactivate": lambda p: {"code": p.site_a.code, "pk": _membership_at_a(p)},
    "people-resend": lambda p: {"code": p.site_a.code, "pk": _membership_at_a(p)},
    "site-history": lambda p: {"code": p.site_a.code},
    "site-retention": lambda p: {"code": p.site_a.code},
    "site-purges": lambda p: {"code": p.site_a.code},
    "incident-legal-hold": lambda p: {"pk": _incident_at_a(p).pk, "action": "place"},
    "api-site-detail": lambda p: {"code": p.site_a.code},
    "api-zone-detail": lambda p: {"pk": p.zone_a.pk},
    "api-membership-detail": lambda p: {"pk": _membership_at_a(p)},
    "api-membership-end": lambda p: {"pk": _membership_at_a(p)},
    "incident-page": lambda p: {"pk": _incident_at_a(p).pk},
    "access-alarm-open-incident": lambda p: {"pk": site_a_alarm(p).pk},
    "round-scan-report-incident": lambda p: {"pk": rounds_at_a(p).scan.pk},
    "incident-police-package": lambda p: {"pk": _incident_at_a(p).pk},
    "incident-edit": lambda p: {"pk": _incident_at_a(p).pk},
    "incident-history": lambda p: {"pk": _incident_at_a(p).pk},
    "incident-supplement": lambda p: {"pk": _incident_at_a(p).pk},
    "incident-correct": lambda p: {"pk": _incident_at_a(p).pk},
    "incident-correct-field": lambda p: {"pk": _incident_at_a(p).pk, "field": "severity"},
    "incident-attach": lambda p: {"pk": _incident_at_a(p).pk},
    "incident-add-item": lambda p: {"pk": _incident_at_a(p).pk, "kind": "persons"},
    "incident-transition": lambda p: {"pk": _incident_at_a(p).pk, "action": "void"},
    "attachment-download": lambda p: {"pk": _attachment_at_a(p).pk},
    "api-incident-detail": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-submit": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-return-to-author": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-approve": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-close": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-void": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-correct": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-supplements": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-attachments": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-persons": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-vehicles": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-property-items": lambda p: {"pk": _incident_at_a(p).pk},
    "api-attachment-detail": lambda p: {"pk": _attachment_at_a(p).pk},
    "api-attachment-download": lambda p: {"pk": _attachment_at_a(p).pk},
    # Guard rounds (tests/rounds_helpers.py builds site A's rounds once per test)
    "rounds-site": lambda p: {"code": p.site_a.code},
    "round-start": lambda p: {"code": p.site_a.code, "route_id": rounds_at_a(p).route.pk},
    "rounds-live": lambda p: {"code": p.site_a.code},
    "rounds-report": lambda p: {"code": p.site_a.code},
    "rounds-report-csv": lambda p: {"code": p.site_a.code},
    "checkpoints": lambda p: {"code": p.site_a.code},
    "checkpoint-add": lambda p: {"code": p.site_a.code},
    "checkpoint-labels": lambda p: {"code": p.site_a.code},
    "checkpoint-edit": lambda p: {"pk": rounds_at_a(p).checkpoints[0].pk},
    "round-run": lambda p: {"pk": rounds_at_a(p).run.pk},
    "round-scan": lambda p: {"pk": rounds_at_a(p).run.pk},
    "round-finish": lambda p: {"pk": rounds_at_a(p).run.pk},
    "api-checkpoint-detail": lambda p: {"pk": rounds_at_a(p).checkpoints[0].pk},
    "api-route-detail": lambda p: {"pk": rounds_at_a(p).route.pk},
    "api-schedule-detail": lambda p: {"pk": rounds_at_a(p).schedule.pk},
    "api-run-detail": lambda p: {"pk": rounds_at_a(p).run.pk},
    "api-run-finish": lambda p: {"pk": rounds_at_a(p).run.pk},
    "api-scan-detail": lambda p: {"pk": rounds_at_a(p).scan.pk},
    "api-round-exception-detail": lambda p: {"pk": rounds_at_a(p).exception.pk},
    # Shifts and daily activity reports (tests/shifts_helpers.py)
    "shift-report": lambda p: {"pk": shifts_at_a(p).ended.pk},
    "shift-report-pdf": lambda p: {"pk": shifts_at_a(p).ended.pk},
    "site-shifts": lambda p: {"code": p.site_a.code},
    "site-activity": lambda p: {"code": p.site_a.code, "day": _day_of(p)},
    "site-activity-pdf": lambda p: {"code": p.site_a.code, "day": _day_of(p)},
    "api-shift-detail": lambda p: {"pk": shifts_at_a(p).ended.pk},
    "api-shift-end": lambda p: {"pk": shifts_at_a(p).open.pk},
    "api-shift-entry-detail": lambda p: {"pk": shifts_at_a(p).entry.pk},
    "access-alarm-page": lambda p: {"pk": site_a_alarm(p).pk},
    "access-alarm-acknowledge": lambda p: {"pk": site_a_alarm(p).pk},
    "access-alarm-resolve": lambda p: {"pk": site_a_alarm(p).pk},
    "access-alarm-priorities": lambda p: {"code": p.site_a.code},
    "site-lone-worker": lambda p: {"code": p.site_a.code},
    "api-site-lone-worker-policy": lambda p: {"code": p.site_a.code},
    "alarm-procedure-tick": lambda p: {"pk": site_a_alarm(p).pk},
    "api-procedure-detail": lambda p: {"pk": procedure_at_a(p).pk},
    "incident-procedure-tick": lambda p: {"pk": _incident_at_a(p).pk},
    "procedure-list": lambda p: {"code": p.site_a.code},
    "procedure-new": lambda p: {"code": p.site_a.code},
    "procedure-edit": lambda p: {"code": p.site_a.code, "pk": procedure_at_a(p).pk},
    "procedure-retire": lambda p: {"code": p.site_a.code, "pk": procedure_at_a(p).pk},
    "access-import-result": lambda p: {"pk": site_a_alarm(p).event.batch_id},
    "access-import-job": lambda p: {"pk": site_a_import_job(p).pk},
    "access-import-job-progress": lambda p: {"pk": site_a_import_job(p).pk},
    "api-access-event-detail": lambda p: {"pk": site_a_alarm(p).event_id},
    "api-kisi-webhook": lambda p: {"site_code": p.site_a.code},
    # api/alarms.py, api/history.py, api/reports.py, api/exports.py, api/retention.py
    "api-alarm-detail": lambda p: {"pk": site_a_alarm(p).pk},
    "api-alarm-acknowledge": lambda p: {"pk": site_a_alarm(p).pk},
    "api-alarm-resolve": lambda p: {"pk": site_a_alarm(p).pk},
    "api-alarm-open-incident": lambda p: {"pk": site_a_alarm(p).pk},
    "api-alarm-history": lambda p: {"pk": site_a_alarm(p).pk},
    "api-incident-history": lambda p: {"pk": _incident_at_a(p).pk},
    "api-run-history": lambda p: {"pk": rounds_at_a(p).run.pk},
    "api-shift-history": lambda p: {"pk": shifts_at_a(p).ended.pk},
    "api-site-history": lambda p: {"code": p.site_a.code},
    "api-shift-report": lambda p: {"pk": shifts_at_a(p).ended.pk},
    "api-site-activity": lambda p: {"code": p.site_a.code, "day": _day_of(p)},
    "api-rounds-compliance": lambda p: {"code": p.site_a.code},
    "api-incident-police-package": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-legal-hold": lambda p: {"pk": _incident_at_a(p).pk},
    "api-incident-legal-hold-release": lambda p: {"pk": _incident_at_a(p).pk},
    "api-site-retention": lambda p: {"code": p.site_a.code},
    # Post orders (tests/post_orders_helpers.py)
    "site-post-orders": lambda p: {"code": p.site_a.code},
    "post-order-add": lambda p: {"code": p.site_a.code},
    "shift-start": lambda p: {"code": p.site_a.code},
    "post-order": lambda p: {"pk": site_a_post_order(p).pk},
    "post-order-edit": lambda p: {"pk": site_a_post_order(p).pk},
    "post-order-file": lambda p: {"pk": site_a_post_order(p).attachments.get().pk},
    "api-post-order-detail": lambda p: {"pk": site_a_post_order(p).pk},
    "post-order-retire": lambda p: {"pk": site_a_post_order(p).pk},
    "api-post-order-retire": lambda p: {"pk": site_a_post_order(p).pk},
    # A notice to site A's manager: only its recipient opens it.
    "notification-open": lambda p: {"pk": _notice_at_a(p).pk},
    # Dashboard and monthly site report (facility_log/views/dashboard.py)
    "site-dashboard": lambda p: {"code": p.site_a.code},
    "site-monthly-report-pdf": lambda p: {"code": p.site_a.code, "month": "2026-01"},
    "site-monthly-report-csv": lambda p: {"code": p.site_a.code, "month": "2026-01"},
    # The visitor day sheet (facility_log/views/visitors.py, api/visitors.py)
    "visitor-today": lambda p: {"code": p.site_a.code},
    "visitor-sheet": lambda p: {"code": p.site_a.code, "day": _visitor_at_a(p).day.isoformat()},
    "visitor-evacuation": lambda p: {"code": p.site_a.code},
    "visitor-evacuation-pdf": lambda p: {"code": p.site_a.code},
    "visitor-sign-out": lambda p: {"code": p.site_a.code, "pk": _visitor_at_a(p).pk},
    "api-visitor-sheet": lambda p: {"code": p.site_a.code, "day": _visitor_at_a(p).day.isoformat()},
    "api-visitor-on-site": lambda p: {"code": p.site_a.code},
    "api-visitor-sign-in": lambda p: {"code": p.site_a.code},
    "api-visitor-sign-out": lambda p: {"code": p.site_a.code, "pk": _visitor_at_a(p).pk},
    # Key control (facility_log/views/keys.py, api/keys.py; tests/onsite/keys_helpers.py)
    "keys": lambda p: {"code": p.site_a.code},
    "keys-overdue": lambda p: {"code": p.site_a.code},
    "key-add": lambda p: {"code": p.site_a.code},
    "key-set-add": lambda p: {"code": p.site_a.code},
    "key-issue": lambda p: {"code": p.site_a.code},
    "key-return": lambda p: {"code": p.site_a.code, "pk": _key_issue_at_a(p).pk},
    "api-key-detail": lambda p: {"pk": _key_issue_at_a(p).key_id},
    "api-key-set-detail": lambda p: {"pk": _key_set_at_a(p).pk},
    "api-key-issue-detail": lambda p: {"pk": _key_issue_at_a(p).pk},
    "api-key-issue-return-key": lambda p: {"pk": _key_issue_at_a(p).pk},
    # Lost and found (facility_log/views/lost_found.py; tests/onsite/lost_found_helpers.py)
    "found-list": lambda p: {"code": p.site_a.code},
    "found-add": lambda p: {"code": p.site_a.code},
    "found-due": lambda p: {"code": p.site_a.code},
    "found-item": lambda p: {"code": p.site_a.code, "pk": _found_item_at_a(p).pk},
    "found-photo": lambda p: {"code": p.site_a.code, "pk": _found_item_at_a(p).pk},
    "found-dispose": lambda p: {"code": p.site_a.code, "pk": _found_item_at_a(p).pk},
    "api-found-item-detail": lambda p: {"pk": _found_item_at_a(p).pk},
    "api-found-item-photo": lambda p: {"pk": _found_item_at_a(p).pk},
    "api-found-item-hand-over": lambda p: {"pk": _found_item_at_a(p).pk},
    "api-found-item-dispose": lambda p: {"pk": _found_item_at_a(p).pk},
}

LIST_URLS: set[str] = {
    "home",
    "notification-list",
    "tablet",
    "api-me",
    "api-site-list",
    "api-zone-list",
    "api-membership-list",
    "incident-list",
    "incident-new",
    "incident-review-queue",
    "incident-export",
    "api-incident-list",
    "api-attachment-list",
    "api-checkpoint-list",
    "api-route-list",
    "api-schedule-list",
    "api-run-list",
    "api-scan-list",
    "api-round-exception-list",
    "api-shift-list",
    "api-shift-entry-list",
    "access-alarm-console",
    "access-alarm-feed",
    "access-event-list",
    "access-door-list",
    "access-import",
    "api-access-event-list",
    "api-alarm-list",
    "api-key-list",
    "api-key-set-list",
    "api-key-issue-list",
    "api-found-item-list",
    "api-procedure-list",
    "api-post-order-list",
}

AUDIT_LIST_URLS: set[str] = {
    "audit-view-log",
    "api-audit-view-log",
    "api-audit-disclosures",
}

# audit-overview: the ledger head and verification summary span all sites; it names no
# record's content, and is refused (403) to anyone who audits or manages no site.
MANAGER_LIST_URLS: set[str] = {
    "access-vendor-types",
    # Supervisors, managers and auditors: the figures of their sites; 403 to everyone else.
    "dashboard",
}

NOT_SITE_DATA: set[str] = {
    "login",
    "logout",
    # The caller's own second sign-in step: nothing of any site (tests/views/test_two_factor.py).
    "two-factor",
    "two-factor-verify",
    "two-factor-setup",
    "api-schema",
    "api-docs",
    "api-root",
    "audit-overview",
    "tablet-sw",
    "tablet-manifest",
    # POST only; it names records in its body, and answers with statuses and ids: the
    # outsider's refusals are tested in tests/api/test_sync_api.py.
    "api-sync",
    # POST only; the alarms are named in its body: the outsider's refusal (nothing
    # acknowledged) is tested in tests/access/test_alarm_priorities.py.
    "access-alarm-acknowledge-many",
    # POST only, like api-sync (the same panic record): the outsider's refusal (nothing
    # stored) is tested in tests/onsite/test_panic.py.
    "api-panic",
    # POST only, like api-sync (the same check_in record): the outsider's refusal (nothing
    # stored) is tested in tests/onsite/test_lone_worker.py.
    "api-check-in",
    # POST only; the alarm or incident is named in its body: the outsider's refusal (a 422,
    # nothing stored) is tested in tests/onsite/test_procedures_api.py.
    "api-procedure-tick-list",
    # Signed by the vendor, not by a user: no session or token opens them, and anyone without
    # the site's secret gets 401 with nothing stored (tests/access/test_vendor_webhooks.py).
    "api-unifi-webhook",
    "api-verkada-webhook",
    # Incident categories are shared by every site (api/categories.py).
    "api-category-list",
    "api-category-detail",
    # The person's own choices, and marking their own notices read: no site's records.
    "notification-settings",
    # The person's own language (tests/i18n/test_language_choice.py).
    "language-choice",
    # The emailed set-password link: a signed token for one account, no site's records.
    "set-password",
    "notification-mark-all-read",
}


def _membership_at_a(p: Personas) -> int:
    return Membership.objects.get(site=p.site_a, user=p.guard_a).pk


def _incident_at_a(p: Personas):
    """A submitted site-A incident with a person, a photo and a supplement (made once)."""
    from tests.incident_factories import seed_site_a_incident

    return seed_site_a_incident(p)


def _visitor_at_a(p: Personas):
    """A visitor signed in (and not out) on site A's sheet of today (made once)."""
    from facility_log.models import Visitor
    from facility_log.services.visitors import sign_in_visitor

    existing = Visitor.objects.filter(site=p.site_a).first()
    return existing or sign_in_visitor(p.site_a, p.guard_a, name="Vera Visitor", host="Hal")


def _attachment_at_a(p: Personas):
    return _incident_at_a(p).attachments.first()


# Records that the list tests create first, so "the outsider sees nothing of A" is checked
# against lists that do hold site-A records (and the manager does see them).
LIST_SEEDS: list[Callable[[Personas], object]] = [
    _incident_at_a,
    lambda p: rounds_at_a(p),
    lambda p: site_a_alarm(p),
    lambda p: shifts_at_a(p),
    lambda p: _disclosure_at_a(p),
    lambda p: _notice_at_a(p),
    lambda p: _key_issue_at_a(p),
    lambda p: _found_item_at_a(p),
    procedure_at_a,
    lambda p: site_a_post_order(p),
]


def _key_issue_at_a(p: Personas):
    from tests.onsite.keys_helpers import site_a_key_issue

    return site_a_key_issue(p)


def _found_item_at_a(p: Personas):
    from tests.onsite.lost_found_helpers import site_a_found_item

    return site_a_found_item(p)


def _key_set_at_a(p: Personas):
    from facility_log.models import KeySet

    _key_issue_at_a(p)
    return KeySet.objects.get(site=p.site_a)


def _notice_at_a(p: Personas):
    """A notice to site A's manager about site A's incident (made once)."""
    from facility_log.models import Notification
    from facility_log.services import notifications
    from facility_log.services.audit import audited_change

    existing = Notification.objects.filter(site=p.site_a, recipient=p.manager_ab).first()
    if existing:
        return existing
    incident = _incident_at_a(p)
    with audited_change(p.admin, "cross-site seed"):
        (notice,) = notifications.notify(
            "severe_incident",
            p.site_a,
            [p.manager_ab],
            subject=f"{p.site_a.code}: incident {incident.number}",
            body="seed",
            path=f"/incidents/{incident.pk}/",
        )
    return notice


def _disclosure_at_a(p: Personas):
    """A disclosure of site A's incident (the record alone: no package is built)."""
    from facility_log.models import Disclosure
    from facility_log.services.disclosures import record_disclosure

    incident = _incident_at_a(p)
    existing = Disclosure.objects.filter(site=p.site_a).first()
    return existing or record_disclosure(
        p.manager_ab,
        incident,
        site=p.site_a,
        label=incident.number,
        recipient="Alpha police",
        reason="cross-site seed",
    )


def seed_site_a_records(p: Personas) -> None:
    for seed in LIST_SEEDS:
        seed(p)


def project_url_names() -> set[str]:
    """Every named URL outside the Django admin (whose own permission checks guard it)."""
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def rounds_at_a(p: Personas):
    from tests.rounds_helpers import site_a_rounds

    return site_a_rounds(p)


def shifts_at_a(p: Personas):
    from tests.shifts_helpers import site_a_shifts

    return site_a_shifts(p)


def _day_of(p: Personas) -> str:
    """The local day (site A's zone) of site A's ended shift."""
    return f"{shifts_at_a(p).ended.started_at.astimezone(p.site_a.tzinfo):%Y-%m-%d}"


def site_a_secrets(p: Personas) -> list[str]:
    """Strings that only someone who can see site A or B would find in a response."""
    from facility_log.models import Checkpoint, PostOrder, Procedure, Route, Shift, ShiftEntry
    from facility_log.models.rounds import format_tag_code

    codes = Checkpoint.objects.filter(site__in=[p.site_a, p.site_b]).values_list(
        "tag_code", flat=True
    )
    routes = Route.objects.filter(site__in=[p.site_a, p.site_b]).values_list("name", flat=True)
    sites = [p.site_a, p.site_b]
    notes = Shift.objects.filter(site__in=sites).exclude(pass_down_notes="")
    texts = ShiftEntry.objects.filter(shift__site__in=sites).values_list("text", flat=True)
    return [
        p.site_a.code,
        p.site_a.name,
        p.zone_a.name,
        p.site_b.code,
        p.zone_b.name,
        *codes,
        *(format_tag_code(code) for code in codes),
        *routes,
        *notes.values_list("pass_down_notes", flat=True),
        *texts,
        *_key_texts(sites),
        *Procedure.objects.filter(site__in=sites).values_list("title", flat=True),
        *PostOrder.objects.filter(site__in=sites).values_list("title", flat=True),
    ]


def _key_texts(sites) -> list[str]:
    """The labels of site A's keys and sets, the contractor a key was issued to, and the
    descriptions of its found items."""
    from facility_log.models import FoundItem, Key, KeyIssue, KeySet

    issues = KeyIssue.objects.filter(site__in=sites).exclude(contractor_name="")
    return [
        *Key.objects.filter(site__in=sites).values_list("label", flat=True),
        *KeySet.objects.filter(site__in=sites).values_list("label", flat=True),
        *issues.values_list("contractor_name", flat=True),
        *issues.values_list("contractor_company", flat=True),
        *FoundItem.objects.filter(site__in=sites).values_list("description", flat=True),
    ]
