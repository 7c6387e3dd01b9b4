"""The Django admin: every model there, changes recorded with a reason, nothing deleted."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model

from facility_log.models import Site

# An incident's parts are shown on its own admin page (inlines), never listed across
# incidents (PRIVACY.md).
INCIDENT_PARTS = {"InvolvedPerson", "Vehicle", "PropertyItem", "Supplement", "Attachment", "Review"}
# Kept out of the admin on purpose: a person's notices and choices are theirs (their own pages,
# docs/notifications.md); alarm priorities are set by the site's managers on their own page
# with a reason; a panic press is shown through its alarm (which the admin lists). The
# lone-worker rule is set by the site's managers on its own page, with a reason; a check-in and
# a missed one are shown through the shift and the alarm. A visitor
# is on its site's day sheet only: an admin list with a search box would find a name across
# days and sites (PRIVACY.md). Post orders
# are written on their own pages, where every edit is a new version (docs/post-orders.md). A
# person's language is their own choice on their settings page (docs/translations.md).
OWN_PAGES_ONLY = {
    "Notification",
    "NotificationPreference",
    "AlarmPriority",
    "PanicAlert",
    "LoneWorkerPolicy",
    "CheckIn",
    "MissedCheckIn",
    "Visitor",
    # Key control has its own pages (facility_log/views/keys.py).
    "Key",
    "KeySet",
    "KeyIssue",
    # Lost and found too (facility_log/views/lost_found.py).
    "FoundItem",
    # Guided procedures: written on /sites/<CODE>/procedures/, ticked on alarms and incidents.
    "Procedure",
    "ProcedureTick",
    "PostOrder",
    "PostOrderVersion",
    "PostOrderAttachment",
    "PostOrderAck",
    "LanguagePreference",
    # An image attachment's report thumbnail: derived bytes, shown in the police package's PDF.
    "AttachmentThumbnail",
    # The open alarms counted per site, type and state: kept by the database, shown on the
    # alarm console.
    "OpenAlarmCount",
}


def test_every_model_has_an_admin():
    from django.apps import apps

    from facility_log.models import Incident

    models = [
        m
        for m in apps.get_app_config("facility_log").get_models()
        if not m.__name__.startswith("Historical")
    ]
    missing = {m.__name__ for m in models if not admin.site.is_registered(m)}
    assert missing == INCIDENT_PARTS | OWN_PAGES_ONLY
    inlines = {inline.model.__name__ for inline in admin.site._registry[Incident].inlines}
    assert inlines == INCIDENT_PARTS
    assert admin.site.is_registered(get_user_model())


@pytest.mark.django_db
def test_changing_a_site_in_the_admin_leaves_history_with_reason(personas, client_for):
    client = client_for("admin")
    url = f"/admin/facility_log/site/{personas.site_a.pk}/change/"
    assert "Reason for this change" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "code": "ALPHA",
            "name": "Alpha (admin)",
            "time_zone": "Europe/Berlin",
            "address": "",
            "is_active": "on",
            "change_reason": "fixed the name",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Site.history.filter(id=personas.site_a.pk).latest()
    assert (row.name, row.history_user_name, row.history_change_reason) == (
        "Alpha (admin)",
        "admin",
        "fixed the name",
    )


@pytest.mark.django_db
def test_admin_refuses_a_change_without_reason(personas, client_for):
    url = f"/admin/facility_log/site/{personas.site_a.pk}/change/"
    response = client_for("admin").post(
        url, {"code": "ALPHA", "name": "No reason", "time_zone": "UTC", "is_active": "on"}
    )
    assert response.status_code == 200
    assert Site.objects.get(pk=personas.site_a.pk).name == "Alpha Plant"


@pytest.mark.django_db
def test_admin_offers_no_delete(personas, client_for):
    client = client_for("admin")
    response = client.get(f"/admin/facility_log/site/{personas.site_a.pk}/delete/")
    assert response.status_code == 403
    assert b"delete_selected" not in client.get("/admin/facility_log/site/").content
    assert Site.objects.filter(pk=personas.site_a.pk).exists()


@pytest.mark.django_db
def test_admin_user_change_page_works_and_is_recorded(personas, client_for):
    client = client_for("admin")
    url = f"/admin/auth/user/{personas.guard_a.pk}/change/"
    assert client.get(url).status_code == 200
    assert client.get(f"/admin/auth/user/{personas.guard_a.pk}/history/").status_code == 200


@pytest.mark.django_db
def test_non_staff_cannot_reach_the_admin(personas, client_for):
    response = client_for("manager_ab").get("/admin/facility_log/site/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_evidence_and_append_only_records_cannot_be_added_changed_or_deleted_in_the_admin(
    personas,
):
    """Even a superuser only looks at append-only rows, runs and round exceptions here."""
    from django.contrib import admin
    from django.test import RequestFactory

    from facility_log.models import Incident, RoundException, Run
    from facility_log.models.base import AppendOnlyModel

    request = RequestFactory().get("/admin/")
    request.user = personas.admin
    checked = []
    for model, model_admin in admin.site._registry.items():
        if issubclass(model, AppendOnlyModel) or model in (Run, RoundException):
            assert not model_admin.has_add_permission(request), model
            assert not model_admin.has_change_permission(request), model
            assert not model_admin.has_delete_permission(request), model
            checked.append(model.__name__)
    for inline in admin.site._registry[Incident].inlines:
        if issubclass(inline.model, AppendOnlyModel):
            inline = inline(Incident, admin.site)
            assert not inline.has_add_permission(request, None), inline.model
            assert not inline.has_change_permission(request, None), inline.model
            assert not inline.has_delete_permission(request, None), inline.model
            checked.append(inline.model.__name__)
    assert {"Attachment", "Supplement", "Scan", "Run", "LedgerEntry", "ShiftEntry"} <= set(checked)
