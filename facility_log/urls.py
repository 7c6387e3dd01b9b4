from django.contrib.auth import views as auth_views
from django.urls import path

from facility_log.views import access, home, sites

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", home.home, name="home"),
    path("sites/<str:code>/", sites.site_detail, name="site-page"),
    path("sites/<str:code>/edit/", sites.site_edit, name="site-edit"),
    path("sites/<str:code>/zones/add/", sites.zone_add, name="zone-add"),
    path("sites/<str:code>/history/", sites.site_history, name="site-history"),
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
]
