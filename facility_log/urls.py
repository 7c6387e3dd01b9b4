from django.contrib.auth import views as auth_views
from django.urls import path

from facility_log.views import audit, home, sites

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", home.home, name="home"),
    path("sites/<str:code>/", sites.site_detail, name="site-page"),
    path("sites/<str:code>/edit/", sites.site_edit, name="site-edit"),
    path("sites/<str:code>/zones/add/", sites.zone_add, name="zone-add"),
    path("sites/<str:code>/history/", sites.site_history, name="site-history"),
    path("audit/", audit.audit_overview, name="audit-overview"),
]
