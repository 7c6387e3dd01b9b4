from django.contrib.auth import views as auth_views
from django.urls import path

from facility_log.views import (
    access,
    access_mapping,
    audit,
    exports,
    home,
    incidents,
    links,
    retention,
    rounds,
    shifts,
    sites,
    tablet,
    two_factor,
)

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The second sign-in step (facility_log/views/two_factor.py)
    path("account/two-factor/", two_factor.overview, name="two-factor"),
    path("account/two-factor/verify/", two_factor.verify, name="two-factor-verify"),
    path("account/two-factor/setup/", two_factor.setup, name="two-factor-setup"),
    path("", home.home, name="home"),
    # The guard's tablet (offline-first; see facility_log/static/facility_log/js/tablet/)
    path("tablet/", tablet.tablet_app, name="tablet"),
    path("tablet/sw.js", tablet.service_worker, name="tablet-sw"),
    path("tablet/manifest.webmanifest", tablet.manifest, name="tablet-manifest"),
    # Shifts and daily activity reports (facility_log/views/shifts.py)
    path("shifts/<int:pk>/", shifts.shift_report, name="shift-report"),
    path("shifts/<int:pk>/report.pdf", shifts.shift_report_pdf, name="shift-report-pdf"),
    path("sites/<str:code>/shifts/", shifts.site_shifts, name="site-shifts"),
    path("sites/<str:code>/activity/<str:day>/", shifts.site_activity, name="site-activity"),
    path(
        "sites/<str:code>/activity/<str:day>/report.pdf",
        shifts.site_activity_pdf,
        name="site-activity-pdf",
    ),
    path("sites/<str:code>/", sites.site_detail, name="site-page"),
    path("sites/<str:code>/edit/", sites.site_edit, name="site-edit"),
    path("sites/<str:code>/zones/add/", sites.zone_add, name="zone-add"),
    path("sites/<str:code>/history/", sites.site_history, name="site-history"),
    path("sites/<str:code>/retention/", retention.site_retention, name="site-retention"),
    path("sites/<str:code>/purges/", retention.site_purges, name="site-purges"),
    path("audit/", audit.audit_overview, name="audit-overview"),
    path("audit/views/", audit.view_log_search, name="audit-view-log"),
    path(
        "access/alarms/<int:pk>/open-incident/",
        links.alarm_open_incident,
        name="access-alarm-open-incident",
    ),
    path(
        "rounds/scans/<int:pk>/report-incident/",
        links.scan_report_incident,
        name="round-scan-report-incident",
    ),
    path(
        "incidents/<int:pk>/police-package/",
        exports.incident_police_package,
        name="incident-police-package",
    ),
    path("incidents/", incidents.incident_list, name="incident-list"),
    path("incidents/new/", incidents.incident_new, name="incident-new"),
    path("incidents/review/", incidents.review_queue, name="incident-review-queue"),
    path("incidents/export.csv", incidents.incident_export, name="incident-export"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident-page"),
    path("incidents/<int:pk>/edit/", incidents.incident_edit, name="incident-edit"),
    path("incidents/<int:pk>/history/", incidents.incident_history, name="incident-history"),
    path(
        "incidents/<int:pk>/legal-hold/<str:action>/",
        retention.incident_legal_hold,
        name="incident-legal-hold",
    ),
    path(
        "incidents/<int:pk>/supplements/", incidents.incident_supplement, name="incident-supplement"
    ),
    path("incidents/<int:pk>/correct/", incidents.incident_correct, name="incident-correct"),
    path("incidents/<int:pk>/attach/", incidents.incident_attach, name="incident-attach"),
    path(
        "incidents/<int:pk>/add/<str:kind>/", incidents.incident_add_item, name="incident-add-item"
    ),
    path(
        "incidents/<int:pk>/<str:action>/",
        incidents.incident_transition,
        name="incident-transition",
    ),
    path(
        "attachments/<int:pk>/download/",
        incidents.attachment_download,
        name="attachment-download",
    ),
    # Guard rounds
    path("sites/<str:code>/rounds/", rounds.rounds_site, name="rounds-site"),
    path(
        "sites/<str:code>/rounds/routes/<int:route_id>/start/",
        rounds.round_start,
        name="round-start",
    ),
    path("sites/<str:code>/rounds/live/", rounds.rounds_live, name="rounds-live"),
    path("sites/<str:code>/rounds/report/", rounds.rounds_report, name="rounds-report"),
    path("sites/<str:code>/rounds/report.csv", rounds.rounds_report_csv, name="rounds-report-csv"),
    path("sites/<str:code>/checkpoints/", rounds.checkpoints, name="checkpoints"),
    path("sites/<str:code>/checkpoints/add/", rounds.checkpoint_add, name="checkpoint-add"),
    path(
        "sites/<str:code>/checkpoints/labels.pdf",
        rounds.checkpoint_labels,
        name="checkpoint-labels",
    ),
    path("checkpoints/<int:pk>/edit/", rounds.checkpoint_edit, name="checkpoint-edit"),
    path("rounds/runs/<int:pk>/", rounds.round_run, name="round-run"),
    path("rounds/runs/<int:pk>/scan/", rounds.round_scan, name="round-scan"),
    path("rounds/runs/<int:pk>/finish/", rounds.round_finish, name="round-finish"),
    path("access/alarms/", access.alarm_console, name="access-alarm-console"),
    path("access/alarms/feed/", access.alarm_feed, name="access-alarm-feed"),
    path("access/alarms/<int:pk>/", access.alarm_detail, name="access-alarm-page"),
    path(
        "access/alarms/<int:pk>/acknowledge/",
        access.alarm_acknowledge,
        name="access-alarm-acknowledge",
    ),
    path("access/alarms/<int:pk>/resolve/", access.alarm_resolve, name="access-alarm-resolve"),
    path("access/events/", access.event_list, name="access-event-list"),
    path("access/doors/", access.door_list, name="access-door-list"),
    path("access/import/", access.import_page, name="access-import"),
    path("access/import/<int:pk>/", access.import_result, name="access-import-result"),
    path("access/import/jobs/<int:pk>/", access.import_job, name="access-import-job"),
    path(
        "access/import/jobs/<int:pk>/progress/",
        access.import_job_progress,
        name="access-import-job-progress",
    ),
    path("access/vendor-types/", access_mapping.vendor_types, name="access-vendor-types"),
]
