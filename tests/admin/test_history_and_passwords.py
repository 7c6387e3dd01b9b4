"""The admin's history pages are read-only, and a password is changed only with a reason.

These are the cases found in daily operation (issue #11): simple-history's "revert" saved an
approved incident back to draft and an acknowledged alarm back to "new" with no reason, and
the password form saved without one.
"""

import pytest
from django.contrib.auth import get_user_model

from facility_log.models import Alarm, HistoricalUser, Incident, LedgerEntry
from facility_log.services import access
from facility_log.services import incidents as svc
from tests.access.helpers import forced_open_at
from tests.admin.posting import form_fields
from tests.incident_factories import submitted
from tests.personas import PASSWORD

NEW_PASSWORD = "Another-long-passphrase-99"


def _revert_url(model, obj, history_row) -> str:
    return f"/admin/facility_log/{model._meta.model_name}/{obj.pk}/history/{history_row.pk}/"


def _old_version_form(instance, **extra) -> dict:
    """What simple-history's revert form posted: the old version's fields and a reason."""
    data = {
        field.name: ""
        if getattr(instance, field.attname) is None
        else getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if not field.primary_key
    }
    return {**data, "change_reason": "restore", **extra}


@pytest.mark.django_db
def test_reverting_an_approved_incident_in_the_admin_is_refused(personas, client_for):
    incident = svc.approve_incident(submitted(personas), personas.supervisor_a, comment="ok")
    first = Incident.history.filter(id=incident.pk).earliest()
    assert first.status == "draft"
    client = client_for("admin")
    url = _revert_url(Incident, incident, first)
    entries = LedgerEntry.objects.count()

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert not form_fields(html) and "Revert" not in html  # no form but the sign-out
    assert "none is restored" in html
    assert first.narrative in html  # the old version is shown
    response = client.post(url, _old_version_form(first.instance, narrative="Rewritten"))

    assert response.status_code == 403
    current = Incident.objects.get(pk=incident.pk)
    assert (current.status, current.number, current.narrative) == (
        "approved",
        incident.number,
        incident.narrative,
    )
    assert LedgerEntry.objects.count() == entries


@pytest.mark.django_db
def test_reverting_an_acknowledged_alarm_in_the_admin_is_refused(personas, client_for):
    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    access.acknowledge_alarm(alarm, personas.supervisor_a, note="guard sent")
    first = Alarm.history.filter(id=alarm.pk).earliest()
    client = client_for("admin")
    url = _revert_url(Alarm, alarm, first)

    assert not form_fields(client.get(url).content.decode())
    response = client.post(url, _old_version_form(first.instance))

    assert response.status_code == 403
    assert Alarm.objects.get(pk=alarm.pk).state == "acknowledged"
    assert Alarm.history.filter(id=alarm.pk).count() == 2


@pytest.mark.django_db
def test_history_list_stays_readable_and_names_no_revert(personas, client_for):
    incident = submitted(personas)
    page = client_for("admin").get(f"/admin/facility_log/incident/{incident.pk}/history/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "View history" in html and "submitted for review" in html


@pytest.mark.django_db
def test_admin_password_change_needs_a_reason_and_stamps_it(personas, client_for):
    client = client_for("admin")
    url = f"/admin/auth/user/{personas.guard_a.pk}/password/"
    assert "Reason for this change" in client.get(url).content.decode()
    form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    rows = HistoricalUser.objects.filter(id=personas.guard_a.pk).count()

    refused = client.post(url, form)
    assert refused.status_code == 200
    guard = get_user_model().objects.get(pk=personas.guard_a.pk)
    assert guard.check_password(PASSWORD)
    assert HistoricalUser.objects.filter(id=guard.pk).count() == rows

    saved = client.post(url, {**form, "change_reason": "guard forgot it"})
    assert saved.status_code == 302
    guard.refresh_from_db()
    assert guard.check_password(NEW_PASSWORD)
    row = HistoricalUser.objects.filter(id=guard.pk).latest()
    assert (row.history_change_reason, row.history_user_name) == (
        "password changed: guard forgot it",
        "admin",
    )


@pytest.mark.django_db
def test_the_admin_sites_own_password_page_leads_to_the_one_with_a_reason(personas, client_for):
    client = client_for("admin")
    own = f"/admin/auth/user/{personas.admin.pk}/password/"
    assert client.get("/admin/password_change/")["Location"] == own
    form = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post("/admin/password_change/", form)
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=personas.admin.pk).check_password(PASSWORD)
