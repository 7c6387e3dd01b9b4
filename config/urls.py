from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("facility_log.api.urls")),
    path("", include("facility_log.urls")),
]

handler404 = "facility_log.views.errors.not_found"
handler500 = "facility_log.views.errors.server_error"
