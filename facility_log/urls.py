from django.contrib.auth import views as auth_views
from django.urls import path

from facility_log.views import home, rounds, sites

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", home.home, name="home"),
    path("sites/<str:code>/", sites.site_detail, name="site-page"),
    path("sites/<str:code>/edit/", sites.site_edit, name="site-edit"),
    path("sites/<str:code>/zones/add/", sites.zone_add, name="zone-add"),
    path("sites/<str:code>/history/", sites.site_history, name="site-history"),
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
]
