from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from facility_log.api import (
    access,
    access_webhooks,
    alarms,
    audit,
    categories,
    exports,
    history,
    incidents,
    keys,
    lone_worker,
    lost_found,
    me,
    panic,
    post_orders,
    procedures,
    reports,
    retention,
    rounds,
    shifts,
    sites,
    sync,
    visitors,
)

router = DefaultRouter()
router.register("sites", sites.SiteViewSet, basename="api-site")
router.register("zones", sites.ZoneViewSet, basename="api-zone")
router.register("memberships", sites.MembershipViewSet, basename="api-membership")
router.register("incidents", incidents.IncidentViewSet, basename="api-incident")
router.register("attachments", incidents.AttachmentViewSet, basename="api-attachment")
router.register("checkpoints", rounds.CheckpointViewSet, basename="api-checkpoint")
router.register("routes", rounds.RouteViewSet, basename="api-route")
router.register("schedules", rounds.ScheduleViewSet, basename="api-schedule")
router.register("runs", rounds.RunViewSet, basename="api-run")
router.register("scans", rounds.ScanViewSet, basename="api-scan")
router.register("round-exceptions", rounds.RoundExceptionViewSet, basename="api-round-exception")
router.register("shifts", shifts.ShiftViewSet, basename="api-shift")
router.register("post-orders", post_orders.PostOrderViewSet, basename="api-post-order")
router.register("shift-entries", shifts.ShiftEntryViewSet, basename="api-shift-entry")
router.register("access-events", access.AccessEventViewSet, basename="api-access-event")
router.register("categories", categories.CategoryViewSet, basename="api-category")
router.register("alarms", alarms.AlarmViewSet, basename="api-alarm")
router.register("keys", keys.KeyViewSet, basename="api-key")
router.register("key-sets", keys.KeySetViewSet, basename="api-key-set")
router.register("key-issues", keys.KeyIssueViewSet, basename="api-key-issue")
router.register("found-items", lost_found.FoundItemViewSet, basename="api-found-item")
router.register("procedures", procedures.ProcedureViewSet, basename="api-procedure")
router.register("procedure-ticks", procedures.ProcedureTickViewSet, basename="api-procedure-tick")

# Reports, histories, exports, retention and the audit logs: next to the record they belong
# to, each in its own module (api/history.py, api/reports.py, ...). Listed before the router's
# routes, which they do not overlap.
records = [
    path("incidents/<int:pk>/history/", history.incident_history, name="api-incident-history"),
    path("alarms/<int:pk>/history/", history.alarm_history, name="api-alarm-history"),
    path("runs/<int:pk>/history/", history.run_history, name="api-run-history"),
    path("shifts/<int:pk>/history/", history.shift_history, name="api-shift-history"),
    path("sites/<str:code>/history/", history.site_history, name="api-site-history"),
    path("shifts/<int:pk>/report/", reports.shift_report, name="api-shift-report"),
    path("sites/<str:code>/activity/<str:day>/", reports.site_activity, name="api-site-activity"),
    path(
        "sites/<str:code>/rounds-compliance/",
        reports.rounds_compliance,
        name="api-rounds-compliance",
    ),
    path(
        "incidents/<int:pk>/police-package/",
        exports.police_package,
        name="api-incident-police-package",
    ),
    path("incidents/<int:pk>/legal-hold/", retention.place_hold, name="api-incident-legal-hold"),
    path(
        "incidents/<int:pk>/legal-hold/release/",
        retention.release_hold,
        name="api-incident-legal-hold-release",
    ),
    path("sites/<str:code>/retention/", retention.site_retention, name="api-site-retention"),
    path(
        "sites/<str:code>/lone-worker-policy/",
        lone_worker.site_policy,
        name="api-site-lone-worker-policy",
    ),
    path("audit/view-log/", audit.view_log_list, name="api-audit-view-log"),
    path("audit/disclosures/", audit.disclosure_list, name="api-audit-disclosures"),
]

urlpatterns = [
    path("me/", me.me, name="api-me"),
    path("sync/", sync.sync, name="api-sync"),
    path("panic/", panic.panic, name="api-panic"),
    path("check-ins/", lone_worker.check_in, name="api-check-in"),
    # The visitor day sheet: one site, one day per call (docs/visitors.md).
    path("sites/<str:code>/visitors/", visitors.sign_in, name="api-visitor-sign-in"),
    path("sites/<str:code>/visitors/on-site/", visitors.on_site, name="api-visitor-on-site"),
    path(
        "sites/<str:code>/visitors/<int:pk>/sign-out/",
        visitors.sign_out,
        name="api-visitor-sign-out",
    ),
    path("sites/<str:code>/visitors/<str:day>/", visitors.day_sheet, name="api-visitor-sheet"),
    path(
        "webhooks/kisi/<str:site_code>/",
        access.KisiWebhookView.as_view(),
        name="api-kisi-webhook",
    ),
    path(
        "webhooks/unifi/<str:site_code>/",
        access_webhooks.UnifiWebhookView.as_view(),
        name="api-unifi-webhook",
    ),
    path(
        "webhooks/verkada/<str:site_code>/",
        access_webhooks.VerkadaWebhookView.as_view(),
        name="api-verkada-webhook",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (the CSP allows no inline script);
    # its page keeps one <style> block that carries no nonce.
    path(
        "docs/",
        csp_update({"style-src": [SELF, UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    *records,
    path("", include(router.urls)),
]
