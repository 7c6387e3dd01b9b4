from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from facility_log.api import incidents, me, sites

router = DefaultRouter()
router.register("sites", sites.SiteViewSet, basename="api-site")
router.register("zones", sites.ZoneViewSet, basename="api-zone")
router.register("memberships", sites.MembershipViewSet, basename="api-membership")
router.register("incidents", incidents.IncidentViewSet, basename="api-incident")
router.register("attachments", incidents.AttachmentViewSet, basename="api-attachment")

urlpatterns = [
    path("me/", me.me, name="api-me"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
