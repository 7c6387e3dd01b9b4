from django.contrib.auth import views as auth_views
from django.urls import path

from facility_log.views import home, incidents, sites

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", home.home, name="home"),
    path("sites/<str:code>/", sites.site_detail, name="site-page"),
    path("sites/<str:code>/edit/", sites.site_edit, name="site-edit"),
    path("sites/<str:code>/zones/add/", sites.zone_add, name="zone-add"),
    path("sites/<str:code>/history/", sites.site_history, name="site-history"),
    path("incidents/", incidents.incident_list, name="incident-list"),
    path("incidents/new/", incidents.incident_new, name="incident-new"),
    path("incidents/review/", incidents.review_queue, name="incident-review-queue"),
    path("incidents/export.csv", incidents.incident_export, name="incident-export"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident-page"),
    path("incidents/<int:pk>/edit/", incidents.incident_edit, name="incident-edit"),
    path("incidents/<int:pk>/history/", incidents.incident_history, name="incident-history"),
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
]
