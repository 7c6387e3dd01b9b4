from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from facility_log.api import access, access_webhooks, incidents, me, rounds, shifts, sites, sync

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
router.register("shift-entries", shifts.ShiftEntryViewSet, basename="api-shift-entry")
router.register("access-events", access.AccessEventViewSet, basename="api-access-event")

urlpatterns = [
    path("me/", me.me, name="api-me"),
    path("sync/", sync.sync, name="api-sync"),
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
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
