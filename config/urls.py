from django.contrib import admin
from django.urls import include, path

from facility_log.admin_base import own_password_change

urlpatterns = [
    # Before the admin's own: a password is changed with a reason (facility_log/admin_base.py).
    path("admin/password_change/", own_password_change),
    path("admin/", admin.site.urls),
    path("api/v1/", include("facility_log.api.urls")),
    path("", include("facility_log.urls")),
]

handler404 = "facility_log.views.errors.not_found"
handler500 = "facility_log.views.errors.server_error"
